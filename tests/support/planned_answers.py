"""A small round of answers as the respondent path scores them, with a few excluded and flagged: the
results page, report and workbook tests and the results browser test read the same one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import msgspec
import numpy as np

from support.respondents import COLUMNS as RESPONDENT_COLUMNS
from survey_service.core.groups import DEFAULT_QUESTIONNAIRES, Group
from survey_service.core.resources import questionnaires_dir
from survey_service.questionnaire import load_questionnaires
from survey_service.respond.answers import check_answers

QUESTIONNAIRES = load_questionnaires(questionnaires_dir())
# (group, school code or None for county groups, respondents): WQ05's three parents are too few to show.
PLAN = [
    ("parent", "WQ01", 8),
    ("student", "WQ01", 6),
    ("teacher", "WQ01", 5),
    ("parent", "WQ02", 7),
    ("student", "WQ02", 5),
    ("parent", "WQ19", 6),
    ("student", "WQ19", 6),
    ("parent", "WQ05", 3),
    ("deputy", None, 4),
    ("public", None, 5),
]
COLUMNS = [*RESPONDENT_COLUMNS, "flags", "device_hash", "network_hash", "agent_hash"]
DEVICE_HASH, NONCE_MARK = "d3v1ceha5h", "n0nce"


def planned_rows(survey_id: int, links: dict, plan=PLAN, seed: int = 4) -> list[list[object]]:
    """Mostly 认可 answers, scored by the respondent path's own rule; two excluded after review, one flagged."""
    rng = np.random.default_rng(seed)
    rows = []
    for group, school, count in plan:
        questionnaire = QUESTIONNAIRES[DEFAULT_QUESTIONNAIRES[Group(group)]]
        codes = [o.code for o in questionnaire.scale]
        link, school_id = links[(group, school)]
        for k in range(count):
            chosen = rng.choice(len(codes), size=len(questionnaire.rated_items), p=[0.5, 0.25, 0.12, 0.1, 0.03])
            scored = check_answers(
                questionnaire, {item.id: codes[c] for item, c in zip(questionnaire.rated_items, chosen)}
            )
            rows.append(
                [
                    survey_id,
                    link,
                    school_id,
                    group,
                    questionnaire.id,
                    questionnaire.version,
                    msgspec.json.encode(scored.answers).decode(),
                    scored.recognition,
                    scored.score,
                    scored.choices,
                    datetime(2030, 5, 10, 17, 30, tzinfo=UTC),
                    90,
                    f"{NONCE_MARK}{uuid.uuid4().hex}",
                    True,
                    "",
                    "speeder" if k == 0 else "",
                    DEVICE_HASH,
                    "netha5h",
                    "agentha5h",
                ]
            )
    rows[1][13], rows[1][14] = False, "organised"
    rows[2][13], rows[2][14] = False, "careless"
    return rows
