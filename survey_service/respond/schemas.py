"""The respond domain's structs: the answer row it hands the ledger."""

from __future__ import annotations

from datetime import datetime

import msgspec


# gc=False: every field is a scalar, so a row can never be part of a reference cycle, and the writer
# process (which decodes thousands a second) need not have the garbage collector track them.
class AnswerRow(msgspec.Struct, kw_only=True, gc=False):
    """One returned questionnaire as it is stored: a `Response` row without its id. The respond
    service builds it; the ledger flags, seals and stores it (and sends it to the writer process)."""

    survey: int
    link: int
    school: int | None
    respondent_group: str
    questionnaire_id: str
    questionnaire_version: str
    answers: str  # the checked answers as JSON text
    recognition: float | None
    choices: str
    score: float | None
    submitted_at: datetime
    seconds_taken: int | None
    nonce: str
    valid: bool
    exclusion: str
    # Comma-joined and sorted, as stored (respond.quality.join_flags).
    flags: str
    device_hash: str | None
    network_hash: str | None
    agent_hash: str | None
    # A review decision to keep a flagged answer (respond.tables.Response.kept): none when stored.
    kept: str = ""
    # The keyed hash of the one-time access code it was admitted with (None: its group needs none).
    access_code_hash: str | None = None
    # Where it came from (respond.sources): "" online, "wjx" 问卷星导入, "paper" 纸质问卷.
    source: str = ""
    # Set by the ledger when it seals the row into the hash chain (ledger.chain.seal).
    content_hash: str = ""
    chain_hash: str = ""
