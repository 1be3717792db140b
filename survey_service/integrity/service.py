"""Verify the response hash chain and the tallies; rebuild tallies; purge the device and network hashes of a finished round."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

import msgspec
from piccolo.columns import Column

from survey_service.core.errors import NotFound
from survey_service.db.transactions import locked_transaction
from survey_service.ledger import tally
from survey_service.ledger.chain import CONTENT_FIELDS, GENESIS, hash_content, next_chain_hash
from survey_service.respond.tables import Response
from survey_service.surveys.tables import Survey

CHUNK = 5_000
# A stored response's content as the database holds it: hashed as read, not converted to an
# AnswerRow first, so that no conversion can hide (or trip over) a value changed behind our back.
_stored_content = itemgetter(*CONTENT_FIELDS)


class ChainReport(msgspec.Struct, kw_only=True, frozen=True):
    checked: int
    intact: bool
    # The first response whose stored hashes do not follow from its content and its predecessor.
    broken_at: int | None = None
    reason: str | None = None


async def verify_chain(progress: Callable[[int, int], None] | None = None) -> ChainReport:
    """Walk every response in id order, recomputing each content hash and chain link;
    `progress(checked, total)` is called after each chunk."""
    total = await Response.count()
    columns = [Response.id, Response.content_hash, Response.chain_hash, *(getattr(Response, f) for f in CONTENT_FIELDS)]
    previous, last_id, checked = GENESIS, 0, 0
    while True:
        rows = await Response.select(*columns).where(Response.id > last_id).order_by(Response.id).limit(CHUNK)
        if not rows:
            return ChainReport(checked=checked, intact=True)
        for row in rows:
            if hash_content(_stored_content(row)) != row["content_hash"]:
                return ChainReport(checked=checked, intact=False, broken_at=row["id"], reason="content changed")
            expected = next_chain_hash(previous, row["content_hash"])
            if expected != row["chain_hash"]:
                return ChainReport(
                    checked=checked,
                    intact=False,
                    broken_at=row["id"],
                    reason="chain broken (a response before it was changed, removed or inserted)",
                )
            previous, last_id, checked = row["chain_hash"], row["id"], checked + 1
        if progress:
            progress(checked, total)


async def verify_tallies() -> dict[int, list[tally.Mismatch]]:
    """Recount every round's responses: {round id: its tallies that disagree} (empty when all agree)."""
    rounds = await Survey.select(Survey.id).order_by(Survey.id)
    found = {row["id"]: await tally.check(row["id"]) for row in rounds}
    return {round_id: wrong for round_id, wrong in found.items() if wrong}


async def retally(survey_id: int | None = None) -> dict[int, int]:
    """Rebuild the tallies of one round (or every round) from its responses, holding the write lock:
    after data was changed outside the service. Returns {round id: tallies written}."""
    if survey_id is not None and not await Survey.exists().where(Survey.id == survey_id):
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    rounds = [survey_id] if survey_id is not None else [r["id"] for r in await Survey.select(Survey.id)]
    written = {}
    for round_id in rounds:
        async with locked_transaction(Response._meta.db):
            written[round_id] = await tally.rebuild(round_id)
    return written


async def purge_signals(survey_id: int, now: datetime | None = None) -> int:
    """Blank the device, network and browser hashes of a round's responses; returns how many. Once the
    round has closed, also the access code hashes: whoever knew which slip went to whom could otherwise
    find that principal's or deputy's answer (while it is open they keep each code to one answer)."""
    row = await Survey.select(Survey.closes_at).where(Survey.id == survey_id).first()
    if row is None:
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    held = Response.survey == survey_id
    blank: dict[Column | str, Any] = {
        Response.device_hash: None,
        Response.network_hash: None,
        Response.agent_hash: None,
    }
    signals = (
        Response.device_hash.is_not_null() | Response.network_hash.is_not_null() | Response.agent_hash.is_not_null()
    )
    if row["closes_at"] <= (now or datetime.now(UTC)):
        blank[Response.access_code_hash] = None
        signals = signals | Response.access_code_hash.is_not_null()
    count = await Response.count().where(held & signals)
    await Response.update(blank).where(held)
    return count


async def purge_expired(retention_days: int, now: datetime | None = None) -> dict[int, int]:
    """Purge every round closed more than `retention_days` ago: {round id: responses purged}."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    rounds = await Survey.select(Survey.id).where(Survey.closes_at < cutoff)
    return {row["id"]: await purge_signals(row["id"], now) for row in rounds}
