"""y, score and item counts from the choices codes agree with the respondent path's own scoring."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest
from respondents import QUESTIONNAIRES

from survey_service.respond.answers import check_answers
from survey_service.results.choices import ItemCounter


def variants():
    social = QUESTIONNAIRES["social"]
    weighted = [msgspec.structs.replace(item, weight=1.0 + k % 3 / 2) for k, item in enumerate(social.items)]
    yield "unit weights", social
    yield "item weights", msgspec.structs.replace(social, items=weighted)
    yield "overall item", msgspec.structs.replace(social, overall_item="overall")
    halves = [msgspec.structs.replace(o, score=None if o.score is None else o.score / 3) for o in social.scale]
    yield "fractional scores", msgspec.structs.replace(social, scale=halves)


@pytest.mark.parametrize("name, questionnaire", list(variants()), ids=[v[0] for v in variants()])
def test_codes_give_the_stored_values(name, questionnaire):
    rng = np.random.default_rng(1)
    counter = ItemCounter(questionnaire)
    codes = [o.code for o in questionnaire.scale]
    scored = []
    for _ in range(200):
        answers = {item.id: codes[rng.integers(len(codes))] for item in questionnaire.rated_items}
        scored.append(check_answers(questionnaire, answers))
    matrix = np.frombuffer("".join(s.choices for s in scored).encode(), dtype=np.uint8).reshape(200, -1)
    y, score = counter.respondent_values(matrix[:, counter.columns])
    expected_y = np.array([np.nan if s.recognition is None else s.recognition for s in scored])
    expected_score = np.array([np.nan if s.score is None else s.score for s in scored])
    np.testing.assert_allclose(y, expected_y, rtol=1e-12)
    np.testing.assert_allclose(score, expected_score, rtol=1e-12)
    counts = counter.option_counts(matrix[:, counter.columns], np.zeros(200, dtype=np.int64), 1)
    first = questionnaire.rated_items[0].id
    chosen = [s.answers[first] for s in scored]
    assert counts[0, 0].tolist() == [chosen.count(c) for c in codes]
