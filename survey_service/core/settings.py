"""One settings object, read from SURVEY_* environment variables and passed down explicitly."""

from __future__ import annotations

import os
from collections.abc import Mapping

import msgspec

DEFAULT_SECRET = "dev-insecure-secret-change-me"


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    # A SQLite file path (or sqlite:///path), or postgresql://user@host:port/dbname.
    database_url: str = "survey.db"
    # The address people reach the service at; links and QR codes are built from it.
    public_url: str = "http://127.0.0.1:8000"
    # Signs the per-form nonces and keys the answers' hash chain and the sealed round state
    # (core/keys.py); must be set in production, and kept: the chain is verified with it.
    secret: str = DEFAULT_SECRET
    # The Ed25519 key that signs checkpoints (PEM, generated on first use; never in the database).
    # Empty: beside a SQLite database (<file>.signing-key.pem), else ~/.survey-service/signing-key.pem.
    signing_key_file: str = ""
    environment: str = "development"
    # Request bodies above this many bytes are refused with 413.
    max_body_bytes: int = 65536
    # Largest number of answers committed in one write transaction (group commit).
    write_batch_size: int = 256
    # How long (seconds) a link and its round stay cached in each worker: a round closed or
    # changed takes effect within this time.
    link_cache_seconds: float = 30.0
    # An opened form may be submitted for this long (seconds).
    form_max_age_seconds: int = 3 * 24 * 3600
    # Our own reverse proxies (comma-separated addresses or networks): only from these is
    # X-Forwarded-For believed when finding a respondent's address.
    trusted_proxies: str = ""
    # Days after a round closes before `survey-service purge --expired` removes its device and
    # network hashes (they are only needed while answers are being reviewed).
    signal_retention_days: int = 30
    # Dates on pages are shown in this time zone.
    timezone: str = "Asia/Shanghai"
    # Set by `survey-service serve` on SQLite, not by hand: the Unix socket of its writer process
    # (ledger/writer_process.py), to which the web workers hand their answers.
    writer_socket: str = ""
    # redis://host:port/db: the rate limits' counters, shared by every web worker and server of a
    # deployment, checked before an answer reaches the database. Empty: the ledger alone enforces
    # them (under its write lock, from the stored answers), which is as strict, only later.
    redis_url: str = ""

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> str:
        return self.database_url.removeprefix("sqlite:///")

    def with_changes(self, **changes) -> Settings:
        return msgspec.structs.replace(self, **{k: v for k, v in changes.items() if v is not None})


ENVIRONMENT_VARIABLES = {
    "SURVEY_DATABASE_URL": "database_url",
    "SURVEY_PUBLIC_URL": "public_url",
    "SURVEY_SECRET": "secret",
    "SURVEY_SIGNING_KEY_FILE": "signing_key_file",
    "SURVEY_ENV": "environment",
    "SURVEY_MAX_BODY_BYTES": "max_body_bytes",
    "SURVEY_WRITE_BATCH_SIZE": "write_batch_size",
    "SURVEY_LINK_CACHE_SECONDS": "link_cache_seconds",
    "SURVEY_FORM_MAX_AGE_SECONDS": "form_max_age_seconds",
    "SURVEY_TIMEZONE": "timezone",
    "SURVEY_TRUSTED_PROXIES": "trusted_proxies",
    "SURVEY_SIGNAL_RETENTION_DAYS": "signal_retention_days",
    "SURVEY_WRITER_SOCKET": "writer_socket",
    "SURVEY_REDIS_URL": "redis_url",
}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from the environment; a bad value names its variable."""
    environ = os.environ if environ is None else environ
    raw = {field: environ[var] for var, field in ENVIRONMENT_VARIABLES.items() if environ.get(var)}
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        field = str(exc).rpartition("$.")[2].rstrip("`")
        variable = next((v for v, f in ENVIRONMENT_VARIABLES.items() if f == field), field)
        raise SystemExit(f"配置错误 (configuration error) in {variable}: {exc}") from exc
