"""The keys of tamper evidence; none of them is ever stored in the database.

- The chain key: HMAC-SHA256 key of the answers' hash chain (ledger/chain.py), derived from
  SURVEY_SECRET. Without it nobody can recompute a chain hash, so a rewritten answer re-hashed
  with the public functions is named by `survey-service verify`.
- The state key: HMAC key of each round's sealed record (survey_service/seals/): its settings,
  roster populations, link map, review decisions and change log. Also derived from SURVEY_SECRET.
- The signing key: an Ed25519 key (PEM file, SURVEY_SIGNING_KEY_FILE, generated on first use) that
  signs the checkpoints printed on reports and workbooks; its public key is printed beside them,
  so an inspector can check a checkpoint without any secret.

Like the bound database engine (db/engine.bind), the keys come from the settings the process was
given (`use(settings)`, which db.engine.make_engine calls); a process that was never given settings
(the SQLite writer process) reads them from the environment, as the server that started it did.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from survey_service.core.settings import Settings, load_settings

_settings: Settings | None = None


def use(settings: Settings) -> None:
    """Take the keys of this process from `settings` (SURVEY_SECRET, SURVEY_SIGNING_KEY_FILE)."""
    global _settings
    _settings = settings


def _current() -> Settings:
    return _settings if _settings is not None else load_settings()


@functools.lru_cache(maxsize=8)
def _derive(secret: str, purpose: bytes) -> bytes:
    return hmac.digest(secret.encode(), b"survey-service/" + purpose, "sha256")


def chain_key(settings: Settings | None = None) -> bytes:
    """The HMAC key of the answers' hash chain."""
    return _derive((settings or _current()).secret, b"ledger-chain/v1")


def state_key(settings: Settings | None = None) -> bytes:
    """The HMAC key of the rounds' sealed records."""
    return _derive((settings or _current()).secret, b"sealed-state/v1")


def key_id(key: bytes) -> str:
    """A short public name of a key (its HMAC of a fixed text): tells keys apart, reveals nothing."""
    return hmac.digest(key, b"key id", "sha256").hex()[:16]


def mac(key: bytes, message: bytes) -> str:
    return hmac.digest(key, message, "sha256").hex()


def signing_key_path(settings: Settings | None = None) -> Path:
    settings = settings or _current()
    if settings.signing_key_file:
        return Path(settings.signing_key_file)
    if not settings.is_postgres:
        return Path(f"{settings.sqlite_path}.signing-key.pem")
    return Path.home() / ".survey-service" / "signing-key.pem"


@functools.lru_cache(maxsize=8)
def _load_or_create(path: Path) -> Ed25519PrivateKey:
    try:
        return _load(path)
    except FileNotFoundError:
        pass
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Readable by this account only; O_EXCL: of two processes creating it at once, one wins.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load(path)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)
    return key


def _load(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def signing_key(settings: Settings | None = None) -> Ed25519PrivateKey:
    """The checkpoint signing key, created on first use."""
    return _load_or_create(signing_key_path(settings).resolve())


def public_key_hex(settings: Settings | None = None) -> str:
    """The signing key's public half, 64 hex characters (raw Ed25519)."""
    raw = signing_key(settings).public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return raw.hex()


def sign(message: bytes, settings: Settings | None = None) -> str:
    """The Ed25519 signature of `message`, 128 hex characters."""
    return signing_key(settings).sign(message).hex()


def signature_holds(public_key: str, message: bytes, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(bytes.fromhex(signature), message)
    except (ValueError, InvalidSignature):
        return False
    return True


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
