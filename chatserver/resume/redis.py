"""Session snapshots in Redis, shared by every node: SET with a TTL, GETDEL to take.

Each call is tried again once on a lost connection (see :mod:`chatserver.redis_store`):
SET and DEL are idempotent, and a GETDEL whose first try took the snapshot but lost the
reply finds nothing the second time, the same ``resume_failed`` the person would get
from an ``unavailable`` and a retry of their own."""

from __future__ import annotations

from chatserver.redis_store import RedisStore

PREFIX = "sess:"


class RedisSessionStore(RedisStore):
    what = "session store"

    async def save(self, key: str, snapshot: bytes, ttl: float) -> None:
        await self._do("SET", PREFIX + key, snapshot, "PX", max(1, int(ttl * 1000)), retry=True)

    async def take(self, key: str) -> bytes | None:
        value = await self._do("GETDEL", PREFIX + key, retry=True)
        return bytes(value) if value is not None else None

    async def delete(self, key: str) -> None:
        await self._do("DEL", PREFIX + key, retry=True)

    async def close(self) -> None:
        await self.aclose()
