"""The Lua scripts of the Redis broker, and the byte layout they share with it.

Why scripts: each one is a single atomic step on the server, so a room's sequence number,
replay history, presence and published traffic can never disagree, whatever the number of
nodes racing on it. Every script touches only keys of one room (one hash tag ``{room}``),
so it runs unchanged on Redis Cluster.

Byte layout (fixed-width ASCII headers: cheap to cut in Python, easy to read in
``redis-cli MONITOR``)::

    envelope (published)   seq:16 digits | payload            seq 0: unsequenced
    history entry (list)   ts_ms:16 digits | seq:16 digits | payload

This module imports nothing from redis: only :mod:`chatserver.broker.redis` does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

SEQ_DIGITS = 16
TS_DIGITS = 16


@dataclass(frozen=True, slots=True)
class Script:
    """A script's source and its SHA1 (what EVALSHA names)."""

    name: str
    source: str
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.source.encode()).hexdigest())


_PUBLISH_BODY = """
local seq = redis.call('INCR', KEYS[1])
local now = tonumber(ARGV[3])
local head = string.format('%016d', seq)
redis.call('RPUSH', KEYS[2], string.format('%016d', now) .. head .. ARGV[2])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
local horizon = now - tonumber(ARGV[5])
while true do
  local first = redis.call('LINDEX', KEYS[2], 0)
  if not first or tonumber(string.sub(first, 1, 16)) >= horizon then break end
  redis.call('LPOP', KEYS[2])
end
redis.call(ARGV[6], ARGV[1], head .. ARGV[2])
"""

#: KEYS: seq, history. ARGV: channel, payload, now_ms, history_size, history_ms, publish
#: command (PUBLISH or SPUBLISH). Returns the new sequence number.
PUBLISH = Script("publish", _PUBLISH_BODY + "return seq\n")

#: PUBLISH for a message sent again (its ack was lost with a connection): KEYS and ARGV as
#: PUBLISH, then ARGV[7], a marker the first copy carries in its payload. When an entry
#: still in the history holds the marker, nothing is published and the reply is
#: {seq, payload} of that entry; otherwise {new seq}. Atomic, so the first copy still in
#: flight on another node's connection cannot be relayed twice.
PUBLISH_ONCE = Script(
    "publish_once",
    """
local entries = redis.call('LRANGE', KEYS[2], 0, -1)
for i = #entries, 1, -1 do
  local entry = entries[i]
  if string.find(entry, ARGV[7], 33, true) then
    return {tonumber(string.sub(entry, 17, 32)), string.sub(entry, 33)}
  end
end
"""
    + _PUBLISH_BODY
    + "return {seq}\n",
)

#: KEYS: seq, flags. Returns {seq, name1, value1, ...}: what a node needs about a room it
#: has just subscribed to, in one round trip.
ROOM_VIEW = Script(
    "room_view",
    """
local out = redis.call('HGETALL', KEYS[2])
table.insert(out, 1, tonumber(redis.call('GET', KEYS[1]) or '0'))
return out
""",
)

#: KEYS: members, flags. ARGV: name, value. Records a room setting only while the room
#: has members (a closed room's name may be reused later). Returns 1 if recorded.
SET_FLAG = Script(
    "set_flag",
    """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
""",
)

#: KEYS: members. ARGV: handle, member, capacity. Returns 0 OK, 1 TAKEN, 2 FULL.
CLAIM = Script(
    "claim",
    """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end
local capacity = tonumber(ARGV[3])
if capacity > 0 and redis.call('HLEN', KEYS[1]) >= capacity then return 2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 0
""",
)

#: KEYS: members. ARGV: handle, member, session. Returns 0 OK, 1 TAKEN (the handle belongs
#: to another session), 3 GONE (the room has no members: it was closed).
RECLAIM = Script(
    "reclaim",
    """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local ok, data = pcall(cmsgpack.unpack, current)
  if not ok or type(data) ~= 'table' or data['s'] ~= ARGV[3] then return 1 end
elseif redis.call('HLEN', KEYS[1]) == 0 then
  return 3
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 0
""",
)

#: KEYS: members, seq, history, flags. ARGV: handle. Returns 1 when the room closed (its
#: state existed and is now deleted), else 0.
RELEASE = Script(
    "release",
    """
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) > 0 then
  redis.call('HDEL', KEYS[4], 'consent:' .. ARGV[1])  -- a member's consent leaves with them
  return 0
end
local deleted = redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
if removed + deleted > 0 then return 1 end
return 0
""",
)

#: KEYS: members, seq, history, flags. ARGV: the dead node's id. Removes every member whose
#: value (a MessagePack map) names that node. Returns {closed, handle1, member1, ...}:
#: ``closed`` is 1 when the room emptied and its state was deleted.
EVICT = Script(
    "evict",
    """
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, value = pcall(cmsgpack.unpack, all[i + 1])
  if ok and type(value) == 'table' and value['node'] == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('HDEL', KEYS[4], 'consent:' .. all[i])
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
local closed = 0
if #out > 0 and redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  closed = 1
end
table.insert(out, 1, closed)
return out
""",
)

#: KEYS: seq, members. ARGV: last delivered seq, then handle, member pairs. After Redis
#: lost its data (a restart without persistence), puts back what this node knows: the
#: sequence never goes backwards and its members are present again.
REPAIR = Script(
    "repair",
    """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
for i = 2, #ARGV, 2 do redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 0
""",
)
