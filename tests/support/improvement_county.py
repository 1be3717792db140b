"""A generated county for the 整改清单 tests: schools × groups × items answered at a county rate, with
chosen school × item cells truly lower (by default 15 points), so that the true and false signals are
known. Respondents answer each item 认可 with the cell's true rate, or 不了解 now and then. Populations are
50 to 100 times the answers: the finite population correction is near 1, so that answers drawn afresh
in every simulated county vary as the design's variance says (a small population would make each draw
a new population, not a new sample of one)."""

from __future__ import annotations

import dataclasses

import numpy as np

from analysis import Design, School, Settings, Stratum
from analysis.recognition import recognition_matrix
from analysis.responses import totals_from_responses

SCHOOL_GROUPS = ("student", "parent", "teacher")
COUNTY_GROUPS = ("deputy", "public")


@dataclasses.dataclass(frozen=True)
class County:
    design: Design
    schools: list[str | None]  # per respondent
    groups: list[str]
    items: list[str]
    recognised: np.ndarray  # respondents × items
    excluded: np.ndarray
    below: set[tuple[str, str]]  # (school code, item) truly below the county rate

    def totals(self):
        """(cell totals, item totals) as the service aggregates them."""
        y = recognition_matrix(self.recognised, self.excluded)
        return totals_from_responses(
            self.schools,
            self.groups,
            y,
            item_names=self.items,
            item_recognised=self.recognised,
            item_excluded=self.excluded,
        )


def generated(
    rng: np.random.Generator,
    *,
    schools: int = 30,
    items: int = 6,
    per_stratum: tuple[int, int] = (40, 80),
    below: int = 6,
    rate: float = 0.88,
    drop: float = 0.15,
    unknown: float = 0.05,
    **settings,
) -> County:
    """`below` school × item cells (distinct schools) are `drop` under `rate`; the rest at `rate`."""
    codes = [f"S{k:02d}" for k in range(schools)]
    names = [f"item{j}" for j in range(items)]
    chosen = rng.choice(schools, size=below, replace=False)
    low = {(codes[s], names[int(rng.integers(items))]) for s in chosen}
    strata, who, group_of, truth = [], [], [], []
    for code in codes:
        for group in SCHOOL_GROUPS:
            n = int(rng.integers(*per_stratum))
            strata.append(Stratum(group=group, school=code, population=int(n * rng.uniform(50, 100))))
            who += [code] * n
            group_of += [group] * n
            truth += [[rate - drop if (code, item) in low else rate for item in names]] * n
    for group in COUNTY_GROUPS:
        n = int(rng.integers(*per_stratum))
        strata.append(Stratum(group=group, population=None if group == "public" else n * 60))
        who += [None] * n
        group_of += [group] * n
        truth += [[rate] * items] * n
    p = np.array(truth)
    recognised = rng.random(p.shape) < p
    excluded = rng.random(p.shape) < unknown
    design = Design(
        schools=[School(code=c, name=f"第{k + 1}小学") for k, c in enumerate(codes)],
        strata=strata,
        settings=Settings(**settings),
    )
    return County(design, who, group_of, names, recognised & ~excluded, excluded, low)
