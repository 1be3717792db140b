"""SIGKILL the server mid-stream: every acknowledged answer is stored exactly once (bench/crash.py, small)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import POSTGRES_URL

# bench/ on the path only for this import: left there, its analysis.py would shadow the analysis
# package for every later import in the test run, the processes it spawns included.
BENCH = str(Path(__file__).resolve().parent.parent / "bench")
sys.path.insert(0, BENCH)
try:
    from crash import run_crash
finally:
    sys.path.remove(BENCH)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_no_acknowledged_answer_is_lost_or_doubled_by_a_crash(kind, tmp_path):
    if kind == "postgres" and not POSTGRES_URL:
        pytest.skip("needs SURVEY_TEST_POSTGRES_URL (always set in CI)")
    result = run_crash(kind, acknowledged=150, clients=16, directory=tmp_path)
    assert result["acknowledged"] >= 150
    assert result["acknowledged_missing"] == 0
    assert result["stored_twice"] == 0
    assert result["stored"] >= result["acknowledged"]
    # Everything the clients never heard back about was retried and is now stored.
    assert result["stored"] == result["acknowledged"] + result["in_flight_at_kill"]
    assert result["chain_intact"]
