"""A tally of the respondent path's own scoring gives per-item totals equal to counting the answers
one by one, for every kind of questionnaire."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import numpy as np
import pytest

from support.respondents import QUESTIONNAIRES
from survey_service.ledger.tally import Counted, Tally
from survey_service.respond.answers import check_answers
from survey_service.results.choices import ItemCounter

NOW = datetime(2030, 5, 10, 9, 30, tzinfo=UTC)


def variants():
    social = QUESTIONNAIRES["social"]
    weighted = [msgspec.structs.replace(item, weight=1.0 + k % 3 / 2) for k, item in enumerate(social.items)]
    yield "unit weights", social
    yield "item weights", msgspec.structs.replace(social, items=weighted)
    yield "overall item", msgspec.structs.replace(social, overall_item="overall")
    halves = [msgspec.structs.replace(o, score=None if o.score is None else o.score / 3) for o in social.scale]
    yield "fractional scores", msgspec.structs.replace(social, scale=halves)


def as_counted(scored) -> Counted:
    """One valid answer as a tally counts it."""
    return Counted(
        survey=1,
        link=1,
        questionnaire_id="social",
        questionnaire_version="test",
        valid=True,
        exclusion="",
        kept="",
        flags="",
        recognition=scored.recognition,
        score=scored.score,
        choices=scored.choices,
        submitted_at=NOW,
    )


@pytest.mark.parametrize("name, questionnaire", list(variants()), ids=[v[0] for v in variants()])
def test_item_totals_from_a_tally_equal_counting_each_answer(name, questionnaire):
    rng = np.random.default_rng(1)
    codes = [o.code for o in questionnaire.scale]
    scale = {o.code: o for o in questionnaire.scale}
    tally, scored = Tally(), []
    for _ in range(200):
        answers = {item.id: codes[rng.integers(len(codes))] for item in questionnaire.rated_items}
        answers["suggestions"] = "多开展亲子活动"
        s = check_answers(questionnaire, answers)
        scored.append(s)
        tally.add(as_counted(s))
    rated = [s for s in scored if s.recognition is not None]
    assert tally.returned == 200 and tally.n == len(rated) and tally.last_at == "2030-05-10T09:30:00.000000+00:00"
    assert tally.sum_y == pytest.approx(sum(s.recognition for s in rated), rel=1e-12)
    assert tally.validity == ({"unrated": 200 - len(rated)} if len(rated) < 200 else {})
    counter = ItemCounter(questionnaire)
    assert counter.fits(tally.choices)
    totals = {t.item: t for t in counter.totals(tally.choices, "parent", "WQ01")}
    assert set(totals) == {item.id for item in questionnaire.rated_items}
    for item in questionnaire.rated_items:
        chosen = [scale[s.answers[item.id]] for s in rated]
        counted = [o for o in chosen if not o.excluded]
        assert totals[item.id].n_rated == len(counted)
        assert totals[item.id].n_recognised == sum(o.recognised for o in counted)
        assert totals[item.id].sum_score == pytest.approx(sum(o.score for o in counted), rel=1e-12)


def test_a_tally_from_another_questionnaire_does_not_fit():
    social, student = QUESTIONNAIRES["social"], QUESTIONNAIRES["student"]
    s = check_answers(student, {item.id: "satisfied" for item in student.rated_items})
    tally = Tally()
    tally.add(as_counted(s))
    assert len(student.items) != len(social.items)
    assert not ItemCounter(social).fits(tally.choices)
