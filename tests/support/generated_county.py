"""A generated county for the school-ranking tests: 24 schools whose true 认可 rates lie around 90%, with
40 to 200 parents and students answering each, and one small school (甲小学, code S00) where 6 parents
answered and every answer was 认可."""

from __future__ import annotations

import numpy as np

from analysis import CellTotals, Design, School, Settings, Stratum

SMALL_SCHOOL = "S00"


def generated_county(seed: int = 14) -> tuple[Design, list[CellTotals]]:
    rng = np.random.default_rng(seed)
    schools = [School(code=SMALL_SCHOOL, name="甲小学")] + [
        School(code=f"S{k:02d}", name=f"第{k}小学") for k in range(1, 24)
    ]
    strata = [Stratum(group="public")]
    cells = [CellTotals(group="public", n=60, sum_y=52.5, sum_y2=49.0)]
    for school in schools:
        small = school.code == SMALL_SCHOOL
        truth = float(np.clip(rng.normal(0.9, 0.03), 0.7, 0.98))
        for group in ("parent", "student"):
            if small and group == "student":
                continue
            population = 30 if small else int(rng.integers(300, 900))
            strata.append(Stratum(group=group, school=school.code, population=population))
            n = 6 if small else int(rng.integers(40, 200))
            # y: the share of 8 items answered 认可; a respondent recognises all or most of them together.
            y = np.ones(n) if small else rng.binomial(8, rng.beta(truth * 6, (1 - truth) * 6, n)) / 8
            cells.append(CellTotals(group=group, school=school.code, n=n, sum_y=float(y.sum()), sum_y2=float(y @ y)))
    return Design(schools=schools, strata=strata, settings=Settings()), cells
