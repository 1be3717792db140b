"""Flagged answers grouped by reason; exclude or reinstate with a written reason; the audit log."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import msgspec

from survey_service.core.errors import Conflict, InvalidForm, NotFound
from survey_service.core.groups import GROUP_LABELS, Group
from survey_service.db.transactions import locked_transaction
from survey_service.ledger import tally
from survey_service.respond.quality import FLAG_LABELS, Flag
from survey_service.respond.tables import Response
from survey_service.review.tables import ReviewDecision


class ExclusionReason(enum.StrEnum):
    duplicate = "duplicate"
    organised = "organised"
    careless = "careless"
    other = "other"


EXCLUSION_LABELS = {
    ExclusionReason.duplicate: "重复作答",
    ExclusionReason.organised: "组织代答或刷票",
    ExclusionReason.careless: "敷衍作答",
    ExclusionReason.other: "其他",
}
MIN_NOTE_LENGTH = 4


class FlaggedAnswer(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    submitted_at: datetime
    school_name: str
    group_label: str
    seconds_taken: int | None
    flags: list[str]
    flag_labels: list[str]
    valid: bool
    exclusion_label: str


class FlagGroup(msgspec.Struct, kw_only=True, frozen=True):
    flag: str
    label: str
    answers: list[FlaggedAnswer]


class Decision(msgspec.Struct, kw_only=True, frozen=True):
    response_id: int
    action: str
    reason_label: str
    note: str
    actor: str
    decided_at: datetime


async def flagged_answers(survey_id: int) -> list[FlagGroup]:
    """Every flagged answer of the round, under each of its flags (an answer may stand in two)."""
    rows = await (
        Response.select(
            Response.id,
            Response.submitted_at,
            Response.school.name,
            Response.respondent_group,
            Response.seconds_taken,
            Response.flags,
            Response.valid,
            Response.exclusion,
        )
        .where(Response.survey == survey_id, Response.flags != "")
        .order_by(Response.id)
    )
    answers = [_flagged(row) for row in rows]
    return [
        FlagGroup(flag=flag.value, label=FLAG_LABELS[flag], answers=[a for a in answers if flag.value in a.flags])
        for flag in Flag
    ]


def _flagged(row: dict) -> FlaggedAnswer:
    flags = [flag for flag in row["flags"].split(",") if flag]
    return FlaggedAnswer(
        id=row["id"],
        submitted_at=row["submitted_at"],
        school_name=row["school.name"] or "全县",
        group_label=GROUP_LABELS[Group(row["respondent_group"])],
        seconds_taken=row["seconds_taken"],
        flags=flags,
        flag_labels=[FLAG_LABELS[Flag(flag)] for flag in flags],
        valid=row["valid"],
        exclusion_label=EXCLUSION_LABELS[ExclusionReason(row["exclusion"])] if row["exclusion"] else "",
    )


async def decide(survey_id: int, response_id: int, action: str, reason: str, note: str, actor: str) -> None:
    """Exclude (with a reason) or reinstate one answer; the decision and its note go to the audit log."""
    note = note.strip()
    if len(note) < MIN_NOTE_LENGTH:
        raise InvalidForm(f"请写明理由（至少 {MIN_NOTE_LENGTH} 个字）。")
    if action == "exclude":
        try:
            reason = ExclusionReason(reason).value
        except ValueError as exc:
            raise InvalidForm("请选择剔除原因。") from exc
    elif action == "reinstate":
        reason = "reinstated"
    else:
        raise InvalidForm("未知的操作。")
    async with locked_transaction(Response._meta.db):
        current = (
            await Response.select(Response.valid, Response.link)
            .where(Response.id == response_id, Response.survey == survey_id)
            .first()
        )
        if current is None:
            raise NotFound("找不到这份答卷。")
        if current["valid"] == (action == "reinstate"):
            raise Conflict("这份答卷已经是该状态，无需重复操作。")
        excluded = action == "exclude"
        await Response.update({Response.valid: not excluded, Response.exclusion: reason if excluded else ""}).where(
            Response.id == response_id
        )
        await ReviewDecision.insert(
            ReviewDecision(
                survey=survey_id,
                response=response_id,
                action=action,
                reason=reason,
                note=note,
                actor=actor,
                decided_at=datetime.now(UTC),
            )
        )
        await tally.rebuild(survey_id, current["link"])


async def audit_log(survey_id: int) -> list[Decision]:
    rows = await ReviewDecision.select().where(ReviewDecision.survey == survey_id).order_by(ReviewDecision.id)
    return [
        Decision(
            response_id=row["response"],
            action=row["action"],
            reason_label="恢复有效"
            if row["reason"] == "reinstated"
            else EXCLUSION_LABELS[ExclusionReason(row["reason"])],
            note=row["note"],
            actor=row["actor"],
            decided_at=row["decided_at"],
        )
        for row in rows
    ]
