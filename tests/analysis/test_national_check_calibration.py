"""迎检预判 is calibrated: a small run of bench/national_check.py (simulated counties, each with its own
round through the product's estimator and the national team's own survey). The bench runs 12,000
counties and holds every decile of predicted probability within ±5 points; here 500 counties (a few
seconds: their rounds analysed without the per-item answers, which the prediction does not read) hold it
roughly: by fifths of predicted probability (0–20%, …, 80–100%), within ±12 points
wherever a fifth has 30 counties; among the uncertain counties (10–90%) and overall, the pass rate within
6 and 4 points of the mean prediction; and a better Brier score than "pass if the estimate ≥ target"."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[2] / "bench" / "national_check.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_national_check", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_the_prediction_is_calibrated_on_simulated_counties():
    bench = _bench()
    outcomes = bench.simulate(500, seed=7, processes=1, items=False)  # the prediction reads no item totals
    fifths = bench.reliability(outcomes, bins=5)
    assert sum(d.counties for d in fifths) == 500
    checked = [d for d in fifths if d.counties >= 30]
    assert len(checked) >= 4  # both ends and most of the middle
    for d in checked:
        assert abs(d.observed - d.predicted) <= 0.12, d
    for shown in (outcomes, [o for o in outcomes if 0.1 <= o.probability <= 0.9]):
        predicted = np.mean([o.probability for o in shown])
        observed = np.mean([o.passed for o in shown])
        assert abs(predicted - observed) <= (0.04 if shown is outcomes else 0.06), (len(shown), predicted, observed)
    deciles = bench.reliability(outcomes)
    model, naive = bench.brier(outcomes)
    assert model < naive
    table, _ = bench.report(outcomes, 0.05)
    assert "Brier" in table and table.count("\n| ") >= len(deciles)
