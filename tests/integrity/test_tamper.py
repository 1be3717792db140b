"""Tamper evidence against an insider with the whole database (issue 13, item 3): each tampering is made
directly in the database, as such an insider would, and `survey-service verify` must name it in words.
Real SQLite and PostgreSQL (tests/conftest.py)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import tempfile
from operator import itemgetter

import pytest

from support.helpers import answer, fetch, link_for

GROUPS = ("parent", "parent", "student", "teacher", "deputy", "parent")


def env_of(settings) -> dict[str, str]:
    return {
        **os.environ,
        "SURVEY_DATABASE_URL": settings.database_url,
        "SURVEY_SECRET": settings.secret,
        "SURVEY_SIGNING_KEY_FILE": settings.signing_key_file,
    }


def cli(settings, *args: str) -> subprocess.CompletedProcess:
    db = [] if settings.is_postgres else ["--db", settings.sqlite_path]
    return subprocess.run(
        [sys.executable, "-m", "survey_service", args[0], *db, *args[1:]],
        capture_output=True,
        text=True,
        env=env_of(settings),
        cwd=tempfile.gettempdir(),
        timeout=120,
    )


async def run(settings, *args: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(cli, settings, *args)


@pytest.fixture
async def answered(client, demo_links, settings):
    """Six answers, one of them excluded in review (so the audit log has an entry), and the engine
    bound on this loop again for direct service calls."""
    from survey_service.db.engine import bind, make_engine, open_pool
    from survey_service.review.service import decide

    for group in GROUPS:
        assert await answer(client, link_for(demo_links, group), "mixed") == 303
    engine = bind(make_engine(settings))
    await open_pool(engine)
    stored = await fetch(settings, "SELECT id, link FROM response ORDER BY id")
    await decide(demo_links[0].survey, [stored[1]["id"]], "exclude", "duplicate", "同一家长重复提交两次", "admin")
    ok = await run(settings, "verify")
    assert ok.returncode == 0, ok.stderr
    return stored


async def test_an_untouched_database_passes_and_a_printed_report_carries_a_checkpoint_verify_accepts(
    answered, demo_links, settings, tmp_path
):
    printed = tmp_path / "report.md"
    made = await run(settings, "report", "--out", str(printed))
    assert made.returncode == 0, made.stderr
    text = printed.read_text(encoding="utf-8")
    line = re.search(r"检查点 \(checkpoint\) v1 .*", text)
    assert line and f"answers={len(GROUPS)}" in line.group(0) and "sig=" in line.group(0)
    ok = await run(settings, "verify", "--checkpoint", str(printed))
    assert ok.returncode == 0, ok.stderr
    assert "检查点相符 (checkpoint holds)" in ok.stdout and "sealed records agree" in ok.stdout
    # The copied line alone, and the JSON report's checkpoint, are accepted too.
    copied = tmp_path / "line.txt"
    copied.write_text(line.group(0).strip("`"), encoding="utf-8")
    assert (await run(settings, "verify", "--checkpoint", str(copied))).returncode == 0
    as_json = tmp_path / "report.json"
    assert (await run(settings, "report", "--format", "json", "--out", str(as_json))).returncode == 0
    assert (await run(settings, "verify", "--checkpoint", str(as_json))).returncode == 0


async def test_a_forged_checkpoint_is_refused(answered, settings, tmp_path):
    printed = tmp_path / "report.md"
    assert (await run(settings, "report", "--out", str(printed))).returncode == 0
    text = printed.read_text(encoding="utf-8")
    # Claiming more answers than were there, keeping the signature: it no longer verifies.
    forged = tmp_path / "forged.md"
    forged.write_text(re.sub(r"answers=\d+", "answers=999", text), encoding="utf-8")
    refused = await run(settings, "verify", "--checkpoint", str(forged))
    assert refused.returncode == 1 and "签名无效" in refused.stderr and "forged or altered" in refused.stderr
    # Signed with a key of one's own: not this service's key.
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from survey_service.ledger.checkpoints import parse

    [checkpoint] = parse(text)
    other = Ed25519PrivateKey.generate()
    public = other.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    import msgspec

    mine = msgspec.structs.replace(checkpoint, public_key=public, answers=999)
    mine = msgspec.structs.replace(mine, signature=other.sign(mine.message()).hex())
    own = tmp_path / "own.txt"
    own.write_text(mine.line(), encoding="utf-8")
    refused = await run(settings, "verify", "--checkpoint", str(own))
    assert refused.returncode == 1 and "signed with another key" in refused.stderr


async def test_answers_rewritten_and_rehashed_without_the_key_are_named(answered, settings):
    from survey_service.integrity.service import retally
    from survey_service.ledger.chain import CONTENT_FIELDS, GENESIS, hash_content, unkeyed_chain_hash
    from survey_service.respond.tables import Response

    # Every answer turned into 满意 throughout, re-hashed with the service's own public functions.
    rows = await Response.select(Response.id, *(getattr(Response, f) for f in CONTENT_FIELDS)).order_by(Response.id)
    previous = GENESIS
    for row in rows:
        row |= {"recognition": 1.0, "score": 100.0}
        content = hash_content(itemgetter(*CONTENT_FIELDS)(row))
        previous = unkeyed_chain_hash(previous, content)
        await Response.update(
            {
                Response.recognition: 1.0,
                Response.score: 100.0,
                Response.content_hash: content,
                Response.chain_hash: previous,
            }
        ).where(Response.id == row["id"])
    await retally()
    found = await run(settings, "verify")
    assert found.returncode == 1
    assert f"at response {rows[0]['id']}" in found.stderr and "re-hashed without the key" in found.stderr
    assert all(f"response {row['id']} " in found.stderr for row in rows)


async def test_answers_deleted_after_a_printed_report_are_named(answered, settings, tmp_path):
    from survey_service.integrity.service import retally

    printed = tmp_path / "report.md"
    assert (await run(settings, "report", "--out", str(printed))).returncode == 0
    last = answered[-2:]
    for row in last:
        await fetch(settings, "DELETE FROM response WHERE id = ?", row["id"])
    await retally()
    found = await run(settings, "verify")
    assert found.returncode == 1
    span = f"{last[0]['id']}–{last[1]['id']}"
    assert f"答卷 {span} 在检查点之后被删除" in found.stderr and "deleted after the checkpoint" in found.stderr
    # The insider deletes the stored checkpoints too: the printed report still names it.
    await fetch(settings, "DELETE FROM checkpoint")
    assert (await run(settings, "verify")).returncode == 0  # nothing left inside the database to tell
    found = await run(settings, "verify", "--checkpoint", str(printed))
    assert found.returncode == 1 and f"答卷 {span} 在检查点之后被删除" in found.stderr


@pytest.mark.parametrize(
    "tampering, sql, named",
    [
        ("target", "UPDATE survey SET target = 0.5", ["目标认可度", "setting target changed", "0.85 → 0.5"]),
        (
            "weights",
            "UPDATE survey SET group_weights = '{{\"parent\": 1.0}}'",
            ["群体权重", "setting group_weights changed", "家长: 1.0"],
        ),
        (
            "populations",
            "UPDATE school SET parents = parents + 500 WHERE code = 'WQ01'",
            ["学校 WQ01 的人数", "school populations changed"],
        ),
        (
            "link",
            "UPDATE link SET school = (SELECT id FROM school WHERE code = 'WQ02') WHERE id = {link}",
            ["由学校 WQ01 改到 WQ02", "link moved to another school"],
        ),
        (
            "exclusion",
            "UPDATE response SET valid = ?, exclusion = 'duplicate' WHERE id = {first}",
            ["答卷 {first} 被剔除", "excluded without a review decision", "有效 (valid)"],
        ),
        (
            "audit log",
            "DELETE FROM review_decision",
            ["审核记录 1 被删除", "deleted from the audit log", "excluded without a review decision"],
        ),
    ],
)
async def test_each_tampering_is_named(answered, settings, tampering, sql, named):
    first, link = answered[0]["id"], answered[0]["link"]
    statement = sql.format(first=first, link=link)
    await fetch(settings, statement, *([False] if "?" in statement else []))
    found = await run(settings, "verify")
    assert found.returncode == 1, found.stdout
    for words in named:
        assert words.format(first=first) in found.stderr, (tampering, found.stderr)


async def test_the_workbooks_checkpoint_is_accepted_and_names_answers_deleted_after_it(answered, settings, tmp_path):
    import openpyxl

    book = tmp_path / "results.xlsx"
    assert (await run(settings, "report", "--format", "xlsx", "--out", str(book))).returncode == 0
    sheet = openpyxl.load_workbook(book)["检查点"]
    line = tmp_path / "line.txt"
    line.write_text(str(sheet.cell(sheet.max_row, 2).value), encoding="utf-8")
    assert (await run(settings, "verify", "--checkpoint", str(line))).returncode == 0
    await fetch(settings, "DELETE FROM response WHERE id = ?", answered[-1]["id"])
    await fetch(settings, "DELETE FROM checkpoint")
    found = await run(settings, "verify", "--checkpoint", str(line))
    assert found.returncode == 1 and "deleted after the checkpoint" in found.stderr


async def test_a_database_from_before_the_key_is_switched_by_migrate_and_still_protected(answered, settings):
    from survey_service.ledger.chain import GENESIS, unkeyed_chain_hash
    from survey_service.respond.tables import Response

    # As the old code sealed them: the same content hashes, chained without the key; no sealed records.
    rows = await Response.select(Response.id, Response.content_hash).order_by(Response.id)
    previous, heads = GENESIS, {}
    for row in rows:
        previous = heads[row["id"]] = unkeyed_chain_hash(previous, row["content_hash"])
        await Response.update({Response.chain_hash: previous}).where(Response.id == row["id"])
    await fetch(settings, "DELETE FROM sealed_state")
    before = await run(settings, "verify")
    assert (
        before.returncode == 1 and "re-hashed without the key" in before.stderr and "no sealed record" in before.stderr
    )
    migrated = await run(settings, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert (
        f"答卷 1–{rows[-1]['id']} 是密钥启用之前的无密钥哈希链" in migrated.stdout and "作为基线封存" in migrated.stdout
    )
    after = await run(settings, "verify")
    assert after.returncode == 0, after.stderr
    assert f"其中 {len(rows)} 份来自密钥启用之前" in after.stdout
    # Rewriting an old answer and re-hashing the unkeyed chain from there changes the recorded end.
    await Response.update({Response.chain_hash: "0" * 64}).where(Response.id == rows[-1]["id"])
    found = await run(settings, "verify")
    assert found.returncode == 1 and f"at response {rows[-1]['id']}" in found.stderr
