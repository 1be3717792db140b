"""Verify the response hash chain (keyed), the rounds' sealed records, the signed checkpoints and the
tallies; rebuild tallies; purge the device and network hashes of a finished round."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

import msgspec
from piccolo.columns import Column

from survey_service.core import keys
from survey_service.core.errors import NotFound
from survey_service.db.transactions import locked_transaction
from survey_service.ledger import tally
from survey_service.ledger.chain import CONTENT_FIELDS, GENESIS, hash_content, next_chain_hash, unkeyed_chain_hash
from survey_service.ledger.checkpoints import SignedCheckpoint
from survey_service.respond.tables import Response
from survey_service.seals import service as seals
from survey_service.seals.tables import ChainSwitch
from survey_service.surveys.tables import Survey

CHUNK = 5_000
# A stored response's content as the database holds it: hashed as read, not converted to an
# AnswerRow first, so that no conversion can hide (or trip over) a value changed behind our back.
_stored_content = itemgetter(*CONTENT_FIELDS)


class Broken(msgspec.Struct, kw_only=True, frozen=True):
    response: int
    survey: int
    reason: str


class ChainReport(msgspec.Struct, kw_only=True, frozen=True):
    checked: int
    intact: bool
    # The first response whose stored hashes do not follow from its content and its predecessor.
    broken_at: int | None = None
    reason: str | None = None
    # Every such response (the walk goes on from each one's stored hash), at most MAX_BROKEN.
    broken: list[Broken] = []
    more_broken: int = 0
    # Responses linked without the key, before the switch `survey-service migrate` recorded.
    unkeyed: int = 0
    # The switch record itself, when it does not hold.
    switch_problem: str | None = None


MAX_BROKEN = 50
CONTENT_CHANGED = "content changed (内容被改动)"
REHASHED = "content rewritten and re-hashed without the key (内容被改写并用无密钥的哈希重新计算)"
CHAIN_BROKEN = (
    "chain broken (a response before it was changed, removed or inserted) (链断裂：其前的答卷被改动、删除或插入)"
)


def _switch_message(unkeyed_through: int, head: str) -> bytes:
    return f"chain-switch/v1|{unkeyed_through}|{head}".encode()


async def chain_switch(key: bytes) -> tuple[int, str, str | None]:
    """(last unkeyed response id, its chain hash, a problem with the record or None)."""
    row = await ChainSwitch.select().order_by(ChainSwitch.id).first()
    if row is None:
        return 0, GENESIS, None
    if keys.mac(key, _switch_message(row["unkeyed_through"], row["head"])) != row["mac"]:
        problem = (
            "链切换记录由另一个 SURVEY_SECRET 写入 (the chain switch record was made with another key)"
            if row["key_id"] != keys.key_id(key)
            else "链切换记录被改动 (the chain switch record was altered)"
        )
        return 0, GENESIS, problem
    return row["unkeyed_through"], row["head"], None


async def verify_chain(progress: Callable[[int, int], None] | None = None, key: bytes | None = None) -> ChainReport:
    """Walk every response in id order, recomputing each content hash and keyed chain link (unkeyed
    links only up to the recorded switch); `progress(checked, total)` is called after each chunk."""
    key = key or keys.chain_key()
    unkeyed_through, switch_head, switch_problem = await chain_switch(key)
    total = await Response.count()
    columns = [
        Response.id,
        Response.survey,
        Response.content_hash,
        Response.chain_hash,
        *(getattr(Response, f) for f in CONTENT_FIELDS if f != "survey"),
    ]
    previous, last_id, checked, unkeyed = GENESIS, 0, 0, 0
    broken: list[Broken] = []
    more = 0
    while True:
        rows = await Response.select(*columns).where(Response.id > last_id).order_by(Response.id).limit(CHUNK)
        if not rows:
            break
        for row in rows:
            reason = None
            old = row["id"] <= unkeyed_through
            if hash_content(_stored_content(row)) != row["content_hash"]:
                reason = CONTENT_CHANGED
            elif old:
                unkeyed += 1
                if unkeyed_chain_hash(previous, row["content_hash"]) != row["chain_hash"]:
                    reason = CHAIN_BROKEN
                elif row["id"] == unkeyed_through and row["chain_hash"] != switch_head:
                    reason = CHAIN_BROKEN
            elif next_chain_hash(key, previous, row["content_hash"]) != row["chain_hash"]:
                rehashed = unkeyed_chain_hash(previous, row["content_hash"]) == row["chain_hash"]
                reason = REHASHED if rehashed else CHAIN_BROKEN
            if reason is not None:
                if len(broken) < MAX_BROKEN:
                    broken.append(Broken(response=row["id"], survey=row["survey"], reason=reason))
                else:
                    more += 1
            else:
                checked += 1
            previous, last_id = row["chain_hash"], row["id"]
        if progress:
            progress(checked + len(broken) + more, total)
    if unkeyed_through and last_id < unkeyed_through:
        switch_problem = switch_problem or (
            f"链切换记录指向答卷 {unkeyed_through}，但链在答卷 {last_id} 结束 "
            "(answers covered by the chain switch record were deleted)"
        )
    first = broken[0] if broken else None
    return ChainReport(
        checked=checked,
        intact=not broken and switch_problem is None,
        broken_at=first.response if first else None,
        reason=first.reason if first else None,
        broken=broken,
        more_broken=more,
        unkeyed=unkeyed,
        switch_problem=switch_problem,
    )


async def record_chain_switch(key: bytes | None = None) -> int | None:
    """For a database from before the chain key: record, under the key, where its unkeyed chain ends
    (the longest prefix linked without the key; what follows must be keyed). Returns the last unkeyed
    response id, or None when there was nothing to record (already recorded, or no unkeyed link)."""
    key = key or keys.chain_key()
    if await ChainSwitch.count():
        return None
    previous, last_id, through = GENESIS, 0, 0
    while True:
        rows = await (
            Response.select(Response.id, Response.content_hash, Response.chain_hash)
            .where(Response.id > last_id)
            .order_by(Response.id)
            .limit(CHUNK)
        )
        if not rows:
            break
        for row in rows:
            if through == last_id and unkeyed_chain_hash(previous, row["content_hash"]) == row["chain_hash"]:
                through = row["id"]
            previous, last_id = row["chain_hash"], row["id"]
        if through != last_id:
            break
    if not through:
        return None
    head = (await Response.select(Response.chain_hash).where(Response.id == through).first() or {})["chain_hash"]
    await ChainSwitch.insert(
        ChainSwitch(
            unkeyed_through=through,
            head=head,
            key_id=keys.key_id(key),
            mac=keys.mac(key, _switch_message(through, head)),
            switched_at=datetime.now(UTC),
        )
    )
    return through


async def verify_checkpoint(checkpoint: SignedCheckpoint, chain: ChainReport) -> list[str]:
    """How the database disagrees with a checkpoint, in words (empty: it holds what was signed)."""
    named = f"检查点（第 {checkpoint.survey} 轮，{checkpoint.issued_at}）(checkpoint of round {checkpoint.survey})"
    if not checkpoint.signed():
        return [f"{named}：签名无效，检查点是伪造的或被改动过 (signature does not verify: forged or altered)"]
    ours = keys.public_key_hex()
    if checkpoint.public_key != ours:
        return [
            f"{named}：由另一把密钥 {checkpoint.public_key[:16]}… 签名，不是本服务的 {ours[:16]}… "
            "(signed with another key, not this service's)"
        ]
    problems = []
    if checkpoint.last_id:
        row = await Response.select(Response.chain_hash).where(Response.id == checkpoint.last_id).first()
        newest = (
            await Response.select(Response.id)
            .where(Response.id <= checkpoint.last_id)
            .order_by(Response.id, ascending=False)
            .first()
        )
        if row is None:
            kept = newest["id"] if newest else 0
            problems.append(
                f"{named}：检查点时链上最后一份答卷是 {checkpoint.last_id}，它已不在数据库中；"
                f"答卷 {kept + 1}–{checkpoint.last_id} 在检查点之后被删除 "
                f"(answers {kept + 1}-{checkpoint.last_id} deleted after the checkpoint)"
            )
        elif row["chain_hash"] != checkpoint.head:
            problems.append(
                f"{named}：答卷 {checkpoint.last_id} 处的链头与检查点不符，此前的答卷链被改写 "
                f"(the chain up to response {checkpoint.last_id} was rewritten after the checkpoint)"
            )
    answers = await Response.count().where((Response.survey == checkpoint.survey) & (Response.id <= checkpoint.last_id))
    if answers != checkpoint.answers:
        problems.append(
            f"{named}：检查点时本轮有 {checkpoint.answers} 份答卷，现在其中只剩 {answers} 份 "
            f"({checkpoint.answers - answers} answers of the round deleted since the checkpoint)"
            if answers < checkpoint.answers
            else f"{named}：检查点时本轮有 {checkpoint.answers} 份答卷，现在同一范围内有 {answers} 份 "
            f"({answers - checkpoint.answers} answers inserted before the checkpoint)"
        )
    sealed = await seals.read(checkpoint.survey)
    if checkpoint.state_version:
        if sealed is None or sealed.version < checkpoint.state_version:
            problems.append(
                f"{named}：本轮的封存记录被回退到检查点之前的版本 "
                f"({sealed.version if sealed else 0} < {checkpoint.state_version}) (the sealed record was rolled back)"
            )
        elif sealed.version == checkpoint.state_version and (
            seals.state_digest(checkpoint.survey, sealed.version, sealed.state) != checkpoint.state
        ):
            problems.append(f"{named}：本轮的封存记录与检查点不符 (the sealed record differs from the checkpoint)")
    if chain.broken and any(b.response <= checkpoint.last_id for b in chain.broken):
        problems.append(
            f"{named}：检查点覆盖的答卷中有被改动的（见上）(answers covered by the checkpoint were changed)"
        )
    return problems


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
