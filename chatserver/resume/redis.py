"""Session snapshots in Redis, shared by every node: one script each to save (unless
taken) and to take (leaving the marker, with the snapshot's TTL)."""

from __future__ import annotations

from typing import Any

from chatserver.redis_store import RedisStore
from chatserver.resume.base import MARKER, TAKEN, Taken

PREFIX = "sess:"

#: KEYS[1] snapshot; ARGV: snapshot, marker, ttl ms. 0 when the key was taken.
SAVE = """
if redis.call('GET', KEYS[1]) == ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1
"""
#: KEYS[1] snapshot; ARGV: marker. The snapshot (or the marker, or nil).
TAKE = """
local value = redis.call('GET', KEYS[1])
if value and value ~= ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL') end
return value
"""


class RedisSessionStore(RedisStore):
    what = "session store"

    def __init__(self, url: str, pool_size: int = 20, **options: Any) -> None:
        super().__init__(url, pool_size, **options)
        self._save = self._redis.register_script(SAVE)
        self._take = self._redis.register_script(TAKE)

    async def save(self, key: str, snapshot: bytes, ttl: float) -> bool:
        ms = max(1, int(ttl * 1000))
        done = await self._guarded(
            lambda: self._save(keys=[PREFIX + key], args=[snapshot, MARKER, ms])
        )
        return bool(done)

    async def take(self, key: str) -> bytes | Taken | None:
        value = await self._guarded(lambda: self._take(keys=[PREFIX + key], args=[MARKER]))
        if value is None:
            return None
        return TAKEN if bytes(value) == MARKER else bytes(value)

    async def delete(self, key: str) -> None:
        await self._do("DEL", PREFIX + key)

    async def close(self) -> None:
        await self.aclose()
