"""Year over year (与上一轮对比): this round minus a previous one, overall, per group, item and school.

The two rounds are independent samples (each drawn afresh from its own frame), so

    d = P_now − P_before,   Var(d) = Var(P_now) + Var(P_before),

exactly what R's svycontrast gives on the two rounds stacked with the round in the strata (no
stratum spans both rounds, so their covariance is 0). The test is two-sided, t = d / SE on
df = df_now + df_before (R's degf() of the stacked design restricted to the domain: each round's
df is its own degf), and the interval is d ± t_{1−α/2, df} SE (a difference may be negative: no
transformation). A census on both sides has no sampling error: any difference is certain.

Verdict per line at the current round's confidence level: 显著提高 (rise) when p < α and d > 0,
显著下降 (fall) when p < α and d < 0, else 无显著变化 (no_change). An item whose wording or scale
changed between the rounds, one missing from a round, or a school with too few answers to show in
either round is 不可比 (not_comparable, with the reason) and never tested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import msgspec
import numpy as np

from analysis.comparison_results import Change, Comparison, NotComparableReason, TrendPoint

if TYPE_CHECKING:
    from analysis.results import DomainRow, Estimate, SchoolRow, SurveyResult


def difference_tests(
    now: np.ndarray,
    now_var: np.ndarray,
    now_df: np.ndarray,
    before: np.ndarray,
    before_var: np.ndarray,
    before_df: np.ndarray,
    confidence_level: float,
) -> dict[str, np.ndarray]:
    """Vectorised: difference, SE, df, interval, two-sided p and verdict for each pair."""
    from scipy import stats  # on first use: the result structs load without scipy (analysis/__init__.py)

    now, before = np.asarray(now, dtype=float), np.asarray(before, dtype=float)
    d = now - before
    se = np.sqrt(np.asarray(now_var, dtype=float) + np.asarray(before_var, dtype=float))
    df = np.maximum(np.asarray(now_df, dtype=float) + np.asarray(before_df, dtype=float), 1)
    alpha = 1 - confidence_level
    half = stats.t.ppf(1 - alpha / 2, df) * se
    positive = se > 0
    t = d / np.where(positive, se, 1)
    # No sampling error on either side (a census, or every answer equal): a difference is certain.
    p = np.where(positive, 2 * stats.t.sf(np.abs(t), df), np.where(d != 0, 0.0, 1.0))
    significant = p < alpha
    verdict = np.where(significant & (d > 0), "rise", np.where(significant & (d < 0), "fall", "no_change"))
    return {"difference": d, "se": se, "df": df, "low": d - half, "high": d + half, "p": p, "verdict": verdict}


def _changes(
    keys: Sequence[str],
    pairs: Sequence[tuple[Estimate | None, Estimate | None]],
    confidence_level: float,
    blocked: Mapping[str, NotComparableReason] | None = None,
    names: Mapping[str, str] | None = None,
    questionnaires: Mapping[str, str] | None = None,
) -> list[Change]:
    """A Change per key: tested where both rounds have a shown estimate and nothing blocks it."""
    blocked = blocked or {}
    reasons: list[NotComparableReason | None] = []
    tested: list[int] = []
    columns: list[tuple[float, float, int, float, float, int]] = []  # (p, Var, df) now, then before
    for k, (key, (now, before)) in enumerate(zip(keys, pairs, strict=True)):
        if key in blocked:
            reasons.append(blocked[key])
        elif now is None or before is None:
            reasons.append("missing")
        elif now.suppressed or before.suppressed:
            reasons.append("too_few")
        else:
            reasons.append(None)
            tested.append(k)
            columns.append((now.estimate, now.se**2, now.df, before.estimate, before.se**2, before.df))
    now_p, now_var, now_df, before_p, before_var, before_df = np.array(columns, dtype=float).reshape(-1, 6).T
    found = difference_tests(now_p, now_var, now_df, before_p, before_var, before_df, confidence_level)
    position = {k: j for j, k in enumerate(tested)}
    out = []
    for k, key in enumerate(keys):
        now, before = pairs[k]
        shown_now = None if now is None or now.suppressed else now
        shown_before = None if before is None or before.suppressed else before
        common = {
            "key": key,
            "name": (names or {}).get(key, ""),
            "questionnaire": (questionnaires or {}).get(key),
            "current": None if shown_now is None else shown_now.estimate,
            "previous": None if shown_before is None else shown_before.estimate,
            "n_current": 0 if now is None else now.n,
            "n_previous": 0 if before is None else before.n,
        }
        if k not in position:
            out.append(Change(**common, verdict="not_comparable", reason=reasons[k]))  # type: ignore[arg-type]
            continue
        j = position[k]
        out.append(
            Change(
                **common,  # type: ignore[arg-type]
                difference=float(found["difference"][j]),
                se=float(found["se"][j]),
                ci_low=float(found["low"][j]),
                ci_high=float(found["high"][j]),
                df=int(found["df"][j]),
                p_value=float(found["p"][j]),
                verdict=str(found["verdict"][j]),  # type: ignore[arg-type]
            )
        )
    return out


def item_key(questionnaire: str | None, item: str) -> str:
    """An item's line in the comparison: by questionnaire and id (one questionnaire: the id alone)."""
    return item if questionnaire is None else f"{questionnaire}:{item}"


def compare(
    current: SurveyResult,
    previous: SurveyResult,
    *,
    previous_round: int | None = None,
    previous_title: str = "",
    current_items: Mapping[str, DomainRow] | None = None,
    previous_items: Mapping[str, DomainRow] | None = None,
    current_wording: Mapping[str, str] | None = None,
    previous_wording: Mapping[str, str] | None = None,
    trend: Sequence[TrendPoint] = (),
) -> Comparison:
    """This round against a previous one.

    Items are matched by key (``item_key``): by default each result's own ``items`` by id; a caller
    with several questionnaires passes ``current_items`` / ``previous_items`` keyed by questionnaire
    and id. ``*_wording`` maps an item key to what a respondent saw (its text and the options, in
    any stable form): an item whose wording differs between the rounds is not comparable; an item
    without wording on either side is taken as unchanged.
    """
    level = current.confidence_level
    now_items = current_items if current_items is not None else {row.key: row for row in current.items}
    before_items = previous_items if previous_items is not None else {row.key: row for row in previous.items}
    now_wording, before_wording = current_wording or {}, previous_wording or {}
    changed: dict[str, NotComparableReason] = {
        key: "changed"
        for key in now_items
        if key in now_wording and key in before_wording and now_wording[key] != before_wording[key]
    }
    item_keys = list(now_items)
    questionnaires = {k: k.partition(":")[0] for k in item_keys if ":" in k}
    group_keys = [g for g in current.groups if g in previous.groups] + [
        g for g in current.groups if g not in previous.groups
    ]
    before_schools: dict[str, SchoolRow] = {s.key: s for s in previous.schools}
    school_keys = [s.key for s in current.schools]
    overall = None
    if current.overall is not None and previous.overall is not None:
        overall = _changes(["overall"], [(current.overall, previous.overall)], level)[0]
    return Comparison(
        previous_round=previous_round,
        previous_title=previous_title,
        confidence_level=level,
        overall=overall,
        groups=_changes(group_keys, [(current.groups[g], previous.groups.get(g)) for g in group_keys], level),
        items=[
            msgspec.structs.replace(c, key=c.key.partition(":")[2]) if c.questionnaire else c
            for c in _changes(
                item_keys,
                [(now_items[k].overall, before_items[k].overall if k in before_items else None) for k in item_keys],
                level,
                blocked=changed,
                questionnaires=questionnaires,
            )
        ],
        schools=_changes(
            school_keys,
            [(s.overall, before_schools[s.key].overall if s.key in before_schools else None) for s in current.schools],
            level,
            names={s.key: s.name for s in current.schools},
        ),
        trend=list(trend),
    )
