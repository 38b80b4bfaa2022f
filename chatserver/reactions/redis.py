"""Reactions in Redis, shared by every node: one Lua script per change, so two nodes
never lose or double a reaction.

Keys share the room's hash tag with its history (``cs:{room}:...``), so a room's
reactions live on the shard of its messages and each script runs on one shard:

* ``cs:{room}:rx``         sorted set of the room's messages with reactions; score = seq
* ``cs:{room}:rx:<id>``    hash of one message: reactor -> its reactions, comma-separated

Every key has a TTL: a message's hash lives ``ttl`` after its last change, the index as
long as the newest of them; scripts drop index entries whose hash has expired.
"""

from __future__ import annotations

from typing import Any

from chatserver.reactions.base import MAX_REACTORS, Tally, ordered
from chatserver.redis_store import RedisStore

POOL_SIZE = 10

PURGE = """
local function purge(idx, prefix)
  for _, m in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
    if redis.call('EXISTS', prefix .. m) == 0 then redis.call('ZREM', idx, m) end
  end
end
local function tally(hk)
  return redis.call('HGETALL', hk)
end
"""

REACT = (
    PURGE
    + """
local idx, hk = KEYS[1], KEYS[2]
local prefix, message, seq, reactor = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local reaction, undo = ARGV[5], ARGV[6] == '1'
local max, maxr, ttl = tonumber(ARGV[7]), tonumber(ARGV[8]), ARGV[9]
purge(idx, prefix)
local cur = redis.call('HGET', hk, reactor)
if not cur and redis.call('HLEN', hk) >= maxr then return {0} end
local set, list = {}, {}
for r in string.gmatch(cur or '', '[^,]+') do set[r] = true end
if undo then set[reaction] = nil else set[reaction] = true end
for r in pairs(set) do list[#list + 1] = r end
table.sort(list)
if #list == 0 then redis.call('HDEL', hk, reactor)
else redis.call('HSET', hk, reactor, table.concat(list, ',')) end
if redis.call('EXISTS', hk) == 1 then
  redis.call('ZADD', idx, seq, message)
  redis.call('PEXPIRE', hk, ttl)
else
  redis.call('ZREM', idx, message)
end
while redis.call('ZCARD', idx) > max do
  local low = redis.call('ZRANGE', idx, 0, 0)[1]
  redis.call('ZREM', idx, low)
  redis.call('DEL', prefix .. low)
end
if redis.call('EXISTS', idx) == 1 then redis.call('PEXPIRE', idx, ttl) end
if #list > 0 and redis.call('EXISTS', hk) == 0 then return {0} end
return {1, tally(hk)}
"""
)

TALLIES = (
    PURGE
    + """
local idx, prefix = KEYS[1], ARGV[1]
purge(idx, prefix)
local out = {}
local m = redis.call('ZRANGE', idx, 0, -1, 'WITHSCORES')
for i = 1, #m, 2 do out[#out + 1] = {m[i], m[i + 1], tally(prefix .. m[i])} end
return out
"""
)

FORGET = """
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  redis.call('DEL', ARGV[1] .. m)
end
redis.call('DEL', KEYS[1])
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _tally(message: str, seq: int, flat: list[Any]) -> Tally:
    given = {_text(flat[i]): ordered(_text(flat[i + 1]).split(",")) for i in range(0, len(flat), 2)}
    return Tally(message, seq, dict(sorted(given.items())))


class RedisReactionStore(RedisStore):
    what = "reaction store"

    def __init__(self, url: str, *, max_messages: int = 100, ttl: float = 3600.0) -> None:
        super().__init__(url, POOL_SIZE)
        self._max = max_messages
        self._ttl_ms = max(1, int(ttl * 1000))
        self._react = self._redis.register_script(REACT)
        self._tallies = self._redis.register_script(TALLIES)
        self._forget = self._redis.register_script(FORGET)

    @staticmethod
    def _keys(room: str) -> tuple[str, str]:
        """The room's index key and the prefix of its message keys."""
        return f"cs:{{{room}}}:rx", f"cs:{{{room}}}:rx:"

    async def react(
        self, room: str, message: str, seq: int, reactor: str, reaction: str, *, undo: bool = False
    ) -> Tally | None:
        idx, prefix = self._keys(room)
        args = [prefix, message, seq, reactor, reaction, "1" if undo else "0"]
        args += [self._max, MAX_REACTORS, self._ttl_ms]
        done = await self._guarded(lambda: self._react(keys=[idx, prefix + message], args=args))
        if int(done[0]) == 0:
            return None
        return _tally(message, seq, done[1])

    async def tallies(self, room: str) -> list[Tally]:
        idx, prefix = self._keys(room)
        rows = await self._guarded(lambda: self._tallies(keys=[idx], args=[prefix]))
        return [_tally(_text(m), int(float(_text(seq))), flat) for m, seq, flat in rows if flat]

    async def forget(self, room: str) -> None:
        idx, prefix = self._keys(room)
        await self._guarded(lambda: self._forget(keys=[idx], args=[prefix]))

    async def close(self) -> None:
        await self.aclose()
