"""How far one answer travels through our own code: from `POST /s/{token}` to the committed row.

Builds the demo round on SQLite, opens one parent link in-process (Litestar's test client, the
response writer and its store in the same process), then posts the form while a profiler hook
records every call between functions of `survey_service/` and `analysis/`. Prints the files the
answer passes through, the distinct file-to-file calls (hops), and the files reached from the
answer page's post to the database.

    python bench/hops.py [--show]

Only the project's public entry points are used (`create_app`, `survey-service demo`), so the same
script measures any version of the layout.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import threading
from pathlib import Path

from common import cli
from litestar.testing import AsyncTestClient

HOUSE = ("survey_service", "analysis")


def _ours(filename: str) -> str | None:
    parts = Path(filename).parts
    for top in HOUSE:
        if top in parts:
            at = len(parts) - 1 - parts[::-1].index(top)
            return "/".join(parts[at:])
    return None


async def one_answer(db: Path) -> list[tuple[str, str]]:
    """The (caller file, callee file) of every call between our files while one answer is posted."""
    from survey_service.app import create_app  # the one app factory of every version

    try:
        from survey_service.core.settings import load_settings
    except ImportError:  # the layout before core/
        from survey_service.settings import load_settings  # type: ignore[no-redef]
    settings = load_settings({"SURVEY_DATABASE_URL": str(db), "SURVEY_SECRET": "x" * 40})
    app = create_app(settings)
    links = cli("links", "export", env={**os.environ, "SURVEY_DATABASE_URL": str(db)})
    parent = next(line for line in links.splitlines() if ",parent," in line)
    token = re.search(r"/s/([A-Za-z0-9_-]+)", parent)
    assert token is not None
    calls: list[tuple[str, str]] = []
    recording = threading.Event()

    def profile(frame, event, arg):  # sys.setprofile's signature
        if not recording.is_set() or event != "call" or frame.f_back is None:
            return
        callee = _ours(frame.f_code.co_filename)
        if callee is None:
            return
        caller_frame = frame.f_back
        while caller_frame is not None and _ours(caller_frame.f_code.co_filename) is None:
            caller_frame = caller_frame.f_back  # through the framework, to our nearest caller
        caller = _ours(caller_frame.f_code.co_filename) if caller_frame is not None else None
        if caller is not None and caller != callee:
            calls.append((caller, callee))

    # The test client serves the app on a thread of its own, started with the client: hook every
    # thread from now on, and record only while the answer is posted.
    threading.setprofile(profile)
    sys.setprofile(profile)
    async with AsyncTestClient(app=app) as client:
        page = (await client.get(f"/s/{token.group(1)}")).text
        fields = dict(re.findall(r'name="(_[a-z]+)" value="([^"]*)"', page))
        for item in dict.fromkeys(re.findall(r'type="radio" name="([^"]+)"', page)):
            fields[item] = re.search(rf'type="radio" name="{re.escape(item)}" value="([^"]+)"', page).group(1)
        recording.set()
        try:
            posted = await client.post(f"/s/{token.group(1)}", data=fields, follow_redirects=False)
        finally:
            recording.clear()
    sys.setprofile(None)
    threading.setprofile(None)
    assert posted.status_code == 303, posted.text
    return calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="print every file-to-file call")
    args = parser.parse_args()
    db = Path(tempfile.mkdtemp(prefix="hops-")) / "hops.db"
    cli("demo", "--no-serve", "--empty", "--db", str(db), env={**os.environ, "SURVEY_DATABASE_URL": str(db)})
    calls = asyncio.run(one_answer(db))
    hops = sorted(set(calls))
    files = sorted({file for hop in hops for file in hop})
    print(f"files: {len(files)}")
    print(f"distinct file-to-file calls (hops): {len(hops)}")
    print(f"file-to-file calls made (with repeats): {len(calls)}")
    if args.show:
        for caller, callee in hops:
            print(f"  {caller} -> {callee}")
        print("files:", *files, sep="\n  ")


if __name__ == "__main__":
    main()
