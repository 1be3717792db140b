"""Quality flags: signs of careless or organised answering (杜绝专门组织人员进行虚假填报).

A flag never drops an answer: flagged answers are stored and counted until the bureau, after
review, excludes one with a written reason.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Mapping

from survey_service.questionnaire import Questionnaire


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


def join_flags(flags: set[Flag]) -> str:
    return ",".join(sorted(flags))
