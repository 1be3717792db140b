"""Reference data for the analysis tests: read from tests/reference/, never from R."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.design import CellTotals, Design, ItemTotals, School, Settings, Stratum
from analysis.recognition import recognition_matrix
from analysis.responses import totals_from_responses
from support.reference_data import read_csv, read_json

ITEMS = [f"item{j}" for j in range(1, 9)]


@pytest.fixture(scope="session")
def api_reference() -> dict:
    return read_json("api_reference.json")


@pytest.fixture(scope="session")
def school_reference() -> dict:
    return read_json("school_reference.json")


@pytest.fixture(scope="session")
def school_responses() -> dict:
    """The generated survey's respondents: school, group, item answers and y."""
    rows = read_csv("school_responses.csv")
    answers = np.array([[np.nan if r[i] == "" else float(r[i]) for i in ITEMS] for r in rows])
    excluded = np.isnan(answers)
    recognised = np.nan_to_num(answers) == 1
    return {
        "schools": [r["school"] or None for r in rows],
        "groups": [r["group"] for r in rows],
        "recognised": recognised,
        "excluded": excluded,
        "y": recognition_matrix(recognised, excluded),
    }


@pytest.fixture(scope="session")
def school_totals(school_responses) -> tuple[list[CellTotals], list[ItemTotals]]:
    r = school_responses
    return totals_from_responses(
        r["schools"],
        r["groups"],
        r["y"],
        item_names=ITEMS,
        item_recognised=r["recognised"],
        item_excluded=r["excluded"],
    )


@pytest.fixture(scope="session")
def school_design():
    """A factory: the generated survey's design with the given settings."""
    return _school_design


def _school_design(**settings) -> Design:
    schools = [
        School(code=r["school"], location=r["location"], stage=r["stage"]) for r in read_csv("school_schools.csv")
    ]
    strata = [
        Stratum(
            school=r["school"] or None, group=r["group"], population=int(r["population"]) if r["population"] else None
        )
        for r in read_csv("school_strata.csv")
    ]
    return Design(schools=schools, strata=strata, settings=Settings(**settings))
