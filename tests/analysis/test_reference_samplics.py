"""samplics' Taylor estimator as a second reference (values committed by make_samplics.py).

samplics has no lonely.psu = "adjust", so the teacher group (a lone respondent in S05)
is not in its fixture.
"""

from __future__ import annotations

import pytest

from analysis.report import analyse
from support.reference_data import read_json


def test_groups_match_samplics(school_design, school_totals):
    cells, items = school_totals
    result = analyse(school_design(), cells, items)
    reference = read_json("samplics_reference.json")
    assert set(reference) == {"student", "parent", "principal", "deputy", "public"}
    for group, r in reference.items():
        assert result.groups[group].estimate == pytest.approx(r["estimate"], abs=1e-9)
        assert result.groups[group].se == pytest.approx(r["se"], abs=1e-9)
