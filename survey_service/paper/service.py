"""Double entry of paper forms (after EpiData): each numbered form is keyed in twice, by two accounts
or in two passes; two entries that agree item by item are stored as one answer at once, two that
differ wait for a third look, where a person with the paper form in hand picks the right value of each
differing item. Only then is the form an answer: stored through the respond service like any other
(checked, scored, chained, tallied), with the source 纸质问卷 and a key made of the form's number, so
one form number can never count twice."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum

import asyncpg
import msgspec

from survey_service.core.errors import Conflict, NotFound, SurveyServiceError
from survey_service.core.groups import GROUP_LABELS, OPERATOR_GROUPS, SCHOOL_GROUPS
from survey_service.distribution.service import LinkContext, load_link_context
from survey_service.distribution.tables import Link
from survey_service.paper.entry import read_entry
from survey_service.paper.numbers import MAX_SERIAL, form_number, parse_serial
from survey_service.paper.tables import PaperBatch, PaperEntry, PaperForm
from survey_service.questionnaire import Questionnaire
from survey_service.respond.service import RespondService, ensure_importable
from survey_service.respond.sources import Source

MAX_PER_BATCH = 500
RESOLUTION_PASS = 3


class Status(StrEnum):
    entered = "entered"  # keyed in once
    mismatch = "mismatch"  # keyed in twice, with differences: waits for the third look
    accepted = "accepted"  # keyed in twice alike: stored
    resolved = "resolved"  # differences settled at the third look: stored


COUNTED = (Status.accepted, Status.resolved)


class NotForPaper(SurveyServiceError):
    status_code = 403
    code = "not_for_paper"
    message = "没有权限录入这一调查对象的纸质问卷。"


class PaperOutcome(msgspec.Struct, kw_only=True, frozen=True):
    number: str
    serial: int
    status: Status
    differing: list[str] = []  # the ids of the items the two entries differ on


class EntryRecord(msgspec.Struct, kw_only=True, frozen=True):
    """One entry of a form: who keyed in what, and when."""

    serial: int
    pass_number: int
    answers: dict[str, str]
    actor: str
    entered_at: datetime


class FormState(msgspec.Struct, kw_only=True, frozen=True):
    serial: int
    status: Status
    entries: list[EntryRecord]


class PaperCounts(msgspec.Struct, kw_only=True, frozen=True):
    issued: int
    entered_once: int
    mismatched: int
    accepted: int
    resolved: int

    @property
    def counted(self) -> int:
        return self.accepted + self.resolved


def response_key(link: LinkContext, serial: int) -> str:
    """The stored answer's key (Response.nonce, unique): the round, the link and the serial name one
    printed form number, in plain characters whatever the school's code."""
    return f"paper:{link.survey_id}:{link.link_id}:{serial}"


def number_of(link: LinkContext, serial: int) -> str:
    return form_number(link.school_code or "", link.group_label, serial)


def _unique_violation(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.IntegrityError | asyncpg.UniqueViolationError)


async def paper_link(survey_id: int, school_code: str, group: str, *, bureau: bool) -> LinkContext:
    """The link a school × group's paper forms count towards. A school's operator enters its students'
    and parents' forms (the groups whose answers it may see); the bureau also its teachers'. A group
    answering by one-time access code (校长 by default) has no paper form: a form would bypass its code."""
    if group not in {g.value for g in SCHOOL_GROUPS}:
        raise NotFound()
    row = await (
        Link.select(Link.token)
        .where(Link.survey == survey_id, Link.school.code == school_code, Link.respondent_group == group)
        .first()
    )
    if row is None:
        raise NotFound()
    link = await load_link_context(row["token"])
    if link.code_required:
        raise NotForPaper(f"{link.group_label}凭访问码作答，不能录入纸质问卷。")
    if not bureau and link.group not in OPERATOR_GROUPS:
        labels = "和".join(GROUP_LABELS[g] for g in OPERATOR_GROUPS)
        raise NotForPaper(f"学校账号只能录入本校{labels}的纸质问卷；{link.group_label}问卷由县教育局录入。")
    return link


async def paper_groups(survey_id: int, school_code: str, *, bureau: bool) -> list[LinkContext]:
    """The school's groups whose paper forms this account may print and enter."""
    found = []
    for group in SCHOOL_GROUPS:
        try:
            found.append(await paper_link(survey_id, school_code, group.value, bureau=bureau))
        except (NotFound, NotForPaper):
            continue
    return found


async def issue_forms(link: LinkContext, count: int, actor: str) -> tuple[int, int, int]:
    """Issue the link's next `count` form numbers; (batch id, first serial, last serial). Numbers are
    never issued twice: each batch starts after the last, and two batches issued at the same moment
    cannot share a start (a unique index), so the later one takes the next numbers."""
    if not 1 <= count <= MAX_PER_BATCH:
        raise Conflict(f"每次可打印 1 至 {MAX_PER_BATCH} 份。")
    for _ in range(5):
        last = (
            await PaperBatch.select(PaperBatch.last)
            .where(PaperBatch.link == link.link_id)
            .order_by(PaperBatch.last, ascending=False)
            .first()
        )
        first = (last["last"] if last else 0) + 1
        if first + count - 1 > MAX_SERIAL:
            raise Conflict("本校该调查对象的问卷编号已用完。")
        try:
            [row] = await PaperBatch.insert(
                PaperBatch(
                    survey=link.survey_id,
                    link=link.link_id,
                    first=first,
                    last=first + count - 1,
                    issued_by=actor,
                    issued_at=datetime.now(UTC),
                )
            ).returning(PaperBatch.id)
        except Exception as exc:
            if not _unique_violation(exc):
                raise
            continue
        return row["id"], first, first + count - 1
    raise Conflict("其他人正在打印同一学校同一调查对象的问卷，请稍后再试。")


async def batch_serials(link: LinkContext, batch_id: int) -> range:
    row = await (
        PaperBatch.select(PaperBatch.first, PaperBatch.last)
        .where(PaperBatch.id == batch_id, PaperBatch.link == link.link_id)
        .first()
    )
    if row is None:
        raise NotFound("找不到这一批问卷编号。")
    return range(row["first"], row["last"] + 1)


async def _ensure_issued(link: LinkContext, serial: int) -> None:
    issued = await PaperBatch.exists().where(
        PaperBatch.link == link.link_id, PaperBatch.first <= serial, PaperBatch.last >= serial
    )
    if not issued:
        raise Conflict(
            f"编号 {number_of(link, serial)} 尚未发放：只能录入本页打印过的问卷编号。请核对问卷右上角的编号。"
        )


async def form_state(link: LinkContext, serial: int) -> FormState | None:
    form = await PaperForm.select().where(PaperForm.link == link.link_id, PaperForm.serial == serial).first()
    if form is None:
        return None
    rows = await (
        PaperEntry.select().where(PaperEntry.form == form["id"]).order_by(PaperEntry.pass_number).output(load_json=True)
    )
    entries = [
        EntryRecord(
            serial=serial,
            pass_number=row["pass_number"],
            answers=row["answers"],
            actor=row["actor"],
            entered_at=row["entered_at"],
        )
        for row in rows
    ]
    return FormState(serial=serial, status=Status(form["status"]), entries=entries)


async def _form_id(link: LinkContext, serial: int) -> int:
    """The form's row, made at its first entry (two first entries at one moment make one row)."""
    for _ in range(2):
        row = await PaperForm.select(PaperForm.id).where(PaperForm.link == link.link_id, PaperForm.serial == serial)
        if row:
            return row[0]["id"]
        try:
            await PaperForm.insert(
                PaperForm(survey=link.survey_id, link=link.link_id, serial=serial, status=Status.entered.value)
            )
        except Exception as exc:
            if not _unique_violation(exc):
                raise
    raise Conflict()


async def _add_entry(
    form_id: int, pass_number: int, values: Mapping[str, str], actor: str, number: str, entry_key: str | None = None
) -> None:
    try:
        await PaperEntry.insert(
            PaperEntry(
                form=form_id,
                pass_number=pass_number,
                answers=msgspec.json.encode(dict(values)).decode(),
                actor=actor,
                entered_at=datetime.now(UTC),
                entry_key=entry_key,
            )
        )
    except Exception as exc:
        if not _unique_violation(exc):
            raise
        raise Conflict(f"编号 {number} 刚刚已由其他人录入了这一遍，本次录入没有保存。请刷新后查看。") from exc


def differing(questionnaire: Questionnaire, first: Mapping[str, str], second: Mapping[str, str]) -> list[str]:
    return [item.id for item in questionnaire.items if first.get(item.id, "") != second.get(item.id, "")]


async def _store(respond: RespondService, link: LinkContext, serial: int, values: Mapping[str, str]) -> str:
    """Store the form's answer (again is a no-op: its key is stored once) and return its key."""
    key = response_key(link, serial)
    given = {item: value for item, value in values.items() if value}
    await respond.submit_external(link.token, key, given, source=Source.paper, submitted_at=datetime.now(UTC))
    return key


async def enter(
    respond: RespondService,
    link: LinkContext,
    questionnaire: Questionnaire,
    typed_number: str,
    fields: Mapping[str, str],
    actor: str,
    entry_key: str,
) -> PaperOutcome:
    """Record one entry of a paper form. The first entry waits for the second; the second is compared
    item by item with the first: alike, the form is stored as an answer; different, it waits for the
    third look. A form entered twice already takes no more entries. Errors change nothing.

    `entry_key` is the entry page's one-time key: sent again (a double click, the back button), it
    records nothing more and answers with the form's state, so a repeat is never a second pass."""
    serial = parse_serial(typed_number, link.school_code or "", link.group)
    values = read_entry(questionnaire, fields)
    number = number_of(link, serial)
    await ensure_importable(link.survey_id)
    await _ensure_issued(link, serial)
    state = await form_state(link, serial)
    repeated = await PaperEntry.select(PaperEntry.form.serial).where(PaperEntry.entry_key == entry_key).first()
    if repeated is not None:
        if repeated["form.serial"] != serial or state is None:
            raise Conflict("这一页已经保存过一份问卷，本次没有保存。请刷新页面后再录入。")
        return PaperOutcome(number=number, serial=serial, status=state.status)
    form_id = await _form_id(link, serial)
    if state is not None and len(state.entries) >= 2:
        status = state.status
        if status is Status.entered:  # a second entry whose comparison was cut short: finish it
            status = (
                await _settle(respond, link, questionnaire, form_id, serial, state.entries[1].answers, state)
            ).status
        done = "已计入结果" if status in COUNTED else "两遍不一致，正等待核对"
        raise Conflict(f"编号 {number} 已录入两遍（{done}），不能再次录入。")
    if state is None or not state.entries:
        await _add_entry(form_id, 1, values, actor, number, entry_key)
        return PaperOutcome(number=number, serial=serial, status=Status.entered)
    await _add_entry(form_id, 2, values, actor, number, entry_key)
    settled = await _settle(respond, link, questionnaire, form_id, serial, values, state)
    return PaperOutcome(number=number, serial=serial, status=settled.status, differing=settled.differing)


class _Settled(msgspec.Struct, frozen=True):
    status: Status
    differing: list[str]


async def _settle(
    respond: RespondService,
    link: LinkContext,
    questionnaire: Questionnaire,
    form_id: int,
    serial: int,
    values: Mapping[str, str],
    state: FormState,
) -> _Settled:
    """Compare the second entry (`values`) with the first: the form waits for the third look, or is
    stored. Run again after an interruption, it ends the same way (the answer's key stores once)."""
    differ = differing(questionnaire, state.entries[0].answers, values)
    if differ:
        await PaperForm.update({PaperForm.status: Status.mismatch.value}).where(PaperForm.id == form_id)
        return _Settled(Status.mismatch, differ)
    key = await _store(respond, link, serial, values)
    await PaperForm.update({PaperForm.status: Status.accepted.value, PaperForm.response_key: key}).where(
        PaperForm.id == form_id
    )
    return _Settled(Status.accepted, [])


async def resolve(
    respond: RespondService,
    link: LinkContext,
    questionnaire: Questionnaire,
    serial: int,
    fields: Mapping[str, str],
    actor: str,
) -> PaperOutcome:
    """The third look at a form whose two entries differ: `fields` keys in, from the paper form, the
    right value of each differing item (the items both entries agree on stand). Recorded as the
    form's third entry, then stored as its answer."""
    number = number_of(link, serial)
    state = await form_state(link, serial)
    if state is None or state.status is not Status.mismatch or len(state.entries) < 2:
        raise Conflict(f"编号 {number} 不在待核对的问卷中（可能已由其他人核对），本次没有保存。")
    first, second = state.entries[0].answers, state.entries[1].answers
    differ = differing(questionnaire, first, second)
    chosen = read_entry(questionnaire, fields, only=set(differ))
    values = {item.id: chosen.get(item.id, first.get(item.id, "")) for item in questionnaire.items}
    await ensure_importable(link.survey_id)
    form_id = await _form_id(link, serial)
    await _add_entry(form_id, RESOLUTION_PASS, values, actor, number)
    key = await _store(respond, link, serial, values)
    await PaperForm.update({PaperForm.status: Status.resolved.value, PaperForm.response_key: key}).where(
        PaperForm.id == form_id
    )
    return PaperOutcome(number=number, serial=serial, status=Status.resolved)


async def mismatched_forms(link: LinkContext) -> list[FormState]:
    rows = await (
        PaperForm.select(PaperForm.serial)
        .where(PaperForm.link == link.link_id, PaperForm.status == Status.mismatch.value)
        .order_by(PaperForm.serial)
    )
    states = [await form_state(link, row["serial"]) for row in rows]
    return [state for state in states if state is not None]


async def paper_counts(link: LinkContext) -> PaperCounts:
    batches = await PaperBatch.select(PaperBatch.first, PaperBatch.last).where(PaperBatch.link == link.link_id)
    statuses = await PaperForm.select(PaperForm.status).where(PaperForm.link == link.link_id)
    tally = {status: 0 for status in Status}
    for row in statuses:
        tally[Status(row["status"])] += 1
    return PaperCounts(
        issued=sum(row["last"] - row["first"] + 1 for row in batches),
        entered_once=tally[Status.entered],
        mismatched=tally[Status.mismatch],
        accepted=tally[Status.accepted],
        resolved=tally[Status.resolved],
    )


async def recent_entries(link: LinkContext, limit: int = 20) -> list[EntryRecord]:
    """The audit of a school × group's entries, newest first: who keyed in which form, which pass, when."""
    rows = await (
        PaperEntry.select(
            PaperEntry.form.serial, PaperEntry.pass_number, PaperEntry.answers, PaperEntry.actor, PaperEntry.entered_at
        )
        .where(PaperEntry.form.link == link.link_id)
        .order_by(PaperEntry.id, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )
    return [
        EntryRecord(
            serial=row["form.serial"],
            pass_number=row["pass_number"],
            answers=row["answers"],
            actor=row["actor"],
            entered_at=row["entered_at"],
        )
        for row in rows
    ]
