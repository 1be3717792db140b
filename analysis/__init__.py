"""社会认可度 statistics: a pure library (numpy, scipy, msgspec; no I/O, no web, no database).

Call ``analyse(design, totals, items, validity_counts)`` with per-stratum totals (n, Σy,
Σy² per school x group; rated/recognised counts per item), or ``analyse_responses`` with
per-respondent arrays; both return a ``SurveyResult`` (a msgspec struct, JSON-ready).
``recognition`` turns one respondent's item answers into y; ``planning`` sizes samples.
"""

import importlib
from typing import TYPE_CHECKING, Any

from analysis.design import (
    COUNTY_GROUPS,
    GROUPS,
    INTERVAL_METHODS,
    SCHOOL_GROUPS,
    CellTotals,
    Design,
    Group,
    IntervalMethod,
    ItemTotals,
    School,
    Settings,
    Stratum,
    ValidityCounts,
)
from analysis.recognition import ItemAnswer, recognition, recognition_matrix, score
from analysis.results import Estimate, OverallEstimate, SurveyResult

if TYPE_CHECKING:
    from analysis.planning import QuotaPlan, national_sample_size, plan_quotas, statistical_sample_size
    from analysis.report import analyse, analyse_responses

# The structs and the recognition rule (msgspec, numpy) load at once; planning and the estimators
# (scipy) on first use: the service takes its respondent groups from analysis.design, and a command
# that computes nothing should not wait for scipy. `recognition` is imported at once because it is
# also a submodule's name: imported later, whoever imported the submodule first would find the
# module under that name, not the function.
_LAZY = {
    "QuotaPlan": "analysis.planning",
    "national_sample_size": "analysis.planning",
    "plan_quotas": "analysis.planning",
    "statistical_sample_size": "analysis.planning",
    "analyse": "analysis.report",
    "analyse_responses": "analysis.report",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "COUNTY_GROUPS",
    "GROUPS",
    "INTERVAL_METHODS",
    "SCHOOL_GROUPS",
    "CellTotals",
    "Design",
    "Estimate",
    "Group",
    "IntervalMethod",
    "ItemAnswer",
    "ItemTotals",
    "OverallEstimate",
    "QuotaPlan",
    "School",
    "Settings",
    "Stratum",
    "SurveyResult",
    "ValidityCounts",
    "analyse",
    "analyse_responses",
    "national_sample_size",
    "plan_quotas",
    "recognition",
    "recognition_matrix",
    "score",
    "statistical_sample_size",
]
