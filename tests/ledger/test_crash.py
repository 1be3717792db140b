"""SIGKILL the server mid-stream: every acknowledged answer is stored exactly once (bench/crash.py,
small, run as the script it is)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.helpers import POSTGRES_URL

CRASH = Path(__file__).resolve().parents[2] / "bench" / "crash.py"


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_no_acknowledged_answer_is_lost_or_doubled_by_a_crash(kind):
    if kind == "postgres" and not POSTGRES_URL:
        pytest.skip("needs SURVEY_TEST_POSTGRES_URL (always set in CI)")
    run = subprocess.run(
        [sys.executable, str(CRASH), "--database", kind, "--acknowledged", "150", "--clients", "16"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.stdout, run.stderr
    result = json.loads(run.stdout)
    assert result["acknowledged"] >= 150
    assert result["acknowledged_missing"] == 0
    assert result["stored_twice"] == 0
    assert result["stored"] >= result["acknowledged"]
    # Everything the clients never heard back about was retried and is now stored.
    assert result["stored"] == result["acknowledged"] + result["in_flight_at_kill"]
    assert result["chain_intact"]
    assert run.returncode == 0
