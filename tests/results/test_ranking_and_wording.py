"""Numbers that read right: a school with five answers, all 认可 (100%, interval 47.8%–100%), is not
put at the top of the ranking but listed apart as 样本不足; 答卷人数 and 有效样本量 are named apart and
the effective sample size exceeding n is explained in words; p-values print as "< 0.001"; notes are
in Chinese."""

from __future__ import annotations

import re

from analysis import CellTotals, Design, School, Settings, Stratum, analyse
from survey_service.console.results_view import headline, sample_note
from survey_service.results.markdown import number_text, p_value_text
from survey_service.results.note_texts import note_texts
from survey_service.results.ranking import IMPRECISE, RANKED, rank_schools, ranked_schools_table

DESIGN = Design(
    schools=[School(code="A", name="甲小学"), School(code="B", name="乙小学"), School(code="C", name="丙小学")],
    strata=[
        Stratum(group="parent", school="A", population=40),
        Stratum(group="parent", school="B", population=900),
        Stratum(group="parent", school="C", population=900),
        Stratum(group="public"),
    ],
    settings=Settings(),
)


def cells(a: tuple[int, int], b: tuple[int, int], c: tuple[int, int] = (0, 0)) -> list[CellTotals]:
    found = [CellTotals(group="public", n=40, sum_y=36, sum_y2=36)]
    for school, (n, yes) in zip("ABC", (a, b, c)):
        if n:
            found.append(CellTotals(group="parent", school=school, n=n, sum_y=yes, sum_y2=yes))
    return found


def test_a_five_answer_school_at_100_percent_is_listed_as_too_few_not_first():
    result = analyse(DESIGN, cells((5, 5), (300, 270), (250, 215)))
    a = next(s for s in result.schools if s.key == "A")
    assert a.overall.estimate == 1.0 and a.overall.ci_high - a.overall.ci_low > 0.30
    schools = rank_schools(result)
    assert [s.key for s in schools.ranked] == ["B", "C"]  # 90% above 86%; A's 100% not among them
    assert [s.key for s in schools.imprecise] == ["A"]
    table = ranked_schools_table(result)
    titles = [c.title for c in table.columns]
    rows = {row[titles.index("学校")]: row for row in table.rows}
    assert rows["乙小学"][0] == 1 and rows["丙小学"][0] == 2 and rows["甲小学"][0] == ""
    assert rows["乙小学"][titles.index("排名说明")] == RANKED and rows["甲小学"][titles.index("排名说明")] == IMPRECISE
    half = rows["甲小学"][titles.index("区间半宽")]
    assert isinstance(half, float) and half > 0.15  # the precision stands beside the estimate
    assert [row[titles.index("学校")] for row in table.rows] == ["乙小学", "丙小学", "甲小学"]


def test_n_and_the_effective_sample_size_are_told_apart_in_words():
    # Most of each school's parents answered (35 of 40, 10 of 12): the finite population correction
    # makes n_eff exceed n.
    nearly_all = Design(
        schools=DESIGN.schools[:2],
        strata=[Stratum(group="parent", school="A", population=40), Stratum(group="parent", school="B", population=12)],
        settings=Settings(),
    )
    result = analyse(
        nearly_all,
        [
            CellTotals(group="parent", school="A", n=35, sum_y=30, sum_y2=30),
            CellTotals(group="parent", school="B", n=10, sum_y=9, sum_y2=9),
        ],
    )
    o = result.overall
    assert o is not None and o.n_eff is not None and o.n_eff > o.n
    note = sample_note(o)
    assert f"答卷人数 {o.n:,} 人" in note and f"有效样本量 {o.n_eff:,.0f}" in note
    assert "大于答卷人数" in note and "有限总体校正" in note
    shown = headline(result)
    assert shown is not None and shown.n == f"{o.n:,}" and shown.sample_note == note
    # Unequal weights instead: n_eff below n, said so.
    result = analyse(DESIGN, cells((5, 4), (200, 150), (200, 190)))
    o = result.overall
    assert o is not None and o.n_eff is not None and o.n_eff < o.n
    assert "小于答卷人数" in sample_note(o)


def test_p_values_and_numbers_print_without_exponents():
    assert p_value_text(1.007e-27) == "< 0.001" and p_value_text(0.0123) == "0.012" and p_value_text(1.0) == "> 0.999"
    assert number_text(1355.2) == "1,355" and "e" not in number_text(0.00001234)
    result = analyse(DESIGN, cells((35, 34), (300, 290)))
    assert result.overall is not None and result.overall.p_value < 0.001
    assert headline(result).p_value == "< 0.001"


def test_the_notes_are_chinese():
    result = analyse(DESIGN, cells((5, 5), (0, 0)))
    texts = note_texts(result)
    assert texts and any("尚无有效答卷" in t and "只代表已应答的层" in t for t in texts)
    assert not any(re.search(r"[a-z]{2,}", t) for t in texts), texts  # abbreviations (NCHS) only
