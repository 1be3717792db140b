"""Review decisions on flagged answers: keep (确认有效) or exclude (剔除), each with a reason and a
written note, one answer or many at once, reversible, every decision in the audit log."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import UTC, datetime

import msgspec

from survey_service.core.errors import Conflict, InvalidForm, NotFound
from survey_service.db.transactions import locked_transaction
from survey_service.ledger import tally
from survey_service.respond.tables import Response
from survey_service.review.tables import ReviewDecision
from survey_service.seals import service as seals


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


class KeepReason(enum.StrEnum):
    genuine = "genuine"  # checked: a real respondent answering for themself
    shared_device = "shared_device"  # one phone shared by a household or passed around a staff room
    other = "other"


KEEP_LABELS = {
    KeepReason.genuine: "核实为真实作答",
    KeepReason.shared_device: "家庭成员或同事共用手机",
    KeepReason.other: "其他",
}


class Action(enum.StrEnum):
    keep = "keep"
    exclude = "exclude"
    reinstate = "reinstate"  # undo a decision: the answer is 待审核 again (counted meanwhile)


ACTION_LABELS = {Action.keep: "确认有效", Action.exclude: "剔除", Action.reinstate: "撤销决定"}
MIN_NOTE_LENGTH = 4
MAX_NOTE_LENGTH = 500
# One decision may cover a whole round's flagged answers; statements take this many ids at a time.
CHUNK = 500
# Above this many links touched, one recount of the round is cheaper than one per link.
RECOUNT_ROUND_AT = 20


class Status(enum.StrEnum):
    pending = "pending"
    kept = "kept"
    excluded = "excluded"


STATUS_LABELS = {Status.pending: "待审核", Status.kept: "已确认有效", Status.excluded: "已剔除"}


def status_of(valid: bool, kept: str) -> Status:
    if not valid:
        return Status.excluded
    return Status.kept if kept else Status.pending


class Outcome(msgspec.Struct, kw_only=True, frozen=True):
    changed: int  # answers whose state this decision changed
    unchanged: int  # answers already in that state


class Decision(msgspec.Struct, kw_only=True, frozen=True):
    response_id: int
    action: str
    action_label: str
    reason_label: str
    note: str
    actor: str
    decided_at: datetime


def _checked(action: str, reason: str, note: str) -> tuple[Action, str, str]:
    note = note.strip()
    if len(note) < MIN_NOTE_LENGTH:
        raise InvalidForm(f"请写明理由（至少 {MIN_NOTE_LENGTH} 个字）。")
    if len(note) > MAX_NOTE_LENGTH:
        raise InvalidForm(f"理由过长，最多 {MAX_NOTE_LENGTH} 字。")
    try:
        chosen = Action(action)
    except ValueError as exc:
        raise InvalidForm("未知的操作。") from exc
    if chosen is Action.reinstate:
        return chosen, "reinstated", note
    reasons = KeepReason if chosen is Action.keep else ExclusionReason
    if reason not in {r.value for r in reasons}:
        raise InvalidForm("请选择确认有效的理由。" if chosen is Action.keep else "请选择剔除原因。")
    return chosen, reason, note


def _target(action: Action, reason: str) -> tuple[bool, str, str]:
    """(valid, exclusion, kept) after the decision."""
    if action is Action.keep:
        return True, "", reason
    if action is Action.exclude:
        return False, reason, ""
    return True, "", ""


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


async def decide(
    survey_id: int, response_ids: Iterable[int], action: str, reason: str, note: str, actor: str
) -> Outcome:
    """Keep, exclude or reinstate answers of a round, all or none: every answer changed gets one row
    in the audit log, and the tallies of their links are recounted in the same transaction."""
    chosen, reason, note = _checked(action, reason, note)
    ids = sorted(set(response_ids))
    if not ids:
        raise InvalidForm("请先勾选要处理的答卷。")
    valid, exclusion, kept = _target(chosen, reason)
    async with locked_transaction(Response._meta.db):
        current: list[dict] = []
        for chunk in _chunks(ids):
            current += await Response.select(
                Response.id, Response.link, Response.valid, Response.exclusion, Response.kept
            ).where(Response.survey == survey_id, Response.id.is_in(chunk))
        if len(current) != len(ids):
            raise NotFound("找不到所选的部分答卷，请刷新页面后重试。")
        changing = [
            row for row in current if (bool(row["valid"]), row["exclusion"], row["kept"]) != (valid, exclusion, kept)
        ]
        if not changing:
            raise Conflict("所选答卷已经是该状态，无需重复操作。")
        changed_ids = [row["id"] for row in changing]
        for chunk in _chunks(changed_ids):
            await Response.update({Response.valid: valid, Response.exclusion: exclusion, Response.kept: kept}).where(
                Response.id.is_in(chunk)
            )
        now = datetime.now(UTC)
        decisions = [
            ReviewDecision(
                survey=survey_id, response=i, action=chosen.value, reason=reason, note=note, actor=actor, decided_at=now
            )
            for i in changed_ids
        ]
        newest = await ReviewDecision.select(ReviewDecision.id).order_by(ReviewDecision.id, ascending=False).first()
        for start in range(0, len(decisions), CHUNK):
            await ReviewDecision.insert(*decisions[start : start + CHUNK])
        # The audit log is sealed in the round's record: a decision deleted or altered is named by verify.
        written = await ReviewDecision.select().where(
            (ReviewDecision.survey == survey_id) & (ReviewDecision.id > (newest["id"] if newest else 0))
        )
        await seals.seal(survey_id, decisions={row["id"]: seals.decision_digest(row) for row in written})
        links = sorted({row["link"] for row in changing})
        if len(links) > RECOUNT_ROUND_AT:
            await tally.rebuild(survey_id)
        else:
            for link in links:
                await tally.rebuild(survey_id, link)
    return Outcome(changed=len(changing), unchanged=len(ids) - len(changing))


def reason_label(action: str, reason: str) -> str:
    """The Chinese label of a decision's reason as stored in the audit log."""
    if action == Action.keep:
        return KEEP_LABELS.get(KeepReason(reason), reason) if reason in KeepReason.__members__ else "其他"
    if action == Action.exclude:
        return EXCLUSION_LABELS[ExclusionReason(reason)] if reason in ExclusionReason.__members__ else "其他"
    return "恢复待审核"


async def audit_log(survey_id: int) -> list[Decision]:
    rows = await ReviewDecision.select().where(ReviewDecision.survey == survey_id).order_by(ReviewDecision.id)
    return [
        Decision(
            response_id=row["response"],
            action=row["action"],
            action_label=ACTION_LABELS.get(Action(row["action"]), "") if row["action"] in Action.__members__ else "",
            reason_label=reason_label(row["action"], row["reason"]),
            note=row["note"],
            actor=row["actor"],
            decided_at=row["decided_at"],
        )
        for row in rows
    ]
