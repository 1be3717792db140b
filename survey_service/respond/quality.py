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
    straight_liner = "straight_liner"  # one option for every rated item


FLAG_LABELS = {
    Flag.duplicate_device: "同一设备重复作答",
    Flag.burst: "短时间内集中提交",
    Flag.speeder: "答题过快",
    Flag.straight_liner: "所有题目选同一项",
}

# `burst`: this many answers or more from one device (or, without a device cookie, one network
# address with one browser) within the window.
BURST_COUNT = 5
BURST_WINDOW_SECONDS = 600
# `speeder`: under a third of the median time, and never under a second per rated item.
SPEEDER_SHARE_OF_MEDIAN = 1 / 3
SECONDS_PER_ITEM = 1.0
# `straight_liner` needs this many rated answers to mean anything.
STRAIGHT_LINE_MIN_ITEMS = 5


def straight_lined(questionnaire: Questionnaire, answers: Mapping[str, str]) -> bool:
    chosen = [answers[item.id] for item in questionnaire.rated_items if item.id in answers]
    return len(chosen) >= STRAIGHT_LINE_MIN_ITEMS and len(set(chosen)) == 1


def speeding(seconds: int | None, rated_items: int, median_seconds: float | None) -> bool:
    if seconds is None:
        return False
    floor = rated_items * SECONDS_PER_ITEM
    if median_seconds is not None:
        floor = max(floor, median_seconds * SPEEDER_SHARE_OF_MEDIAN)
    return seconds < floor


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
