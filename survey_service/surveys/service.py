"""Survey rounds: create, find, edit while not open; their lifecycle (open, close, extend, reopen), each
change written to the round's change log (RoundChange: who, when, what, why)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from survey_service.core.errors import Conflict, InvalidForm, NotFound
from survey_service.core.groups import GROUP_LABELS, Group
from survey_service.db.transactions import locked_transaction
from survey_service.questionnaire import Questionnaire
from survey_service.seals import service as seals
from survey_service.surveys.schemas import (
    NATIONAL_SETTINGS,
    ChangeAction,
    RoundChangeRecord,
    RoundRecord,
    RoundSpec,
    RoundSummary,
)
from survey_service.surveys.tables import RoundChange, Survey
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
        "national_weighting": spec.national_weighting,
        "national_design_effect": spec.national_design_effect,
    }


async def create_round(spec: RoundSpec, questionnaires: dict[str, Questionnaire]) -> int:
    columns = _settings_columns(spec, questionnaires)
    rows = await Survey.insert(Survey(**columns, created_at=datetime.now(UTC)))
    await seals.seal(rows[0]["id"], settings={name: columns[name] for name in seals.SETTINGS})
    return rows[0]["id"]


async def list_rounds() -> list[RoundSummary]:
    rows = await Survey.select(Survey.id, Survey.title, Survey.region, Survey.opens_at, Survey.closes_at).order_by(
        Survey.id, ascending=False
    )
    return [RoundSummary(**row) for row in rows]


async def resolve_round(survey_id: int | None) -> int:
    """The given round, or the newest one when none is named: the one that opened last (a previous
    year's round entered afterwards, such as the demo's, is not the newest)."""
    rounds = await list_rounds()
    if not rounds:
        raise NotFound("数据库中还没有调查轮次。")
    if survey_id is None:
        return max(rounds, key=lambda r: (r.opens_at, r.id)).id
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
    row = row | {name: row[name] or {} for name in json_columns}
    return msgspec.convert(row | {"access_code_groups": row.get("access_code_groups") or []}, RoundRecord)


def round_status(opens_at: datetime, closes_at: datetime, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return "pending" if now < opens_at else "open" if now < closes_at else "closed"


async def _window(survey_id: int) -> tuple[datetime, datetime]:
    row = await Survey.select(Survey.opens_at, Survey.closes_at).where(Survey.id == survey_id).first()
    if row is None:
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    return row["opens_at"], row["closes_at"]


# The settings' names in the change log.
SETTING_LABELS = {
    "title": "标题",
    "region": "地区",
    "resident_population": "常住人口",
    "opens_at": "开始时间",
    "closes_at": "结束时间",
    "target": "目标认可度",
    "confidence_level": "置信水平",
    "design": "抽样设计",
    "group_weights": "群体权重",
    "questionnaires": "问卷",
    "county_populations": "县级群体人数",
    "national_weighting": "迎检预判的群体权重",
    "national_design_effect": "迎检预判的设计效应",
}


async def update_round(
    survey_id: int, spec: RoundSpec, questionnaires: dict[str, Questionnaire], *, actor: str
) -> None:
    """Change a round's settings; only before it opens (answers already given were asked under them).
    The change log names the settings changed. 迎检预判's settings are not among them: they change at any
    time through surveys/national_settings.py, and a form without them keeps them."""
    columns = {k: v for k, v in _settings_columns(spec, questionnaires).items() if k not in NATIONAL_SETTINGS}
    async with locked_transaction(Survey._meta.db):
        if round_status(*await _window(survey_id)) != "pending":
            raise Conflict("该轮次已经开始或已结束，不能再修改设置。")
        current = (
            await Survey.select(*(getattr(Survey, name) for name in columns))
            .where(Survey.id == survey_id)
            .output(load_json=True)
            .first()
        )
        if current is None:
            raise NotFound("找不到这个调查轮次。")
        changed = [SETTING_LABELS[name] for name, value in columns.items() if current[name] != value]
        if not changed:
            return
        await Survey.update({getattr(Survey, name): value for name, value in columns.items()}).where(
            Survey.id == survey_id
        )
        await seals.seal(survey_id, settings={name: columns[name] for name in seals.SETTINGS if name in columns})
        await record_change(survey_id, ChangeAction.settings, "修改了" + "、".join(changed), actor=actor)


REASON_MAX_LENGTH = 500


class InvalidChange(InvalidForm):
    """A lifecycle or roster change that cannot be made as asked; `errors` maps each form field to its
    problem. Nothing was changed."""

    status_code = 422
    code = "invalid_change"
    message = "修改未保存，请查看标红的项目。"


def checked_reason(reason: str, *, required: bool = True) -> str:
    """The written reason, trimmed; InvalidChange when it is missing (and required) or too long."""
    text = reason.strip()
    if required and not text:
        raise InvalidChange(errors={"reason": "请填写原因（例如谁提出、为什么），它将记入本轮的变更记录。"})
    if len(text) > REASON_MAX_LENGTH:
        raise InvalidChange(errors={"reason": f"原因请写在 {REASON_MAX_LENGTH} 字以内。"})
    return text


def local_text(moment: datetime, zone: ZoneInfo) -> str:
    """A moment as the change log writes it: in the county's zone, to the minute."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def record_change(survey_id: int, action: ChangeAction, details: str, *, reason: str = "", actor: str) -> None:
    """Add one entry to the round's change log (inside the caller's transaction, when it has one),
    sealed in the round's record."""
    row: dict[str, Any] = {
        "survey": survey_id,
        "action": action.value,
        "details": details,
        "reason": reason,
        "actor": actor[:64],
        "changed_at": datetime.now(UTC),
    }
    added = await RoundChange.insert(RoundChange(**row))
    await seals.seal(survey_id, changes={added[0]["id"]: seals.change_digest(row)})


async def round_changes(survey_id: int) -> list[RoundChangeRecord]:
    """The round's change log, newest first."""
    rows = await (
        RoundChange.select(
            RoundChange.action, RoundChange.details, RoundChange.reason, RoundChange.actor, RoundChange.changed_at
        )
        .where(RoundChange.survey == survey_id)
        .order_by(RoundChange.changed_at, ascending=False)
        .order_by(RoundChange.id, ascending=False)
    )
    return [msgspec.convert(row, RoundChangeRecord) for row in rows]


async def open_round(survey_id: int, *, actor: str, zone: ZoneInfo) -> None:
    """Open now (the window starts at once)."""
    async with locked_transaction(Survey._meta.db):
        opens_at, closes_at = await _window(survey_id)
        status = round_status(opens_at, closes_at)
        if status != "pending":
            raise Conflict(
                "该轮次已经开始。"
                if status == "open"
                else "该轮次已结束；如需继续收集答卷，请使用“重新开放”并填写原因。"
            )
        now = datetime.now(UTC)
        await Survey.update({Survey.opens_at: now}).where(Survey.id == survey_id)
        details = f"立即开始（原定 {local_text(opens_at, zone)} 开始），结束时间 {local_text(closes_at, zone)}。"
        await record_change(survey_id, ChangeAction.open, details, actor=actor)


async def close_round(survey_id: int, *, reason: str, actor: str, zone: ZoneInfo) -> None:
    """Close now, for the written reason: links stop accepting answers (each worker's link cache
    notices within its lifetime). It can be reopened later, with a reason."""
    reason = checked_reason(reason)
    async with locked_transaction(Survey._meta.db):
        opens_at, closes_at = await _window(survey_id)
        if round_status(opens_at, closes_at) != "open":
            raise Conflict("只能结束正在进行中的轮次。")
        await Survey.update({Survey.closes_at: datetime.now(UTC)}).where(Survey.id == survey_id)
        details = f"提前结束调查（原定 {local_text(closes_at, zone)} 结束），各问卷链接停止接收答卷。"
        await record_change(survey_id, ChangeAction.close, details, reason=reason, actor=actor)


async def extend_round(survey_id: int, closes_at: datetime, *, reason: str, actor: str, zone: ZoneInfo) -> None:
    """Move an open round's closing time later, for the written reason."""
    reason = checked_reason(reason)
    async with locked_transaction(Survey._meta.db):
        opens_at, old = await _window(survey_id)
        status = round_status(opens_at, old)
        if status != "open":
            raise Conflict(
                "该轮次已结束；如需继续收集答卷，请使用“重新开放”。"
                if status == "closed"
                else "该轮次尚未开始，请在“修改设置”中修改结束时间。"
            )
        if closes_at <= old:
            raise InvalidChange(
                errors={"closes_at": f"新的结束时间必须晚于原定的结束时间（{local_text(old, zone)}）。"}
            )
        await Survey.update({Survey.closes_at: closes_at}).where(Survey.id == survey_id)
        details = f"结束时间由 {local_text(old, zone)} 延长至 {local_text(closes_at, zone)}。"
        await record_change(survey_id, ChangeAction.extend, details, reason=reason, actor=actor)


async def reopen_round(survey_id: int, closes_at: datetime, *, reason: str, actor: str, zone: ZoneInfo) -> None:
    """Accept answers again until `closes_at`, for the written reason; also after the results were
    exported for the inspection file (the log then says so)."""
    reason = checked_reason(reason)
    async with locked_transaction(Survey._meta.db):
        row = await Survey.select(Survey.opens_at, Survey.closes_at, Survey.exported_at).where(Survey.id == survey_id)
        if not row:
            raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
        opens_at, old, exported_at = row[0]["opens_at"], row[0]["closes_at"], row[0]["exported_at"]
        if round_status(opens_at, old) != "closed":
            raise Conflict("只能重新开放已结束的轮次。")
        if closes_at <= datetime.now(UTC):
            raise InvalidChange(errors={"closes_at": "新的结束时间必须晚于现在。"})
        await Survey.update({Survey.closes_at: closes_at}).where(Survey.id == survey_id)
        details = f"重新开放（已于 {local_text(old, zone)} 结束），新的结束时间 {local_text(closes_at, zone)}。"
        if exported_at is not None:
            details += f"注意：本轮结果已于 {local_text(exported_at, zone)} 导出为迎检材料，重新开放后结果可能变化。"
        await record_change(survey_id, ChangeAction.reopen, details, reason=reason, actor=actor)


async def record_export(survey_id: int, what: str, *, actor: str) -> None:
    """Note the first export of a closed round's results for the inspection file (`what`: the report,
    the workbook, ...): Survey.exported_at and a change log entry. Later exports change nothing."""
    async with locked_transaction(Survey._meta.db):
        row = await Survey.select(Survey.opens_at, Survey.closes_at, Survey.exported_at).where(Survey.id == survey_id)
        if not row or row[0]["exported_at"] is not None:
            return
        if round_status(row[0]["opens_at"], row[0]["closes_at"]) != "closed":
            return
        await Survey.update({Survey.exported_at: datetime.now(UTC)}).where(Survey.id == survey_id)
        await record_change(survey_id, ChangeAction.export, f"首次导出迎检材料：{what}。", actor=actor)


async def set_access_code_groups(survey_id: int, groups: list[Group], *, actor: str) -> None:
    """Choose the groups whose answer page asks for a one-time access code; while the round is not
    closed (each worker's link cache notices within its lifetime). Logged when it changes."""
    wanted = [g for g in Group if g in groups]
    async with locked_transaction(Survey._meta.db):
        row = (
            await Survey.select(Survey.opens_at, Survey.closes_at, Survey.access_code_groups)
            .where(Survey.id == survey_id)
            .output(load_json=True)
            .first()
        )
        if row is None:
            raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
        if round_status(row["opens_at"], row["closes_at"]) == "closed":
            raise Conflict("该轮次已结束，不能再修改需要访问码的群体。")
        if [Group(g) for g in row["access_code_groups"] or []] == wanted:
            return
        await Survey.update({Survey.access_code_groups: [g.value for g in wanted]}).where(Survey.id == survey_id)
        names = "、".join(GROUP_LABELS[g] for g in wanted) or "无（所有群体凭链接直接填写）"
        await record_change(survey_id, ChangeAction.access_codes, f"需要访问码的群体改为：{names}。", actor=actor)
