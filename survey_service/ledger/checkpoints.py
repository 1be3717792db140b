"""Signed checkpoints (as Certificate Transparency's signed tree heads, RFC 9162): every report and
workbook carries one, printed as one line of text.

A checkpoint says: at this time, round R had N stored answers, the answers' hash chain ended at
response L with chain hash H, and the round's sealed record (survey_service/seals/) was at version V
with digest S; signed with the service's Ed25519 key (core/keys.py), whose public key it names. It is
kept in the database too, but the printed copy is what counts: `survey-service verify --checkpoint
FILE` checks the database against it, so answers deleted after the report was printed, or a sealed
record put back to an older version, are named.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import msgspec

from survey_service.core import keys
from survey_service.respond.tables import Response
from survey_service.seals import service as seals
from survey_service.seals.tables import Checkpoint

VERSION = "v1"
LABEL = "检查点 (checkpoint)"
_FIELDS = {
    "round": "survey",
    "answers": "answers",
    "last": "last_id",
    "head": "head",
    "version": "state_version",
    "state": "state",
    "time": "issued_at",
    "key": "public_key",
    "sig": "signature",
}
LINE = re.compile(r"检查点 \(checkpoint\) v1((?: [a-z_]+=[^\s`'\"<]*)+)")


class SignedCheckpoint(msgspec.Struct, kw_only=True, frozen=True):
    survey: int
    answers: int
    last_id: int
    head: str
    state_version: int
    state: str
    issued_at: str
    public_key: str
    signature: str = ""

    def message(self) -> bytes:
        """The bytes signed."""
        values = (self.survey, self.answers, self.last_id, self.head, self.state_version, self.state, self.issued_at)
        return ("survey-service checkpoint v1|" + "|".join(str(v) for v in values)).encode()

    def line(self) -> str:
        """The checkpoint as printed: one line that `verify --checkpoint` reads back from any text."""
        parts = " ".join(f"{name}={getattr(self, field)}" for name, field in _FIELDS.items())
        return f"{LABEL} {VERSION} {parts}"

    def signed(self) -> bool:
        return keys.signature_holds(self.public_key, self.message(), self.signature)


async def issue(survey_id: int, what: str) -> SignedCheckpoint:
    """Sign a checkpoint of the round as the database holds it now, and keep it."""
    last = await Response.select(Response.id, Response.chain_hash).order_by(Response.id, ascending=False).first()
    last_id, head = (last["id"], last["chain_hash"]) if last else (0, "")
    answers = await Response.count().where((Response.survey == survey_id) & (Response.id <= last_id))
    sealed = await seals.read(survey_id)
    version, state = (
        (sealed.version, seals.state_digest(survey_id, sealed.version, sealed.state)) if sealed else (0, "")
    )
    unsigned = SignedCheckpoint(
        survey=survey_id,
        answers=answers,
        last_id=last_id,
        head=head,
        state_version=version,
        state=state,
        issued_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        public_key=keys.public_key_hex(),
    )
    checkpoint = msgspec.structs.replace(unsigned, signature=keys.sign(unsigned.message()))
    await Checkpoint.insert(Checkpoint(**msgspec.structs.asdict(checkpoint), what=what[:100]))
    return checkpoint


async def stored() -> list[SignedCheckpoint]:
    """Every checkpoint the database keeps, oldest first."""
    rows = await Checkpoint.select().order_by(Checkpoint.id)
    fields = set(SignedCheckpoint.__struct_fields__)
    return [msgspec.convert({k: v for k, v in row.items() if k in fields}, SignedCheckpoint) for row in rows]


class UnreadableCheckpoint(ValueError):
    pass


def parse(text: str) -> list[SignedCheckpoint]:
    """The checkpoints in a file: JSON (one checkpoint, a list, or a report holding "checkpoint"), or
    any text holding printed checkpoint lines (a Markdown report, a copied line)."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        try:
            data = msgspec.json.decode(stripped)
        except msgspec.DecodeError as exc:
            raise UnreadableCheckpoint(f"JSON 无法解析：{exc}") from exc
        if isinstance(data, dict) and "checkpoint" in data:
            data = data["checkpoint"]
        try:
            return msgspec.convert(data if isinstance(data, list) else [data], list[SignedCheckpoint])
        except msgspec.ValidationError as exc:
            raise UnreadableCheckpoint(f"不是检查点：{exc}") from exc
    found = []
    for match in LINE.finditer(text):
        values = dict(pair.split("=", 1) for pair in match.group(1).split())
        try:
            found.append(
                msgspec.convert(
                    {field: values[name] for name, field in _FIELDS.items()}, SignedCheckpoint, strict=False
                )
            )
        except (KeyError, msgspec.ValidationError) as exc:
            raise UnreadableCheckpoint(f"检查点不完整：{match.group(0)[:80]}…") from exc
    if not found:
        raise UnreadableCheckpoint("文件中没有检查点 (no checkpoint found)")
    return found


def checkpoint_markdown(checkpoint: SignedCheckpoint) -> str:
    """The checkpoint as the Markdown report's last section."""
    return (
        "\n\n## 检查点 (checkpoint)\n\n"
        f"本报告生成时，本轮有 {checkpoint.answers} 份答卷，答卷哈希链止于第 {checkpoint.last_id} 份；"
        "以下一行由本服务的 Ed25519 密钥签名。核对数据库是否在此之后被改动："
        "`survey-service verify --checkpoint 本文件`。\n\n"
        f"`{checkpoint.line()}`\n\n"
        f"签名公钥 (public key)：`{checkpoint.public_key}`\n"
    )
