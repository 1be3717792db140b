"""Survey rounds: create, find, edit while not open, open, close."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from survey_service.core.errors import Conflict, NotFound
from survey_service.questionnaire import Questionnaire
from survey_service.surveys.schemas import RoundRecord, RoundSpec, RoundSummary
from survey_service.surveys.tables import Survey
from survey_service.surveys.validation import validated_round


def _settings_columns(spec: RoundSpec, questionnaires: dict[str, Questionnaire]) -> dict[str, Any]:
    """The Survey columns a RoundSpec sets, as creating and editing both write them, once the one
    validator (surveys/validation.py) has passed them."""
    spec = validated_round(spec, questionnaires)
    return {
        "title": spec.title,
        "region": spec.region,
        "resident_population": spec.resident_population,
        "opens_at": spec.opens_at,
        "closes_at": spec.closes_at,
        "target": spec.target,
        "confidence_level": spec.confidence_level,
        "design": spec.design,
        "group_weights": {g.value: w for g, w in spec.group_weights.items()},
        "questionnaires": {g.value: qid for g, qid in spec.questionnaires.items()},
        "county_populations": {g.value: n for g, n in spec.county_populations.items()},
    }


async def create_round(spec: RoundSpec, questionnaires: dict[str, Questionnaire]) -> int:
    columns = _settings_columns(spec, questionnaires)
    rows = await Survey.insert(Survey(**columns, created_at=datetime.now(UTC)))
    return rows[0]["id"]


async def list_rounds() -> list[RoundSummary]:
    rows = await Survey.select(Survey.id, Survey.title, Survey.region, Survey.opens_at, Survey.closes_at).order_by(
        Survey.id, ascending=False
    )
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


async def round_records(survey_ids: list[int] | None = None) -> list[RoundRecord]:
    """Rounds with their settings, newest first: every round, or those of `survey_ids`."""
    query = Survey.select().order_by(Survey.id, ascending=False).output(load_json=True)
    if survey_ids is not None:
        query = query.where(Survey.id.is_in(survey_ids or [-1]))
    return [_record(row) for row in await query]


async def round_record(survey_id: int) -> RoundRecord:
    """One round with its settings; NotFound for an unknown round."""
    found = await round_records([survey_id])
    if not found:
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    return found[0]


def _record(row: dict) -> RoundRecord:
    json_columns = ("group_weights", "questionnaires", "county_populations")
    return msgspec.convert(row | {name: row[name] or {} for name in json_columns}, RoundRecord)


def round_status(opens_at: datetime, closes_at: datetime, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return "pending" if now < opens_at else "open" if now < closes_at else "closed"


async def _window(survey_id: int) -> tuple[datetime, datetime]:
    row = await Survey.select(Survey.opens_at, Survey.closes_at).where(Survey.id == survey_id).first()
    if row is None:
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    return row["opens_at"], row["closes_at"]


async def update_round(survey_id: int, spec: RoundSpec, questionnaires: dict[str, Questionnaire]) -> None:
    """Change a round's settings; only before it opens (answers already given were asked under them)."""
    if round_status(*await _window(survey_id)) != "pending":
        raise Conflict("该轮次已经开始或已结束，不能再修改设置。")
    columns = _settings_columns(spec, questionnaires)
    await Survey.update({getattr(Survey, name): value for name, value in columns.items()}).where(Survey.id == survey_id)


async def open_round(survey_id: int) -> None:
    """Open now (the window starts at once)."""
    opens_at, closes_at = await _window(survey_id)
    status = round_status(opens_at, closes_at)
    if status != "pending":
        raise Conflict("该轮次已经开始或已结束。" if status == "open" else "已结束的轮次不能重新开放。")
    await Survey.update({Survey.opens_at: datetime.now(UTC)}).where(Survey.id == survey_id)


async def close_round(survey_id: int) -> None:
    """Close now: links stop accepting answers (each worker's link cache notices within its lifetime)."""
    opens_at, closes_at = await _window(survey_id)
    if round_status(opens_at, closes_at) != "open":
        raise Conflict("只能结束正在进行中的轮次。")
    await Survey.update({Survey.closes_at: datetime.now(UTC)}).where(Survey.id == survey_id)
