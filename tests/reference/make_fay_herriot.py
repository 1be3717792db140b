"""Reference for the Fay–Herriot school estimates: samplics' EblupAreaModel (REML) on generated data.

Run from the repository root:  python tests/reference/make_fay_herriot.py
Writes tests/reference/fay_herriot_reference.json (each case's inputs and samplics' estimates, MSEs,
fixed effects and model variance); the tests read only that file.

The data are generated here with a fixed seed, like a county's schools: rates around 90%, answers per
school from 5 to 300, sampling variances p(1 − p)/n times a design effect. One case is intercept only
(as the product fits), one has a larger county, one has covariates (学段 and 城区/镇区 dummies), and in
one the schools differ by sampling error alone (the REML estimate of σ²_v is 0).
samplics stops Fisher scoring on a relative change of `tol`: it is run with 1e-13 so that its answer is
the REML solution itself, not a point on the way.
"""

import json
import pathlib
import warnings

import numpy as np

warnings.simplefilter("ignore", FutureWarning)
from samplics.sae import EblupAreaModel  # noqa: E402
from samplics.utils.types import FitMethod  # noqa: E402

HERE = pathlib.Path(__file__).parent


def county(rng: np.random.Generator, schools: int, covariates: bool, spread: float = 0.04) -> dict:
    n = rng.choice([5, 6, 8, 12, 20, 40, 80, 150, 300], size=schools)
    stage = (rng.random(schools) < 0.3).astype(float)  # 初中
    location = rng.choice(3, size=schools)  # 城区 / 镇区 / 乡村
    urban, town = (location == 0).astype(float), (location == 1).astype(float)
    x = np.column_stack([stage, urban, town])
    effect = x @ np.array([-0.04, 0.03, 0.01]) if covariates else 0.0
    truth = np.clip(0.88 + effect + rng.normal(0, spread, schools), 0.5, 0.99)
    deff = rng.uniform(0.8, 1.6, schools)
    y = np.clip(truth + rng.normal(0, np.sqrt(truth * (1 - truth) / n)), 0, 1)
    psi = np.maximum(y * (1 - y), 0.02) * deff / n
    case = {"y": y.tolist(), "psi": psi.tolist(), "n": n.tolist()}
    if covariates:
        case["x"] = x.tolist()
    return case


def fit(case: dict) -> dict:
    y, psi = np.array(case["y"]), np.array(case["psi"])
    x = np.array(case["x"]) if "x" in case else np.empty((y.size, 0))
    area = np.arange(y.size)
    model = EblupAreaModel(method=FitMethod.reml)
    model.fit(yhat=y, X=x, area=area, error_std=np.sqrt(psi), intercept=True, tol=1e-13, maxiter=1000)
    assert model.convergence["achieved"], model.convergence
    model.predict(X=x, area=area, intercept=True)
    return {
        "estimate": [float(model.area_est[a]) for a in area],
        "mse": [float(model.area_mse[a]) for a in area],
        "beta": [float(b) for b in model.fixed_effects],
        "model_variance": float(model.re_std**2),
    }


def main() -> None:
    rng = np.random.default_rng(20260514)
    cases = {
        "county_20": county(rng, 20, covariates=False),
        "county_60": county(rng, 60, covariates=False),
        "covariates_40": county(rng, 40, covariates=True),
        # Schools that differ by sampling error alone: REML's maximum is at σ²_v = 0 (every school
        # gets the county mean).
        "no_school_variance_15": county(rng, 15, covariates=False, spread=0.0),
    }
    out = {name: {"input": case, "samplics": fit(case)} for name, case in cases.items()}
    (HERE / "fay_herriot_reference.json").write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
