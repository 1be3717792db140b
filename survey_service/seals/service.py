"""A round's sealed record: what its published figures depend on, kept under an HMAC by the code that
changes it.

The record has five parts (PARTS), each {name: value}:
- settings: target, confidence_level, design, group_weights, questionnaires, county_populations,
  national_weighting, national_design_effect (迎检预判; a record sealed before they existed lacks them,
  and verify then does not compare them);
- schools: {code: [students, parents, teachers, principals]} (the roster's stratum populations);
- links: {link id: [school code or "", group]} (what each QR code counts towards);
- decisions: {review decision id: digest of the row} (the review audit log; every answer's
  valid / excluded / kept state follows from it);
- changes: {change log id: digest of the row} (the round's change log).

The service functions that write these values (surveys, schools, distribution, review) call `seal`
with exactly what they wrote, inside their transaction: the record is patched, its version counted
up and its HMAC renewed. Nothing else writes it, so a value changed in the database directly no
longer matches it, and `survey-service verify` (integrity/state.py) names the difference. A record
whose HMAC does not hold is never renewed (that would bless whatever was forged): it stays as it is,
and verify names it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec
from piccolo.columns import Column

from survey_service.core import keys
from survey_service.seals.tables import SealedState

log = logging.getLogger(__name__)

PARTS = ("settings", "schools", "links", "decisions", "changes")
SETTINGS = (
    "target",
    "confidence_level",
    "design",
    "group_weights",
    "questionnaires",
    "county_populations",
    "national_weighting",
    "national_design_effect",
)


class Sealed(msgspec.Struct, kw_only=True, frozen=True):
    survey: int
    version: int
    state: dict[str, dict[str, Any]]
    key_id: str
    # Whether the HMAC holds under this process's state key.
    intact: bool


def canonical(value: Any) -> bytes:
    return msgspec.json.encode(value, order="sorted")


def _message(survey: int, version: int, state: Mapping[str, Any]) -> bytes:
    return b"sealed-state/v1|" + canonical([survey, version, state])


def state_digest(survey: int, version: int, state: Mapping[str, Any]) -> str:
    """What a checkpoint records of a sealed record."""
    return keys.digest(_message(survey, version, state))


def _utc(value: Any) -> Any:
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def row_digest(values: Sequence[Any]) -> str:
    """A digest of one audit row's values, in a fixed order (times compared as UTC instants)."""
    return keys.digest(canonical([_utc(v) for v in values]))[:24]


def decision_digest(row: Mapping[str, Any]) -> str:
    return row_digest([row[k] for k in ("survey", "response", "action", "reason", "note", "actor", "decided_at")])


def change_digest(row: Mapping[str, Any]) -> str:
    return row_digest([row[k] for k in ("survey", "action", "details", "reason", "actor", "changed_at")])


async def read(survey_id: int) -> Sealed | None:
    row = await SealedState.select().where(SealedState.survey == survey_id).first()
    if row is None:
        return None
    state = msgspec.json.decode(row["state"])
    expected = keys.mac(keys.state_key(), _message(survey_id, row["version"], state))
    return Sealed(
        survey=survey_id, version=row["version"], state=state, key_id=row["key_id"], intact=expected == row["mac"]
    )


async def seal(survey_id: int, **parts: Mapping[str, Any]) -> None:
    """Patch the round's sealed record with values the service has just written (inside the caller's
    transaction, which holds the write lock when several writers could race)."""
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts {sorted(unknown)}")
    current = await read(survey_id)
    if current is not None and not current.intact:
        log.error("round %s: its sealed record does not hold; not renewed (survey-service verify names it)", survey_id)
        return
    state = {part: dict(values) for part, values in (current.state if current else {}).items()}
    for part, entries in parts.items():
        state.setdefault(part, {}).update({str(name): value for name, value in entries.items()})
    # Through JSON and back: the record holds what its stored text says (tuples become lists).
    state = msgspec.json.decode(canonical(state))
    version = (current.version if current else 0) + 1
    key = keys.state_key()
    values: dict[str, Any] = {
        "state": canonical(state).decode(),
        "version": version,
        "key_id": keys.key_id(key),
        "mac": keys.mac(key, _message(survey_id, version, state)),
        "sealed_at": datetime.now(UTC),
    }
    if current is None:
        await SealedState.insert(SealedState(survey=survey_id, **values))
    else:
        columns: dict[Column | str, Any] = {getattr(SealedState, name): value for name, value in values.items()}
        await SealedState.update(columns).where(SealedState.survey == survey_id)
