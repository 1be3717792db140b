"""The review queue: a round's flagged answers, filtered, grouped by sender (one device, or one
network address with one browser) and paginated, each with the answers given and its flags' evidence.

Nothing here shows a device, network or browser hash: a sender is named by its place on the page.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime
from urllib.parse import urlencode

import msgspec

from survey_service.core.groups import GROUP_LABELS, Group
from survey_service.questionnaire import ItemKind, Questionnaire
from survey_service.respond.answers import decode_choices
from survey_service.respond.quality import (
    BURST_COUNT,
    BURST_WINDOW_SECONDS,
    CHURN_COUNT,
    CHURN_WINDOW_SECONDS,
    FLAG_LABELS,
    Flag,
)
from survey_service.respond.tables import Response
from survey_service.review.service import (
    EXCLUSION_LABELS,
    KEEP_LABELS,
    STATUS_LABELS,
    ExclusionReason,
    KeepReason,
    Status,
    status_of,
)

ALL = "all"  # the status filter for every status
CLUSTERS_PER_PAGE = 20
# Answers listed per sender; ticking the sender's box decides all of them.
ANSWERS_SHOWN = 5


class ReviewFilter(msgspec.Struct, kw_only=True, frozen=True):
    flag: str = ""  # a Flag value, or every flag
    status: str = Status.pending.value  # a Status value, or ALL
    school: str = ""  # a school code, or every school
    page: int = 1

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> ReviewFilter:
        """From query parameters; anything unknown falls back to the default instead of an error."""
        flag = params.get("flag", "")
        status = params.get("status", Status.pending.value)
        page = params.get("page", "1")
        return cls(
            flag=flag if flag in Flag.__members__ else "",
            status=status if status in Status.__members__ or status == ALL else Status.pending.value,
            school=params.get("school", "")[:32],
            page=int(page) if page.isdigit() and 0 < len(page) < 7 else 1,
        )

    def query(self, **changes: object) -> str:
        """The query string of this filter with some fields changed."""
        values = msgspec.structs.asdict(msgspec.structs.replace(self, **changes))
        return urlencode({k: v for k, v in values.items() if v != ""})


class ChosenOption(msgspec.Struct, kw_only=True, frozen=True):
    item: str  # the item's text
    option: str  # the chosen option's label, or 未答


class QueuedAnswer(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    submitted_at: datetime
    school_name: str
    group_label: str
    seconds_taken: int | None
    status: str
    status_label: str
    flag_labels: list[str]
    evidence: list[str]
    summary: str  # e.g. 满意 12 · 比较满意 2 · 不了解 1
    chosen: list[ChosenOption]


class Sender(msgspec.Struct, kw_only=True, frozen=True):
    number: int  # its place among the senders of this filter (发送方 1, 2, …)
    kind: str  # 同一设备 | 同一网络地址和浏览器 | 单份答卷
    ids: list[int]  # every answer of this sender under the filter
    first_at: datetime
    last_at: datetime
    answers: list[QueuedAnswer]  # the first ANSWERS_SHOWN

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def more(self) -> int:
        return self.size - len(self.answers)

    @property
    def span_minutes(self) -> int:
        return math.ceil((self.last_at - self.first_at).total_seconds() / 60)


class Summary(msgspec.Struct, kw_only=True, frozen=True):
    flagged: int
    by_status: dict[str, int]  # Status value -> answers
    by_flag: dict[str, int]  # Flag value -> answers


class ReviewQueue(msgspec.Struct, kw_only=True, frozen=True):
    filter: ReviewFilter
    summary: Summary
    matching: int  # answers under the filter
    senders: list[Sender]  # this page's
    sender_count: int
    pages: int
    schools: list[tuple[str, str]]  # (code, name) of schools with flagged answers


_COLUMNS = (
    Response.id,
    Response.submitted_at,
    Response.school.code,
    Response.school.name,
    Response.respondent_group,
    Response.questionnaire_id,
    Response.questionnaire_version,
    Response.choices,
    Response.seconds_taken,
    Response.flags,
    Response.valid,
    Response.kept,
    Response.device_hash,
    Response.network_hash,
    Response.agent_hash,
)


async def _flagged_rows(survey_id: int) -> list[dict]:
    rows = (
        await Response.select(*_COLUMNS).where(Response.survey == survey_id, Response.flags != "").order_by(Response.id)
    )
    for row in rows:
        if isinstance(row["submitted_at"], str):  # SQLite may hand back text
            row["submitted_at"] = datetime.fromisoformat(row["submitted_at"])
    return rows


def _summary(rows: Sequence[dict]) -> Summary:
    statuses = Counter(status_of(bool(r["valid"]), r["kept"]).value for r in rows)
    flags = Counter(flag for r in rows for flag in r["flags"].split(",") if flag)
    return Summary(
        flagged=len(rows),
        by_status={s.value: statuses.get(s.value, 0) for s in Status},
        by_flag={f.value: flags.get(f.value, 0) for f in Flag},
    )


def _matches(row: dict, where: ReviewFilter) -> bool:
    if where.flag and where.flag not in row["flags"].split(","):
        return False
    if where.status != ALL and status_of(bool(row["valid"]), row["kept"]).value != where.status:
        return False
    return not where.school or row["school.code"] == where.school


def _sender_key(row: dict) -> tuple:
    if row["device_hash"]:
        return ("device", row["device_hash"])
    if row["network_hash"]:
        return ("network", row["network_hash"], row["agent_hash"])
    return ("one", row["id"])


SENDER_KINDS = {"device": "同一设备", "network": "同一网络地址和浏览器", "one": "单份答卷"}


def _chosen(questionnaire: Questionnaire | None, choices: str) -> tuple[str, list[ChosenOption], Counter[str]]:
    if questionnaire is None:
        return "（问卷版本已更新，无法显示选项）", [], Counter()
    picked = decode_choices(questionnaire, choices)
    rated = Counter(picked[item.id].label for item in questionnaire.rated_items if item.id in picked)
    summary = " · ".join(
        f"{option.label} {rated[option.label]}" for option in questionnaire.scale if rated[option.label]
    )
    chosen = [
        ChosenOption(item=item.text, option=picked[item.id].label if item.id in picked else "未答")
        for item in questionnaire.items
        if item.kind is not ItemKind.text
    ]
    return summary or "未答评价题", chosen, rated


def _evidence(row: dict, flags: list[str], rated: Counter[str], items: int) -> list[str]:
    out = []
    if Flag.duplicate_device in flags:
        out.append("这部设备此前已在本轮提交过答卷")
    if Flag.burst in flags:
        out.append(f"同一来源 {BURST_WINDOW_SECONDS // 60} 分钟内提交了 {BURST_COUNT} 份或更多")
    if Flag.speeder in flags and row["seconds_taken"] is not None:
        out.append(f"用时 {row['seconds_taken']} 秒答完 {items} 道评价题")
    if Flag.device_churn in flags:
        out.append(
            "提交时没有带回服务器签发的设备标识，或同一网络地址、同一浏览器特征"
            f" {CHURN_WINDOW_SECONDS // 60} 分钟内出现了 {CHURN_COUNT} 部或更多新设备"
        )
    if Flag.straight_liner in flags and len(rated) == 1:
        [(label, n)] = rated.items()
        out.append(f"全部 {n} 道评价题均选“{label}”")
    return out


def _queued(row: dict, questionnaires: Mapping[str, Questionnaire]) -> QueuedAnswer:
    questionnaire = questionnaires.get(row["questionnaire_id"])
    if questionnaire is not None and questionnaire.version != row["questionnaire_version"]:
        questionnaire = None
    summary, chosen, rated = _chosen(questionnaire, row["choices"] or "")
    flags = [flag for flag in row["flags"].split(",") if flag in Flag.__members__]
    status = status_of(bool(row["valid"]), row["kept"])
    items = len(questionnaire.rated_items) if questionnaire else 0
    return QueuedAnswer(
        id=row["id"],
        submitted_at=row["submitted_at"],
        school_name=row["school.name"] or "全县",
        group_label=GROUP_LABELS[Group(row["respondent_group"])],
        seconds_taken=row["seconds_taken"],
        status=status.value,
        status_label=STATUS_LABELS[status],
        flag_labels=[FLAG_LABELS[Flag(flag)] for flag in flags],
        evidence=_evidence(row, flags, rated, items),
        summary=summary,
        chosen=chosen,
    )


async def review_queue(survey_id: int, questionnaires: Mapping[str, Questionnaire], where: ReviewFilter) -> ReviewQueue:
    rows = await _flagged_rows(survey_id)
    matching = [row for row in rows if _matches(row, where)]
    grouped: dict[tuple, list[dict]] = {}
    for row in matching:
        grouped.setdefault(_sender_key(row), []).append(row)
    # The largest senders first: that is where organised answering shows.
    ordered = sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[1][0]["id"]))
    pages = max(1, math.ceil(len(ordered) / CLUSTERS_PER_PAGE))
    page = min(where.page, pages)
    start = (page - 1) * CLUSTERS_PER_PAGE
    senders = [
        Sender(
            number=start + k + 1,
            kind=SENDER_KINDS[key[0]],
            ids=[row["id"] for row in members],
            first_at=members[0]["submitted_at"],
            last_at=members[-1]["submitted_at"],
            answers=[_queued(row, questionnaires) for row in members[:ANSWERS_SHOWN]],
        )
        for k, (key, members) in enumerate(ordered[start : start + CLUSTERS_PER_PAGE])
    ]
    schools = sorted({(r["school.code"], r["school.name"]) for r in rows if r["school.code"]})
    return ReviewQueue(
        filter=msgspec.structs.replace(where, page=page),
        summary=_summary(rows),
        matching=len(matching),
        senders=senders,
        sender_count=len(ordered),
        pages=pages,
        schools=schools,
    )


async def matching_ids(survey_id: int, where: ReviewFilter) -> list[int]:
    """Every answer under the filter (all pages), for a decision on the whole filter."""
    return [row["id"] for row in await _flagged_rows(survey_id) if _matches(row, where)]


REASON_CHOICES = {
    "keep": [(r.value, KEEP_LABELS[r]) for r in KeepReason],
    "exclude": [(r.value, EXCLUSION_LABELS[r]) for r in ExclusionReason],
}
