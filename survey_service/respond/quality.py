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


FLAG_LABELS = {
    Flag.duplicate_device: "同一设备重复作答",
    Flag.burst: "短时间内集中提交",
    Flag.speeder: "答题过快",
    Flag.straight_liner: "所有题目选同一项（该项不计为认可，或答题过快）",
}

# `burst`: this many answers or more from one device (or, without a device cookie, one network
# address with one browser) within the window.
BURST_COUNT = 5
BURST_WINDOW_SECONDS = 600
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
    """From when earlier answers count towards a `burst` of these."""
    return min(row.submitted_at for row in rows) - timedelta(seconds=BURST_WINDOW_SECONDS)


def repeat_flags(
    rows: Sequence[AnswerRow],
    by_device: Iterable[tuple[int, str, bool]],
    by_network: Iterable[tuple[int, str, str | None]],
) -> list[set[Flag]]:
    """`duplicate_device` and `burst` of answers about to be stored in this order, from the earlier
    answers of their rounds: `by_device` (round, device hash, submitted since burst_since(rows)) for
    each earlier answer from one of their devices, `by_network` (round, network hash, agent hash)
    for each earlier answer without a device cookie submitted since burst_since(rows) from one of
    their network addresses."""
    answered = set()
    recent: Counter[SenderKey | None] = Counter()
    for survey, device, is_recent in by_device:
        answered.add((survey, device))
        if is_recent:
            recent[(survey, device)] += 1
    recent.update(_sender(survey, None, network, agent) for survey, network, agent in by_network)
    out = []
    for row in rows:
        flags = set()
        if row.device_hash and (row.survey, row.device_hash) in answered:
            flags.add(Flag.duplicate_device)
        sender = _sender(row.survey, row.device_hash, row.network_hash, row.agent_hash)
        recent[sender] += 1
        if sender is not None and recent[sender] >= BURST_COUNT:
            flags.add(Flag.burst)
        if row.device_hash:
            answered.add((row.survey, row.device_hash))
        out.append(flags)
    return out
