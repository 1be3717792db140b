"""The validity marks of a tally (Tally.validity): why answers are not counted and which quality flags
they carry, each counted under one mark.

`Tally.add` writes them and `results.reasons` reads them; they are the keys of the JSON stored in
response_tally.validity, so a mark, once stored, never changes its spelling.
"""

from __future__ import annotations

from collections.abc import Mapping

FLAGGED = "flagged"  # answers with any quality flag
PENDING = "pending"  # flagged answers not yet decided in review (待审核): counted meanwhile
KEPT = "kept"  # flagged answers kept after review, whether or not a reason was given
REVIEWED = "reviewed"  # answers excluded after review, whether or not a reason was given
UNRATED = "unrated"  # valid answers without a y: every rated item 不了解 or left blank


def flag_mark(flag: str) -> str:
    """Answers carrying this quality flag (a respond.quality.Flag value)."""
    return f"flag_{flag}"


def reason_mark(reason: str) -> str:
    """Answers excluded after review for this reason (a review.service.ExclusionReason value)."""
    return f"reason_{reason}"


def kept_mark(reason: str) -> str:
    """Flagged answers kept after review for this reason (a review.service.KeepReason value)."""
    return f"kept_{reason}"


def source_mark(source: str) -> str:
    """Returned answers from elsewhere (a respond.sources.Source value other than online): online
    answers carry no mark, so tallies stored before answers had a source still hold."""
    return f"source_{source}"


def marks_of(flags: str, valid: bool, exclusion: str, kept: str, rated: bool, source: str = "") -> list[str]:
    """The marks one response counts under, from its stored flags (comma-joined), review decision
    (excluded with a reason, or kept with one), whether it has a y and where it came from."""
    marks = [*(flag_mark(flag) for flag in flags.split(",")), FLAGGED] if flags else []
    if source:
        marks.append(source_mark(source))
    if flags and valid:
        marks += [KEPT, kept_mark(kept)] if kept else [PENDING]
    if not valid:
        marks += [REVIEWED, reason_mark(exclusion)] if exclusion else [REVIEWED]
    elif not rated:
        marks.append(UNRATED)
    return marks


def count(validity: Mapping[str, int | None], mark: str) -> int:
    """How many answers a tally's (or a sum of tallies') validity counts under a mark."""
    return int(validity.get(mark) or 0)
