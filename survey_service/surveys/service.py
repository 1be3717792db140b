"""Survey rounds: create, find."""

from __future__ import annotations

from datetime import datetime, timezone

from survey_service.errors import InvalidForm, NotFound
from survey_service.groups import DEFAULT_QUESTIONNAIRES, GROUP_LABELS, Group
from survey_service.questionnaire import Questionnaire
from survey_service.surveys.schemas import RoundSpec, RoundSummary
from survey_service.surveys.tables import Survey


def checked_questionnaires(spec: RoundSpec, questionnaires: dict[str, Questionnaire]) -> dict[str, str]:
    """The questionnaire of every group (defaults where the spec names none), after checking the
    window and that each questionnaire exists and serves its group."""
    if spec.closes_at <= spec.opens_at:
        raise InvalidForm("结束时间必须晚于开始时间。")
    chosen = {group.value: qid for group, qid in DEFAULT_QUESTIONNAIRES.items()}
    chosen.update({group.value: qid for group, qid in spec.questionnaires.items()})
    for group, qid in chosen.items():
        if qid not in questionnaires or group not in questionnaires[qid].groups:
            raise InvalidForm(f"问卷 `{qid}` 不存在或不适用于{GROUP_LABELS[Group(group)]}。")
    return chosen


async def create_round(spec: RoundSpec, questionnaires: dict[str, Questionnaire]) -> int:
    chosen = checked_questionnaires(spec, questionnaires)
    rows = await Survey.insert(
        Survey(
            title=spec.title,
            region=spec.region,
            resident_population=spec.resident_population,
            opens_at=spec.opens_at,
            closes_at=spec.closes_at,
            target=spec.target,
            confidence_level=spec.confidence_level,
            group_weights={g.value: w for g, w in spec.group_weights.items()},
            questionnaires=chosen,
            county_populations={g.value: n for g, n in spec.county_populations.items()},
            created_at=datetime.now(timezone.utc),
        )
    )
    return rows[0]["id"]


async def list_rounds() -> list[RoundSummary]:
    rows = await Survey.select(
        Survey.id, Survey.title, Survey.region, Survey.opens_at, Survey.closes_at
    ).order_by(Survey.id, ascending=False)
    return [RoundSummary(**row) for row in rows]


async def resolve_round(survey_id: int | None) -> int:
    """The given round, or the newest one when none is named."""
    rounds = await list_rounds()
    if not rounds:
        raise NotFound("数据库中还没有调查轮次。")
    if survey_id is None:
        return rounds[0].id
    if survey_id not in {r.id for r in rounds}:
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    return survey_id
