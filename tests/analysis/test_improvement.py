"""整改清单 (analysis/improvement.py): Benjamini–Hochberg on known true and false signals, small cells
listed but never tested, the contribution of each item to the county shortfall."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from analysis import CellTotals, Design, ItemTotals, School, Settings, Stratum
from analysis.improvement import FDR, benjamini_hochberg, improvement
from analysis.report import analyse
from support.improvement_county import generated

# Benjamini & Hochberg (1995), section 4: the 15 p-values of the myocardial infarction study.
BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719]
BH_1995 += [0.6528, 0.7590, 1.0000]
# Adjusted by hand: min over j ≥ i of p_(j) · 15 / j.
BH_1995_ADJUSTED = [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.0638571428571, 0.0638571428571, 0.0645, 0.0765]
BH_1995_ADJUSTED += [0.486, 0.5811818181818, 0.714875, 0.7532307692308, 0.8132142857143, 1.0]


def test_bh_on_the_published_example():
    adjusted = benjamini_hochberg(np.array(BH_1995))
    assert adjusted == pytest.approx(BH_1995_ADJUSTED, abs=1e-12)
    assert (adjusted <= 0.05).sum() == 4  # the paper rejects the four smallest at q = 0.05
    assert (adjusted <= FDR).sum() == 9
    shuffled = np.random.default_rng(3).permutation(15)
    assert benjamini_hochberg(np.array(BH_1995)[shuffled]) == pytest.approx(np.array(BH_1995_ADJUSTED)[shuffled])


def test_true_signals_found_and_false_discoveries_held_at_ten_percent():
    """40 counties of 30 schools x 6 items (about 330 answers a school, 110 per group): 6 school × item cells
    15 points below the county rate, every other cell at it. Any flagged cell that is not one of the 6 is
    false (group cells included: their null holds only nearly, as the low cells pull their group down)."""
    rng = np.random.default_rng(2026)
    fdp, power, flagged_total = [], [], 0
    for _ in range(40):
        county = generated(rng, per_stratum=(80, 140))
        totals, items = county.totals()
        found = improvement(county.design, totals, [(None, items)])
        assert found is not None and found.tested == 30 * 6 + 5 * 6 and not found.untested
        flagged = {(c.key, c.item) for c in found.flagged}
        true = flagged & county.below
        flagged_total += len(flagged)
        fdp.append((len(flagged) - len(true)) / max(len(flagged), 1))
        power.append(len(true) / len(county.below))
        assert all(c.p_adjusted <= FDR and c.gap < 0 for c in found.flagged)
    assert np.mean(fdp) <= FDR + 0.03
    assert np.mean(power) >= 0.95
    assert flagged_total >= 40 * 5


def test_no_signal_gives_few_flags():
    """Every cell at the county rate: BH keeps the chance of any flag at about 10% (the FDR is then the
    family-wise error rate)."""
    rng = np.random.default_rng(7)
    any_flag = []
    for _ in range(30):
        county = generated(rng, below=0)
        totals, items = county.totals()
        found = improvement(county.design, totals, [(None, items)])
        assert found is not None
        any_flag.append(bool(found.flagged))
    assert np.mean(any_flag) <= FDR + 0.1


def _tiny_design(settings: Settings | None = None) -> Design:
    schools = [School(code=c, name=n) for c, n in (("A", "甲小学"), ("B", "乙小学"), ("C", "丙小学"), ("D", "丁小学"))]
    strata = [Stratum(group="parent", school=s.code, population=400) for s in schools]
    strata.append(Stratum(group="public"))
    return Design(schools=schools, strata=strata, settings=settings or Settings())


def _cell(school, group, n, recognised):
    return CellTotals(group=group, school=school, n=n, sum_y=recognised, sum_y2=recognised)


def _item(item, school, group, rated, recognised):
    return ItemTotals(item=item, group=group, school=school, n_rated=rated, n_recognised=recognised)


def _fourth_school_all_dissatisfied(answers: int):
    """Three schools' parents about 90% 认可 (100 each), 丁小学's `answers` parents all 不满意, 50 public."""
    totals = [_cell("A", "parent", 100, 90), _cell("B", "parent", 100, 91), _cell("C", "parent", 100, 89)]
    totals += [_cell("D", "parent", answers, 0), _cell(None, "public", 50, 45)]
    items = [_item("q1", t.school, t.group, t.n, int(t.sum_y)) for t in totals]
    found = improvement(_tiny_design(), totals, [(None, items)])
    assert found is not None
    return found


def test_small_cells_listed_as_untested_never_as_problems():
    """丁小学 has 4 answers, all 不满意: fewer than min_cell_size (5), so it is listed as not tested."""
    found = _fourth_school_all_dissatisfied(4)
    assert [(c.key, c.name, c.n) for c in found.untested] == [("D", "丁小学", 4)]
    assert not any(c.key == "D" for c in found.flagged)
    assert found.tested == 3 + 2  # three schools, two groups
    assert found.min_rated == 5


def test_a_cell_whose_answers_are_all_equal_is_tested_with_the_variance_it_would_have_at_the_county_rate():
    """丁小学's 8 answers all 不满意: design variance 0 by construction; tested with P(1 − P)/8 at the county's
    rate P, not with 0 (which would make any such cell certain)."""
    found = _fourth_school_all_dissatisfied(8)
    d = next(c for c in found.flagged if c.key == "D")
    assert d.estimate == 0 and d.se == 0
    assert d.se_difference**2 > d.county * (1 - d.county) / 8
    assert d.p_adjusted < 0.001


def test_contribution_to_the_shortfall_is_the_weighted_gap_below_target():
    """Per item Σ_g a_g · max(0, target − p_g,item), a_g the county's group weights: checked by hand."""
    design = _tiny_design(Settings(target=0.85))
    totals = [_cell(s, "parent", 100, 80) for s in "ABCD"] + [_cell(None, "public", 100, 80)]
    items = [_item("q1", s, "parent", 100, 80) for s in "ABCD"] + [_item("q1", None, "public", 100, 70)]
    items += [_item("q2", s, "parent", 100, 90) for s in "ABCD"] + [_item("q2", None, "public", 100, 60)]
    result = analyse(design, totals, items)
    found = result.improvement
    assert found is not None and result.overall is not None
    assert result.overall.group_weights == {"parent": 0.5, "public": 0.5}
    q1, q2 = sorted(found.items, key=lambda row: row.item)
    assert q1.groups == pytest.approx({"parent": 0.5 * 0.05, "public": 0.5 * 0.15})
    assert q1.contribution == pytest.approx(0.10)
    assert q2.groups == pytest.approx({"parent": 0.0, "public": 0.5 * 0.25})
    assert q2.contribution == pytest.approx(0.125)
    assert [row.item for row in found.items] == ["q2", "q1"]  # the costlier first
    assert q2.share == pytest.approx(0.125 / 0.225)
    assert q1.county == pytest.approx(0.75) and q2.county == pytest.approx(0.75)


def test_in_the_json_results():
    county = generated(np.random.default_rng(5))
    totals, items = county.totals()
    result = analyse(county.design, totals, items)
    body = msgspec.json.decode(msgspec.json.encode(result))
    listing = body["improvement"]
    assert listing["fdr"] == FDR and listing["tested"] == 210
    first = listing["flagged"][0]
    assert set(first) >= {"kind", "key", "name", "item", "estimate", "ci_low", "ci_high", "gap", "p_adjusted"}
    assert first["gap"] == pytest.approx(first["estimate"] - first["county"])
    adjusted = [c["p_adjusted"] for c in listing["flagged"]]
    assert adjusted == sorted(adjusted)
    item_rows = {row.key: row.overall.estimate for row in result.items}
    for cell in listing["flagged"]:
        assert cell["county"] == pytest.approx(item_rows[cell["item"]], abs=1e-12)
    school = {(s.key): s for s in result.schools}
    assert {c["name"] for c in listing["flagged"] if c["kind"] == "school"} <= {s.name for s in school.values()}
