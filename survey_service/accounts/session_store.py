"""The session store: a table in the service's own database, so every worker (and a restart) sees the
same sessions. Litestar's MemoryStore lives in one process and FileStore needs one shared disk; the
database is already shared by every worker, on PostgreSQL and on SQLite alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.stores.base import Store

from survey_service.accounts.tables import ConsoleSession

EMPTY_SESSION = b"{}"


def _expiry(expires_in: int | timedelta | None) -> datetime | None:
    if expires_in is None:
        return None
    seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
    return datetime.now(UTC) + timedelta(seconds=seconds)


class DatabaseStore(Store):
    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        if data == EMPTY_SESSION:
            # Litestar saves the session of every console response, an anonymous visitor's empty one too:
            # an empty session needs no row (a crawler on the login page would fill the table).
            await self.delete(key)
            return
        expires_at = _expiry(expires_in)
        changed = (
            await ConsoleSession.update({ConsoleSession.value: data, ConsoleSession.expires_at: expires_at})
            .where(ConsoleSession.key == key)
            .returning(ConsoleSession.id)
        )
        if not changed:
            await self.delete_expired()  # a new session (a login) is a good moment to sweep old ones
            await ConsoleSession.insert(ConsoleSession(key=key, value=data, expires_at=expires_at))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        row = (
            await ConsoleSession.select(ConsoleSession.value, ConsoleSession.expires_at)
            .where(ConsoleSession.key == key)
            .first()
        )
        if row is None:
            return None
        if row["expires_at"] is not None and row["expires_at"] <= datetime.now(UTC):
            await self.delete(key)
            return None
        if renew_for is not None and row["expires_at"] is not None:
            await ConsoleSession.update({ConsoleSession.expires_at: _expiry(renew_for)}).where(
                ConsoleSession.key == key
            )
        return bytes(row["value"])

    async def delete(self, key: str) -> None:
        await ConsoleSession.delete().where(ConsoleSession.key == key)

    async def delete_all(self) -> None:
        await ConsoleSession.delete(force=True)

    async def delete_expired(self) -> None:
        await ConsoleSession.delete().where(ConsoleSession.expires_at < datetime.now(UTC))

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await ConsoleSession.select(ConsoleSession.expires_at).where(ConsoleSession.key == key).first()
        if row is None or row["expires_at"] is None:
            return None
        return int((row["expires_at"] - datetime.now(UTC)).total_seconds())
