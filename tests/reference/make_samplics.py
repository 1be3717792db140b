"""Second reference: samplics' Taylor estimator on the generated school survey.

Run from the repository root:  python tests/reference/make_samplics.py
Writes tests/reference/samplics_reference.json; the tests read only that file.

samplics has no lonely.psu = "adjust" (its single-PSU options are error, skip,
certainty, combine), so the teacher group (one stratum with a lone respondent) is
left out; every other group matches the R design of make_reference.R.
"""

import csv
import json
import pathlib
import warnings

import numpy as np

warnings.simplefilter("ignore", FutureWarning)
from samplics.estimation import TaylorEstimator  # noqa: E402
from samplics.utils.types import PopParam, SinglePSUEst  # noqa: E402

HERE = pathlib.Path(__file__).parent
GROUPS = ["student", "parent", "principal", "deputy", "public"]


def main() -> None:
    rows = list(csv.DictReader(open(HERE / "school_responses.csv", encoding="utf-8")))
    populations = {
        (r["school"], r["group"]): r["population"]
        for r in csv.DictReader(open(HERE / "school_strata.csv", encoding="utf-8"))
    }
    items = [f"item{j}" for j in range(1, 9)]
    answers = np.array([[np.nan if r[i] == "" else float(r[i]) for i in items] for r in rows])
    y = np.nanmean(answers, axis=1)
    stratum = np.array([f"{r['group']}@{r['school']}" for r in rows])
    group = np.array([r["group"] for r in rows])
    counts = {s: int((stratum == s).sum()) for s in np.unique(stratum)}
    weight, fpc = np.empty(len(rows)), {}
    for k, r in enumerate(rows):
        population = populations[(r["school"], r["group"])]
        n = counts[stratum[k]]
        weight[k] = float(population) / n if population else 1.0
        fpc[stratum[k]] = max(0.0, 1 - n / float(population)) if population else 1.0
    fpc = {s: fpc[s] for s in np.unique(stratum)}  # samplics wants the strata's sorted order
    estimator = TaylorEstimator(PopParam.mean)
    estimator.estimate(
        y=y,
        samp_weight=weight,
        stratum=stratum,
        psu=np.arange(len(rows)),
        domain=group,
        fpc=fpc,
        single_psu=SinglePSUEst.skip,
    )
    out = {g: {"estimate": float(estimator.point_est[g]), "se": float(estimator.stderror[g])} for g in GROUPS}
    (HERE / "samplics_reference.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
