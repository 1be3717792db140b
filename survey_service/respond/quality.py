"""Quality flags: signs of careless or organised answering (杜绝专门组织人员进行虚假填报).

A flag never drops an answer: flagged answers are stored and counted until the bureau, after
review, excludes one with a written reason.
"""

from __future__ import annotations

import enum
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from survey_service.questionnaire import Questionnaire
from survey_service.respond.schemas import AnswerRow


class Flag(enum.StrEnum):
    duplicate_device = "duplicate_device"  # this device already answered in this round
    burst = "burst"  # many answers from one signal in a short time
    speeder = "speeder"  # far faster than the median respondent
    # One option for every rated item, where that option does not count as 认可 (不满意, 不了解) or
    # the answer also came too fast to have read the items. (A positive straight line on its own,
    # all 满意, is the most common honest pattern: not a sign.)
    straight_liner = "straight_liner"
    # A new device where new devices churn: the answer came without the signed device cookie its form
    # was issued with (a browser keeping no cookie, or sending a made-up one: every answer looks like
    # a new phone), or CHURN_COUNT or more new devices answered from one network address with one
    # browser signature within CHURN_WINDOW_SECONDS (a browser clearing its cookies between answers).
    device_churn = "device_churn"


FLAG_LABELS = {
    Flag.duplicate_device: "同一设备重复作答",
    Flag.burst: "短时间内集中提交",
    Flag.speeder: "答题过快",
    Flag.straight_liner: "所有题目选同一项（该项不计为认可，或答题过快）",
    Flag.device_churn: "新设备频繁出现（未保留设备标识或反复更换）",
}

# `burst`: this many answers or more from one device (or, without a device cookie, one network
# address with one browser) within the window.
BURST_COUNT = 5
BURST_WINDOW_SECONDS = 600
# `device_churn`: this many new devices (a device's first answer in the round; an answer without a
# device cookie counts as one more) from one network address with one browser signature (User-Agent,
# Accept-Language, client hints) within the window. Phones differ in their signatures (model, system
# and WeChat versions are in the User-Agent): 50 phones behind a school's Wi-Fi share one rarely more
# than two or three times (bench/stuffing.py). Identical computers in a school's computer room do
# share one: their answers are flagged for review, stored and counted, and refused only beyond
# CHURN_LIMIT, more than a class.
CHURN_COUNT = 5
CHURN_WINDOW_SECONDS = 600
# Rate limits (answered 429, nothing stored): a phone answers a few questionnaires (a parent with
# children in two schools), not dozens; without a device cookie, one browser at one address is
# allowed as many as a busy shared phone; new devices from one address and browser signature
# beyond a class in a computer room. Never on a network address alone: a school, or a carrier's
# NAT, puts hundreds of honest phones behind one address.
DEVICE_LIMIT, DEVICE_LIMIT_SECONDS = 10, 3600
SENDER_LIMIT, SENDER_LIMIT_SECONDS = 60, 600
CHURN_LIMIT = 60
# `speeder`: under a quarter of the median time, and never under a second per rated item. A third
# of the median flagged about 4% of a simulated honest round on its own (bench/flags.py: log-normal
# times, sigma 0.6, straight-liners at 0.7 of the median pace), which with the honest negative
# straight lines left no room under the 5% an honest round may be flagged; a quarter flags under 2%
# and still catches a form ticked through in a few seconds.
SPEEDER_SHARE_OF_MEDIAN = 1 / 4
SECONDS_PER_ITEM = 1.0
# `straight_liner` needs this many rated answers to mean anything.
STRAIGHT_LINE_MIN_ITEMS = 5


def _share(fraction: float) -> str:
    return {1 / 2: "二分之一", 1 / 3: "三分之一", 1 / 4: "四分之一", 1 / 5: "五分之一"}.get(fraction, f"{fraction:.0%}")


# Each flag's rule in words, from the constants above: the report's method section and the review
# page say exactly what the code does.
FLAG_RULES = {
    Flag.duplicate_device: "同一部手机在本轮已经提交过答卷",
    Flag.burst: f"同一设备，或同一网络地址的同一浏览器，{BURST_WINDOW_SECONDS // 60} 分钟内提交 {BURST_COUNT} 份及以上",
    Flag.speeder: f"用时不到本问卷中位用时的{_share(SPEEDER_SHARE_OF_MEDIAN)}，或平均每道评价题不足 {SECONDS_PER_ITEM:g} 秒",
    Flag.straight_liner: f"{STRAIGHT_LINE_MIN_ITEMS} 道及以上评价题全部选同一项，且该项不计为认可（如全部“不满意”或“不了解”），"
    "或同时答题过快；全部“满意”本身不作标记",
    Flag.device_churn: "提交时未带回服务器为该表单签发的设备标识（浏览器不保留或伪造设备标识），"
    f"或同一网络地址、同一浏览器特征（User-Agent、语言、客户端提示）{CHURN_WINDOW_SECONDS // 60} 分钟内"
    f"出现 {CHURN_COUNT} 部及以上新设备",
}


def straight_line(questionnaire: Questionnaire, answers: Mapping[str, str]) -> str | None:
    """The one option code chosen for every rated item (at least STRAIGHT_LINE_MIN_ITEMS of them), if any."""
    chosen = [answers[item.id] for item in questionnaire.rated_items if item.id in answers]
    return chosen[0] if len(chosen) >= STRAIGHT_LINE_MIN_ITEMS and len(set(chosen)) == 1 else None


def straight_lined(questionnaire: Questionnaire, answers: Mapping[str, str], fast: bool) -> bool:
    """`straight_liner`: one option throughout that does not count as 认可 (as the questionnaire's scale
    declares it), or any one option throughout answered `fast` (see `speeding`)."""
    code = straight_line(questionnaire, answers)
    if code is None:
        return False
    return fast or not any(option.recognised for option in questionnaire.scale if option.code == code)


def speeding(seconds: int | None, rated_items: int, median_seconds: float | None) -> bool:
    if seconds is None:
        return False
    floor = rated_items * SECONDS_PER_ITEM
    if median_seconds is not None:
        floor = max(floor, median_seconds * SPEEDER_SHARE_OF_MEDIAN)
    return seconds < floor


def answer_flags(
    questionnaire: Questionnaire, answers: Mapping[str, str], seconds: int | None, median_seconds: float | None
) -> set[Flag]:
    """The flags an answer gets from itself (`speeder`, `straight_liner`); `repeat_flags` adds the
    ones that depend on earlier answers when it is stored."""
    flags = set()
    fast = speeding(seconds, len(questionnaire.rated_items), median_seconds)
    if fast:
        flags.add(Flag.speeder)
    if straight_lined(questionnaire, answers, fast):
        flags.add(Flag.straight_liner)
    return flags


def median(values: list[int]) -> float | None:
    return statistics.median(values) if values else None


def join_flags(flags: Iterable[str]) -> str:
    return ",".join(sorted(set(flags)))


def add_flags(flags: str, more: Iterable[Flag]) -> str:
    """A row's stored flags (joined) with more of them."""
    return join_flags([*filter(None, flags.split(",")), *more])


# One sender: (round, device hash), or without a device cookie (round, network hash, agent hash).
SenderKey = tuple[int, str] | tuple[int, str, str | None]


def _sender(survey: int, device: str | None, network: str | None, agent: str | None) -> SenderKey | None:
    """Who sent an answer, as far as the signals tell: its device, or without a device cookie its
    network address and browser together; None when neither is known."""
    if device:
        return survey, device
    if network:
        return survey, network, agent
    return None


def burst_since(rows: Iterable[AnswerRow]) -> datetime:
    """From when earlier answers count towards a `burst`, a `device_churn` or a limit of these (the
    per-device hour is read apart: `device_hour_since`)."""
    window = max(BURST_WINDOW_SECONDS, CHURN_WINDOW_SECONDS, SENDER_LIMIT_SECONDS)
    return min(row.submitted_at for row in rows) - timedelta(seconds=window)


def device_hour_since(rows: Iterable[AnswerRow]) -> datetime:
    """From when a device's earlier answers count towards its DEVICE_LIMIT."""
    return min(row.submitted_at for row in rows) - timedelta(seconds=DEVICE_LIMIT_SECONDS)


# Refused by a rate limit: not stored (the sender is answered 429).
REFUSED = None


def repeat_checks(
    rows: Sequence[AnswerRow],
    by_device: Iterable[tuple[int, str, bool, bool]],
    by_network: Iterable[tuple[int, str, str | None, str | None]],
) -> list[set[Flag] | None]:
    """For answers about to be stored in this order, from the earlier answers of their rounds: the
    flags that depend on them (`duplicate_device`, `burst`, `device_churn`), or REFUSED for one over
    a rate limit. `by_device` is (round, device hash, submitted since burst_since(rows), submitted
    since device_hour_since(rows)) for each earlier answer from one of their devices; `by_network`
    (round, network hash, agent hash, device hash) for each earlier answer submitted since
    burst_since(rows) from one of their network addresses. Computed under the ledger's write lock, so
    every worker and server of a deployment is held to the same limits."""
    answered = set()
    recent: Counter[SenderKey | None] = Counter()
    hour: Counter[tuple[int, str]] = Counter()
    for survey, device, is_recent, in_hour in by_device:
        answered.add((survey, device))
        if is_recent:
            recent[(survey, device)] += 1
        if in_hour:
            hour[(survey, device)] += 1
    # New devices per (round, network, browser): device hashes, and a count of cookie-less answers.
    devices: dict[tuple[int, str, str | None], set[str]] = {}
    cookieless: Counter[tuple[int, str, str | None]] = Counter()
    for survey, network, agent, known in by_network:
        if known:
            devices.setdefault((survey, network, agent), set()).add(known)
        else:
            recent[(survey, network, agent)] += 1
            cookieless[(survey, network, agent)] += 1
    out: list[set[Flag] | None] = []
    for row in rows:
        sender = _sender(row.survey, row.device_hash, row.network_hash, row.agent_hash)
        place = (row.survey, row.network_hash, row.agent_hash) if row.network_hash else None
        new_device = not row.device_hash or (row.survey, row.device_hash) not in answered
        seen = devices.setdefault(place, set()) if place else set()
        churn = len(seen) + cookieless[place] if place else 0
        if (
            (row.device_hash and hour[(row.survey, row.device_hash)] >= DEVICE_LIMIT)
            or (not row.device_hash and sender is not None and recent[sender] >= SENDER_LIMIT)
            or (new_device and place is not None and churn >= CHURN_LIMIT)
        ):
            out.append(REFUSED)
            continue
        flags = set()
        if row.device_hash and (row.survey, row.device_hash) in answered:
            flags.add(Flag.duplicate_device)
        recent[sender] += 1
        if sender is not None and recent[sender] >= BURST_COUNT:
            flags.add(Flag.burst)
        if new_device and place is not None:
            if row.device_hash:
                seen.add(row.device_hash)
            else:
                cookieless[place] += 1
            if churn + 1 >= CHURN_COUNT:
                flags.add(Flag.device_churn)
        if row.device_hash:
            answered.add((row.survey, row.device_hash))
            hour[(row.survey, row.device_hash)] += 1
        out.append(flags)
    return out
