"""`survey-service` commands run on a test's database in a process of their own, as the bureau runs
them: `verify` (the chain, the seals and the tallies), `report`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile


def command(settings, name: str, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SURVEY_DATABASE_URL": settings.database_url,
        "SURVEY_SECRET": settings.secret,
        "SURVEY_SIGNING_KEY_FILE": settings.signing_key_file,
    }
    db = [] if settings.is_postgres else ["--db", settings.sqlite_path]
    return subprocess.run(
        [sys.executable, "-m", "survey_service", name, *db, *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        timeout=120,
    )


def verify(settings) -> subprocess.CompletedProcess:
    return command(settings, "verify")
