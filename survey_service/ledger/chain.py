"""Tamper evidence: every response stores the hash of its content and the hash of the chain up to it.

chain_hash(n) = SHA-256(chain_hash(n-1) ‖ content_hash(n)), starting from GENESIS. Changing,
inserting or deleting a stored response breaks the chain at that response, which `survey-service
verify` names. Review decisions (valid or excluded) and the purgeable signal hashes are not part of
the content: they may change without breaking anything.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from typing import Any

import msgspec

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
)


_SUBMITTED_AT = CONTENT_FIELDS.index("submitted_at")


def content_hash(row: dict[str, Any]) -> str:
    content = [row[name] for name in CONTENT_FIELDS]
    # The same instant hashes the same whatever time zone the database hands it back in.
    content[_SUBMITTED_AT] = content[_SUBMITTED_AT].astimezone(UTC)
    return hashlib.sha256(msgspec.json.encode(content)).hexdigest()


def next_chain_hash(previous: str, content: str) -> str:
    return hashlib.sha256(f"{previous}{content}".encode()).hexdigest()


def seal(rows: list[dict[str, Any]], previous: str) -> str:
    """Set content_hash and chain_hash on rows about to be stored, in order; return the last hash."""
    for row in rows:
        row["content_hash"] = content_hash(row)
        row["chain_hash"] = previous = next_chain_hash(previous, row["content_hash"])
    return previous
