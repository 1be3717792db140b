"""Respondents with known answers, stored straight into the database (the app's own scoring rule
and one batch INSERT, as the response writer does), and the same data as analysis inputs."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import msgspec
import numpy as np

from analysis.recognition import recognition_matrix
from support.helpers import fetch, insert_responses
from survey_service.core.groups import DEFAULT_QUESTIONNAIRES, Group
from survey_service.core.resources import questionnaires_dir
from survey_service.questionnaire import load_questionnaires
from survey_service.respond.answers import check_answers

QUESTIONNAIRES = load_questionnaires(questionnaires_dir())
COLUMNS = [
    "survey",
    "link",
    "school",
    "respondent_group",
    "questionnaire_id",
    "questionnaire_version",
    "answers",
    "recognition",
    "score",
    "choices",
    "submitted_at",
    "seconds_taken",
    "nonce",
    "valid",
    "exclusion",
]


@dataclasses.dataclass(frozen=True)
class Respondent:
    group: str
    school: str | None  # school code; None for deputy / public
    answers: dict[str, str]
    valid: bool = True
    exclusion: str = ""  # why the bureau excluded it (with valid False)


def questionnaire_of(group: str):
    return QUESTIONNAIRES[DEFAULT_QUESTIONNAIRES[Group(group)]]


def uniform(group: str, school: str | None, option: str, **others: str) -> Respondent:
    """Every rated item answered `option`, except those named."""
    items = [item.id for item in questionnaire_of(group).rated_items]
    return Respondent(group, school, {item: others.get(item, option) for item in items})


def random_respondents(rng: np.random.Generator, count: int, schools: list[str]) -> list[Respondent]:
    groups = [g.value for g in Group]
    out = []
    for _ in range(count):
        group = groups[rng.integers(len(groups))]
        school = None if group in ("deputy", "public") else schools[rng.integers(len(schools))]
        q = questionnaire_of(group)
        codes = [o.code for o in q.scale]
        # Mostly 认可, some 不满意 and 不了解.
        chosen = rng.choice(len(codes), size=len(q.rated_items), p=[0.45, 0.25, 0.15, 0.1, 0.05])
        answers = {item.id: codes[c] for item, c in zip(q.rated_items, chosen)}
        out.append(Respondent(group, school, answers, valid=bool(rng.random() > 0.05)))
    return out


async def store(settings, survey_id: int, respondents: list[Respondent]) -> None:
    links = await fetch(
        settings,
        "SELECT link.id AS link, link.school AS school, school.code AS code, "
        "link.respondent_group AS grp FROM link LEFT JOIN school ON school.id = link.school "
        "WHERE link.survey = ?",
        survey_id,
    )
    link_of = {(row["grp"], row["code"]): row for row in links}
    rows = []
    for r in respondents:
        link = link_of[(r.group, r.school)]
        q = questionnaire_of(r.group)
        scored = check_answers(q, r.answers)
        rows.append(
            {
                "survey": survey_id,
                "link": link["link"],
                "school": link["school"],
                "respondent_group": r.group,
                "questionnaire_id": q.id,
                "questionnaire_version": q.version,
                "answers": msgspec.json.encode(scored.answers).decode(),
                "recognition": scored.recognition,
                "score": scored.score,
                "choices": scored.choices,
                "submitted_at": datetime.now(UTC),
                "seconds_taken": 60,
                "nonce": uuid.uuid4().hex,
                "valid": r.valid,
                "exclusion": r.exclusion,
            }
        )
    await insert_responses(settings, COLUMNS, [[row[name] for name in COLUMNS] for row in rows])


def analysis_inputs(respondents: list[Respondent]) -> dict:
    """The same respondents as per-respondent arrays for analysis.analyse_responses."""
    names = list(dict.fromkeys(item.id for r in respondents for item in questionnaire_of(r.group).rated_items))
    shape = (len(respondents), len(names))
    recognised, excluded = np.zeros(shape, bool), np.ones(shape, bool)
    scores = np.full(shape, np.nan)
    for i, r in enumerate(respondents):
        scale = {o.code: o for o in questionnaire_of(r.group).scale}
        for item, code in r.answers.items():
            j = names.index(item)
            recognised[i, j], excluded[i, j] = scale[code].recognised, scale[code].excluded
            scores[i, j] = np.nan if scale[code].score is None else scale[code].score
    y = recognition_matrix(recognised, excluded)
    y[~np.array([r.valid for r in respondents])] = np.nan
    with np.errstate(invalid="ignore"):
        score = np.nanmean(np.where(excluded, np.nan, scores), axis=1)
    return dict(
        schools=[r.school for r in respondents],
        groups=[r.group for r in respondents],
        y=y,
        score=score,
        item_names=names,
        item_recognised=recognised,
        item_excluded=excluded,
        item_scores=scores,
    )
