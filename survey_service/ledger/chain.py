"""Tamper evidence: every response stores the hash of its content and the keyed hash of the chain up to it.

chain_hash(n) = HMAC-SHA256(chain key, chain_hash(n-1) ‖ content_hash(n)), starting from GENESIS; the
key is derived from SURVEY_SECRET (core/keys.py) and never stored. Changing, inserting or deleting a
stored response breaks the chain at that response, which `survey-service verify` names, also when
whoever changed it recomputed the hashes: without the key they cannot. Deleting the newest answers
leaves a shorter intact chain: the signed checkpoints (ledger/checkpoints.py) name that. Review
decisions (valid or excluded) are sealed in the round's record (survey_service/seals/), and the
purgeable signal hashes are not part of the content: they may change without breaking anything.

Databases from before the key hold an unkeyed prefix (SHA-256 of the same text): `survey-service
migrate` records where it ends, under the key (seals.tables.ChainSwitch), and the first keyed link
after it covers it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from datetime import UTC
from operator import attrgetter
from typing import Any

import msgspec

from survey_service.core.keyed_hash import KeyedHash
from survey_service.respond.schemas import AnswerRow

GENESIS = "0" * 64

CONTENT_FIELDS = (
    "survey",
    "link",
    "school",
    "respondent_group",
    "questionnaire_id",
    "questionnaire_version",
    "answers",
    "choices",
    "recognition",
    "score",
    "submitted_at",
    "seconds_taken",
    "nonce",
    "flags",
    # Last, and hashed only when not empty (an answer from elsewhere: respond.sources), so that every
    # answer stored before it existed, and every online answer, hashes exactly as before.
    "source",
)


_SUBMITTED_AT = CONTENT_FIELDS.index("submitted_at")
_content_of = attrgetter(*CONTENT_FIELDS)


def content_hash(row: AnswerRow) -> str:
    return hash_content(_content_of(row))


def hash_content(values: Sequence[Any]) -> str:
    """The content hash of a response's CONTENT_FIELDS values, in that order (as a row about to be
    stored has them, or as the database hands them back)."""
    content = list(values)
    # The same instant hashes the same whatever time zone the database hands it back in.
    content[_SUBMITTED_AT] = content[_SUBMITTED_AT].astimezone(UTC)
    if not content[-1]:
        content.pop()
    return hashlib.sha256(msgspec.json.encode(content)).hexdigest()


def next_chain_hash(key: bytes, previous: str, content: str) -> str:
    return _chain_mac(key).digest(f"{previous}{content}".encode()).hex()  # HMAC-SHA256


@functools.lru_cache(maxsize=4)
def _chain_mac(key: bytes) -> KeyedHash:
    """HMAC-SHA256 under the chain key, its key blocks hashed once (half the cost of `hmac.digest`)."""
    return KeyedHash(key)


def unkeyed_chain_hash(previous: str, content: str) -> str:
    """The chain link before the key (and what anyone can compute): for databases from before it,
    and to tell a rewrite re-hashed without the key."""
    return hashlib.sha256(f"{previous}{content}".encode()).hexdigest()


def seal(rows: list[AnswerRow], previous: str, key: bytes) -> str:
    """Set content_hash and chain_hash on rows about to be stored, in order; return the last hash."""
    for row in rows:
        row.content_hash = content_hash(row)
        row.chain_hash = previous = next_chain_hash(key, previous, row.content_hash)
    return previous
