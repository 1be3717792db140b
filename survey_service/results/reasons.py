"""Why a returned questionnaire is not counted (keys of validity.excluded), with Chinese labels.

Exclusions after review carry their reason (review.service.ExclusionReason, stored in
response.exclusion); one without a known reason counts as `excluded_by_review`.
"""

from survey_service.ledger.validity import (
    KEPT,
    REVIEWED,
    UNRATED,
    count,
    flag_mark,
    kept_mark,
    reason_mark,
    source_mark,
)
from survey_service.respond.quality import FLAG_LABELS, Flag
from survey_service.respond.sources import SOURCE_LABELS, Source
from survey_service.review.service import EXCLUSION_LABELS, KEEP_LABELS, ExclusionReason, KeepReason

EXCLUDED_BY_REVIEW = "excluded_by_review"  # marked not valid, no known reason
NO_RATED_ANSWER = "no_rated_answer"  # every rated item answered 不了解 (or left blank): no y

LABELS = {
    EXCLUDED_BY_REVIEW: "审核后剔除",
    NO_RATED_ANSWER: "所有题目均为“不了解”或未答",
    **{reason.value: f"审核后剔除（{label}）" for reason, label in EXCLUSION_LABELS.items()},
}

KEPT_WITHOUT_REASON = "kept_by_review"  # kept after review, no known reason
KEPT_LABELS = {KEPT_WITHOUT_REASON: "其他", **{reason.value: label for reason, label in KEEP_LABELS.items()}}

FLAG_TEXTS = {flag.value: label for flag, label in FLAG_LABELS.items()}
SOURCE_TEXTS = {(source.value or "online"): label for source, label in SOURCE_LABELS.items()}


def excluded_counts(row: dict) -> dict[str, int]:
    """validity.excluded from the validity marks of a tally (ledger.validity): only reasons that occur."""
    by_reason = {r.value: count(row, reason_mark(r.value)) for r in ExclusionReason}
    counts = {
        **by_reason,
        EXCLUDED_BY_REVIEW: count(row, REVIEWED) - sum(by_reason.values()),
        NO_RATED_ANSWER: count(row, UNRATED),
    }
    return {reason: n for reason, n in counts.items() if n > 0}


def flag_counts(row: dict) -> dict[str, int]:
    """validity.flags from the validity marks of a tally (ledger.validity): only flags that occur."""
    counts = {f.value: count(row, flag_mark(f.value)) for f in Flag}
    return {flag: n for flag, n in counts.items() if n > 0}


def source_counts(row: dict) -> dict[str, int]:
    """validity.sources from the validity marks of a tally: returned answers by where they came from
    ("online", "wjx", "paper"), only when some came from elsewhere (else empty)."""
    elsewhere = {s.value: count(row, source_mark(s.value)) for s in Source if s is not Source.online}
    if not any(elsewhere.values()):
        return {}
    online = count(row, "returned") - sum(elsewhere.values())
    return {"online": online, **{source: n for source, n in elsewhere.items() if n > 0}}


def kept_counts(row: dict) -> dict[str, int]:
    """validity.kept from the validity marks of a tally: flagged answers kept after review, by reason
    (only reasons that occur)."""
    by_reason = {r.value: count(row, kept_mark(r.value)) for r in KeepReason}
    counts = {**by_reason, KEPT_WITHOUT_REASON: count(row, KEPT) - sum(by_reason.values())}
    return {reason: n for reason, n in counts.items() if n > 0}
