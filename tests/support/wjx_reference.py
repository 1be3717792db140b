"""R survey's figures for tests/reference/wjx_answers.csv (tests/reference/make_wjx_reference.R), held
against a result's JSON: estimates to 1e-9, standard errors to 1e-7, logit intervals to 1e-4."""

from __future__ import annotations

import pytest

from support.reference_data import read_json


def check_against_r(body: dict) -> None:
    r = read_json("wjx_reference.json")
    for group, expected in r["groups"].items():
        found = body["groups"][group]
        assert found["estimate"] == pytest.approx(expected["estimate"], abs=1e-9), group
        assert found["se"] == pytest.approx(expected["se"], abs=1e-7), group
        assert found["n"] == expected["n"], group
        if found["interval_rule"] == "design":
            assert found["ci_low"] == pytest.approx(expected["ci_logit"]["low"], abs=1e-4), group
            assert found["ci_high"] == pytest.approx(expected["ci_logit"]["high"], abs=1e-4), group
    overall, expected = body["overall"], r["overall"]
    assert overall["estimate"] == pytest.approx(expected["estimate"], abs=1e-9)
    assert overall["se"] == pytest.approx(expected["se"], abs=1e-7)
    assert overall["n"] == expected["n"] and overall["df"] == expected["df"]
    assert overall["ci_low"] == pytest.approx(expected["ci_logit"]["low"], abs=1e-4)
    assert overall["ci_high"] == pytest.approx(expected["ci_logit"]["high"], abs=1e-4)
    validity = body["validity"]
    assert validity["returned"] == r["returned"] and validity["valid"] == r["returned"] - len(r["invalid"])
    assert validity["excluded"] == {"no_rated_answer": len(r["invalid"])}
