"""The demo's simulated respondents: the same every time, spread over the window, flagged where they stuff."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from survey_service.core.groups import DEFAULT_QUESTIONNAIRES, Group
from survey_service.core.resources import questionnaires_dir
from survey_service.demo.county import demo_schools
from survey_service.demo.simulate import simulated_answers
from survey_service.questionnaire import load_questionnaires
from survey_service.respond.answers import check_answers

QUESTIONNAIRES = load_questionnaires(questionnaires_dir())
FORMS = {group: QUESTIONNAIRES[name] for group, name in DEFAULT_QUESTIONNAIRES.items()}
LINKS = {
    (s.code, g): f"{s.code}-{g.value}" for s in demo_schools() for g in Group if g.value not in ("deputy", "public")
}
LINKS |= {(None, Group.deputy): "county-deputy", (None, Group.public): "county-public"}
END = datetime(2030, 5, 12, 14, 0, tzinfo=UTC)
START = END - timedelta(days=1)


def test_the_same_seed_gives_the_same_respondents_whatever_the_clock():
    zone = ZoneInfo("Asia/Shanghai")
    first = simulated_answers(LINKS, FORMS, START, END, zone)
    again = simulated_answers(LINKS, FORMS, START, END, zone)
    later = simulated_answers(LINKS, FORMS, START + timedelta(hours=5), END + timedelta(hours=5), zone)
    assert first == again
    assert Counter(a.device_id for a in first) == Counter(a.device_id for a in later)
    assert 1400 <= len(first) <= 1600
    assert all(START <= a.at <= END for a in first) and [a.at for a in first] == sorted(a.at for a in first)
    # Every answer passes the questionnaire's own checks.
    for answer in first:
        group = next(g for (_, g), token in LINKS.items() if token == answer.token)
        check_answers(FORMS[group], answer.answers)
    # Parents are half the sample; a few phones answer many times (stuffing).
    groups = Counter(answer.token.rsplit("-", 1)[1] for answer in first)
    assert 0.45 < groups["parent"] / len(first) < 0.6
    repeats = Counter(a.device_id for a in first)
    assert sorted(n for n in repeats.values() if n >= 5) == [6, 7, 8]
