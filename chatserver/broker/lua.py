"""The Lua scripts of the Redis broker, and the byte layout they share with it.

Why scripts: each one is a single atomic step on the server, so a room's sequence number,
replay history, presence and published traffic can never disagree, whatever the number of
nodes racing on it. Every script touches only keys of one room (one hash tag ``{room}``),
so it runs unchanged on Redis Cluster.

Byte layout (fixed-width ASCII headers: cheap to cut in Python, easy to read in
``redis-cli MONITOR``)::

    envelope (published)   seq:16 digits | payload            seq 0: unsequenced
    history entry (list)   ts_ms:16 digits | seq:16 digits | payload

Every key a script writes gets a TTL in the same step (nothing is ever written without
one): the history lives ``history_seconds`` after its newest message, a room's sequence
``max(lease, history_seconds)``, members, seat records and flags one lease; the nodes
holding members refresh them (:data:`KEEP_ROOM`). So when every node is gone, so is
the chat, within a bounded time.

This module imports nothing from redis: only the ``redis_*`` modules beside it do.
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
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('PEXPIRE', KEYS[2], math.max(1, tonumber(ARGV[5])))
redis.call(ARGV[6], ARGV[1], head .. ARGV[2])
"""

#: KEYS: seq, history. ARGV: channel, payload, now_ms, history_size, history_ms, publish
#: command (PUBLISH or SPUBLISH), the sequence's TTL in ms. The history expires
#: ``history_ms`` after its newest message: a silent room's texts go on the clock.
#: Returns the new sequence number.
PUBLISH = Script("publish", _PUBLISH_BODY + "return seq\n")

#: PUBLISH for a message sent again (its ack was lost with a connection): KEYS and ARGV as
#: PUBLISH, then ARGV[8], a marker the first copy carries in its payload. When an entry
#: still in the history holds the marker, nothing is published and the reply is
#: {seq, payload} of that entry; otherwise {new seq}. Atomic, so the first copy still in
#: flight on another node's connection cannot be relayed twice.
PUBLISH_ONCE = Script(
    "publish_once",
    """
local entries = redis.call('LRANGE', KEYS[2], 0, -1)
for i = #entries, 1, -1 do
  local entry = entries[i]
  if string.find(entry, ARGV[8], 33, true) then
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

#: KEYS: members, flags. ARGV: name, value, lease ms. Records a room setting only while
#: the room has members (a closed room's name may be reused later). Returns 1 if recorded.
SET_FLAG = Script(
    "set_flag",
    """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
""",
)

#: A member's seat record, the broker's own (written by the adapter, never by callers):
#: a MessagePack array ``[node, owner, [flag, ...]]``, with a fourth element ``1`` while
#: the seat is held (its person dropped, or its node died: kept for a resume, not counted
#: against the room's capacity). The member value beside it is the caller's and is never
#: read here. ``drop_flags`` removes the flags a seat takes with it.
_SEAT = """
local function seat_of(raw)
  if not raw then return nil end
  local ok, data = pcall(cmsgpack.unpack, raw)
  if ok and type(data) == 'table' then return data end
  return nil
end
local function drop_flags(flags_key, seat)
  if seat and type(seat[3]) == 'table' then
    for _, name in ipairs(seat[3]) do redis.call('HDEL', flags_key, name) end
  end
end
local function held_seats(seats_key)
  local n = 0
  local all = redis.call('HVALS', seats_key)
  for i = 1, #all do
    local seat = seat_of(all[i])
    if seat and seat[4] == 1 then n = n + 1 end
  end
  return n
end
"""

#: KEYS: members, seats. ARGV: handle, member, capacity, seat record, lease ms. Held seats
#: do not count against ``capacity``. Returns 0 OK, 1 TAKEN, 2 FULL.
CLAIM = Script(
    "claim",
    _SEAT
    + """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end
local capacity = tonumber(ARGV[3])
if capacity > 0 and redis.call('HLEN', KEYS[1]) >= capacity then
  if redis.call('HLEN', KEYS[1]) - held_seats(KEYS[2]) >= capacity then return 2 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 0
""",
)

#: KEYS: members, seats. ARGV: node, handle. Marks seats held: the one of ``handle``, or
#: (``handle`` empty) every seat of ``node`` (it died; its people may resume elsewhere).
#: A reclaim clears the mark. Returns how many seats were marked.
HOLD = Script(
    "hold",
    _SEAT
    + """
local n = 0
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local seat = seat_of(all[i + 1])
  if seat and (all[i] == ARGV[2] or (ARGV[2] == '' and seat[1] == ARGV[1])) then
    seat[4] = 1
    redis.call('HSET', KEYS[2], all[i], cmsgpack.pack(seat))
    n = n + 1
  end
end
return n
""",
)

#: KEYS: members, seats. ARGV: handle, member, owner, seat record, lease ms. Returns 0 OK,
#: 1 TAKEN (the seat's recorded owner is empty or another one), 3 GONE (the room has no
#: members: it was closed). The owner is compared as an opaque string.
RECLAIM = Script(
    "reclaim",
    _SEAT
    + """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  local seat = seat_of(redis.call('HGET', KEYS[2], ARGV[1]))
  if not seat or seat[2] == '' or seat[2] ~= ARGV[3] then return 1 end
elseif redis.call('HLEN', KEYS[1]) == 0 then
  return 3
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 0
""",
)

#: KEYS: members, seq, history, flags, seats. ARGV: handle. Drops the flags the seat
#: takes with it. Returns 1 when the room closed (its state existed and is now deleted),
#: else 0.
RELEASE = Script(
    "release",
    _SEAT
    + """
local seat = seat_of(redis.call('HGET', KEYS[5], ARGV[1]))
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
if redis.call('HLEN', KEYS[1]) > 0 then
  drop_flags(KEYS[4], seat)
  return 0
end
local deleted = redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
if removed + deleted > 0 then return 1 end
return 0
""",
)

#: KEYS: members, seq, history, flags, seats. ARGV: the dead node's id. Removes every
#: member whose seat record names that node, with its flags. Returns {closed, handle1,
#: member1, ...}: ``closed`` is 1 when the room emptied and its state was deleted.
EVICT = Script(
    "evict",
    _SEAT
    + """
local out = {}
local all = redis.call('HGETALL', KEYS[5])
for i = 1, #all, 2 do
  local seat = seat_of(all[i + 1])
  if seat and seat[1] == ARGV[1] then
    local member = redis.call('HGET', KEYS[1], all[i])
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('HDEL', KEYS[5], all[i])
    drop_flags(KEYS[4], seat)
    if member then
      out[#out + 1] = all[i]
      out[#out + 1] = member
    end
  end
end
local closed = 0
if #out > 0 and redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  closed = 1
end
table.insert(out, 1, closed)
return out
""",
)

#: KEYS: seq. ARGV: last delivered seq, TTL ms. After Redis lost its data (a restart
#: without persistence), a room's sequence never goes backwards.
RESTORE_SEQ = Script(
    "restore_seq",
    """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 0
""",
)

#: KEYS: members, seats. ARGV: lease ms, then handle, member, seat record triples. After
#: Redis lost its data, this node's members are present again (where nobody took their
#: handle).
RESEAT = Script(
    "reseat",
    """
for i = 2, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 0
""",
)

#: KEYS: members, seq, history, flags, seats. ARGV: lease ms, sequence TTL ms, history
#: horizon (ms: entries older go). The heartbeat of a node with members in the room: the
#: room lives on while someone is in it, and a silent room's old texts go on the clock.
KEEP_ROOM = Script(
    "keep_room",
    """
for _, i in ipairs({1, 4, 5}) do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local horizon = tonumber(ARGV[3])
while true do
  local first = redis.call('LINDEX', KEYS[3], 0)
  if not first or tonumber(string.sub(first, 1, 16)) >= horizon then break end
  redis.call('LPOP', KEYS[3])
end
return 0
""",
)
