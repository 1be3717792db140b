"""社会认可度 statistics: a pure library (numpy, scipy, msgspec; no I/O, no web, no database).

Call ``analyse(design, totals, items, validity_counts)`` with per-stratum totals (n, Σy,
Σy² per school x group; rated/recognised counts per item), or ``analyse_responses`` with
per-respondent arrays; both return a ``SurveyResult`` (a msgspec struct, JSON-ready).
``recognition`` turns one respondent's item answers into y; ``planning`` sizes samples.
"""

from analysis.design import GROUPS, CellTotals, Design, ItemTotals, School, Settings, Stratum, ValidityCounts
from analysis.planning import QuotaPlan, national_sample_size, plan_quotas, statistical_sample_size
from analysis.recognition import ItemAnswer, recognition, recognition_matrix, score
from analysis.report import analyse, analyse_responses
from analysis.results import Estimate, OverallEstimate, SurveyResult

__all__ = [
    "GROUPS",
    "CellTotals",
    "Design",
    "Estimate",
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
