"""Session snapshots in Redis, shared by every node: SET with a TTL, GETDEL to take."""

from __future__ import annotations

from chatserver.redis_store import RedisStore

PREFIX = "sess:"


class RedisSessionStore(RedisStore):
    what = "session store"

    async def save(self, key: str, snapshot: bytes, ttl: float) -> None:
        await self._do("SET", PREFIX + key, snapshot, "PX", max(1, int(ttl * 1000)))

    async def take(self, key: str) -> bytes | None:
        value = await self._do("GETDEL", PREFIX + key)
        return bytes(value) if value is not None else None

    async def delete(self, key: str) -> None:
        await self._do("DEL", PREFIX + key)

    async def close(self) -> None:
        await self.aclose()
