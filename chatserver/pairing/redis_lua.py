"""The Lua scripts of the Redis pairing store: one script per decision, so two nodes can
never pair the same seeker or overfill a listener. Every key shares the hash tag
``{pairing}``, so each script runs on one shard of a cluster (see :mod:`.redis` for the
key layout). This module imports nothing: the store registers the scripts.

Every script starts with :func:`prelude` (the store's lease and liveness, in ms) and
:data:`COMMON`. Time is Redis's own (``TIME``): one clock for every node, so a node is
judged silent without trusting the nodes' clocks to agree. Every key a script writes gets
a TTL of one lease in the same step; the living refresh theirs with :data:`TOUCH`.
The nodes' own scripts (heartbeat, write-back, reaping) are in :mod:`.redis_nodes_lua`.
"""

from __future__ import annotations

P = "{pairing}"


def prelude(lease_ms: int, dead_ms: int, grace_ms: int) -> str:
    """The constants every script reads: lease (key TTL), silence before a node is taken
    for dead, and the grace its people then have to resume elsewhere (all in ms)."""
    return f"local LEASE, DEAD, GRACE = {lease_ms}, {dead_ms}, {grace_ms}\n"


COMMON = """
local P = '{pairing}'
local function score(tier, since)
  return tonumber(tier) * 1e14 + math.floor(tonumber(since) * 1000)
end
local function has_topic(topics, topic)
  for t in string.gmatch(topics, '[^,]+') do if t == topic then return true end end
  return false
end
local function keep(key) redis.call('PEXPIRE', key, LEASE) end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local NOW = now_ms()
local function beat(node)
  redis.call('HSET', P .. ':alive', node, NOW)
  keep(P .. ':alive')
end
local function silent_for(node)  -- ms since the node last beat; 0 for one never heard of
  local seen = redis.call('HGET', P .. ':alive', node)
  if not seen then return 0 end
  return NOW - tonumber(seen)
end
local function stale(node) return silent_for(node) > DEAD end
-- a waiting seeker: nil when their record is gone, else whether they are absent
local function absent(seeker)
  local w = redis.call('HMGET', P .. ':w:' .. seeker, 'node', 'away')
  if not w[1] then return nil end
  return w[2] == '1' or stale(w[1])
end
-- the present seekers of a topic, first in line first, up to ``limit``; a queue entry
-- whose record expired is dropped on the way
local function present(topic, limit)
  local out, q, from = {}, P .. ':q:' .. topic, 0
  while limit == nil or #out < limit do
    local page = redis.call('ZRANGE', q, from, from + 63)
    if #page == 0 then break end
    for _, seeker in ipairs(page) do
      local away = absent(seeker)
      if away == nil then
        redis.call('ZREM', q, seeker)
        from = from - 1
      elseif not away then
        out[#out + 1] = seeker
        if limit ~= nil and #out >= limit then break end
      end
    end
    from = from + #page
  end
  return out
end
local function free_seat(topic, exclude, avoid)
  local best, ba, bc
  for _, l in ipairs(redis.call('SMEMBERS', P .. ':seats')) do
    if l ~= exclude and not (avoid ~= '' and has_topic(avoid, l)) then
      local s = redis.call('HMGET', P .. ':s:' .. l, 'auto', 'capacity', 'active', 'topics',
                           'node')
      local cap, act = tonumber(s[2]), tonumber(s[3])
      if s[1] == '1' and act < cap and has_topic(s[4], topic) and not stale(s[5]) then
        if best == nil or act * bc < ba * cap or (act * bc == ba * cap and l < best) then
          best, ba, bc = l, act, cap
        end
      end
    end
  end
  return best
end
local PAIR_FIELDS = {'room', 'topic', 'seeker', 'seeker_node', 'seeker_handle', 'listener',
                     'listener_node', 'listener_name', 'at_risk', 'waited'}
local function read_pair(room)
  local v = redis.call('HMGET', P .. ':p:' .. room, unpack(PAIR_FIELDS))
  if not v[1] then return nil end
  return v
end
local function keep_pair(room, seeker, listener)
  keep(P .. ':p:' .. room)
  keep(P .. ':sp:' .. seeker)
  keep(P .. ':lp:' .. listener)
end
local function seat_delta(listener, delta)
  local key = P .. ':s:' .. listener
  if redis.call('EXISTS', key) == 1 then
    local a = tonumber(redis.call('HGET', key, 'active'))
    if a + delta >= 0 then redis.call('HINCRBY', key, 'active', delta) end
  end
end
-- 1 + the present seekers ahead of ``seeker``
local function position(topic, seeker)
  local q = P .. ':q:' .. topic
  local rank = redis.call('ZRANK', q, seeker)
  if rank == false or rank == nil then return nil end
  local ahead = 0
  if rank > 0 then
    for _, s in ipairs(redis.call('ZRANGE', q, 0, rank - 1)) do
      if absent(s) == false then ahead = ahead + 1 end
    end
  end
  return ahead + 1
end
local function make_pair(seeker, listener, room, now)
  local w = redis.call('HMGET', P .. ':w:' .. seeker, 'topic', 'node', 'handle', 'since', 'tier',
                       'avoid')
  local s = redis.call('HMGET', P .. ':s:' .. listener, 'node', 'name')
  redis.call('ZREM', P .. ':q:' .. w[1], seeker)
  redis.call('DEL', P .. ':w:' .. seeker)
  redis.call('HINCRBY', P .. ':s:' .. listener, 'active', 1)
  local waited = math.max(0, tonumber(now) - tonumber(w[4]))
  local at_risk = (tonumber(w[5]) == 1) and '1' or '0'
  local v = {room, w[1], seeker, w[2], w[3], listener, s[1], s[2], at_risk, tostring(waited)}
  local flat = {}
  for i, f in ipairs(PAIR_FIELDS) do flat[#flat + 1] = f; flat[#flat + 1] = v[i] end
  redis.call('HSET', P .. ':p:' .. room, 'avoid', w[6] or '', 'since', w[4], 'tier', w[5],
             'state', 'offered', unpack(flat))
  redis.call('SADD', P .. ':lp:' .. listener, room)
  redis.call('SADD', P .. ':sp:' .. seeker, room)
  redis.call('ZADD', P .. ':offered', NOW, room)
  keep_pair(room, seeker, listener)
  keep(P .. ':offered')
  return v
end
local function forget_pair(room, v)
  redis.call('DEL', P .. ':p:' .. room)
  redis.call('SREM', P .. ':sp:' .. v[3], room)
  redis.call('SREM', P .. ':lp:' .. v[6], room)
  redis.call('ZREM', P .. ':offered', room)
end
-- an offered pair taken back: the seat is free, the seeker back at their place
local function take_back(room, away)
  local v = read_pair(room)
  if not v then return nil end
  local w = redis.call('HMGET', P .. ':p:' .. room, 'since', 'tier', 'avoid')
  forget_pair(room, v)
  seat_delta(v[6], -1)
  local wk = P .. ':w:' .. v[3]
  redis.call('HSET', wk, 'topic', v[2], 'node', v[4], 'handle', v[5], 'since', w[1],
             'tier', w[2], 'avoid', w[3] or '')
  if away then redis.call('HSET', wk, 'away', '1') end
  redis.call('ZADD', P .. ':q:' .. v[2], score(w[2], w[1]), v[3])
  keep(wk)
  keep(P .. ':q:' .. v[2])
  return v
end
local function end_pair(room)
  local v = read_pair(room)
  if not v then return nil end
  forget_pair(room, v)
  seat_delta(v[6], -1)
  return v
end
local function withdraw(l)
  local out = {}
  for _, room in ipairs(redis.call('SMEMBERS', P .. ':lp:' .. l)) do
    local v = read_pair(room)
    if v then
      out[#out + 1] = v
      forget_pair(room, v)
    end
  end
  redis.call('DEL', P .. ':lp:' .. l, P .. ':s:' .. l)
  redis.call('SREM', P .. ':seats', l)
  return out
end
"""

ENQUEUE = """
local seeker, topic, node = ARGV[1], ARGV[2], ARGV[3]
local handle, since, tier, avoid = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if redis.call('EXISTS', P .. ':w:' .. seeker) == 1 then return -1 end
beat(node)
redis.call('HSET', P .. ':w:' .. seeker, 'topic', topic, 'node', node, 'handle', handle,
           'since', since, 'tier', tier, 'avoid', avoid)
redis.call('ZADD', P .. ':q:' .. topic, score(tier, since), seeker)
keep(P .. ':w:' .. seeker)
keep(P .. ':q:' .. topic)
return position(topic, seeker)
"""

POSITION = """
local topic = redis.call('HGET', P .. ':w:' .. ARGV[1], 'topic')
if not topic then return nil end
return {topic, position(topic, ARGV[1])}
"""

CANCEL = """
local seeker = ARGV[1]
local w = redis.call('HMGET', P .. ':w:' .. seeker, 'topic', 'node', 'handle', 'since', 'tier',
                     'avoid')
if not w[1] then return nil end
redis.call('ZREM', P .. ':q:' .. w[1], seeker)
redis.call('DEL', P .. ':w:' .. seeker)
return w
"""

MARK_AT_RISK = """
local seeker = ARGV[1]
local w = redis.call('HMGET', P .. ':w:' .. seeker, 'topic', 'since', 'tier')
if not w[1] or tonumber(w[3]) <= 1 then return 0 end
redis.call('HSET', P .. ':w:' .. seeker, 'tier', 1)
redis.call('ZADD', P .. ':q:' .. w[1], score(1, w[2]), seeker)
return 1
"""

SET_AWAY = """
local key = P .. ':w:' .. ARGV[1]
local topic = redis.call('HGET', key, 'topic')
if not topic then return nil end
if ARGV[2] == '1' then redis.call('HSET', key, 'away', '1') else redis.call('HDEL', key, 'away') end
return topic
"""

OFFER = """
local l, node, name, topics, capacity, auto = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
beat(node)
local active = redis.call('HGET', P .. ':s:' .. l, 'active') or '0'
redis.call('HSET', P .. ':s:' .. l, 'node', node, 'name', name, 'topics', topics,
           'capacity', capacity, 'active', active, 'auto', auto)
redis.call('SADD', P .. ':seats', l)
keep(P .. ':s:' .. l)
keep(P .. ':seats')
return active
"""

WITHDRAW = """
return withdraw(ARGV[1])
"""

MATCH = """
local topic, room, now, scan = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
for _, seeker in ipairs(present(topic, scan)) do
  local avoid = redis.call('HGET', P .. ':w:' .. seeker, 'avoid') or ''
  local l = free_seat(topic, nil, avoid)
  if l then return make_pair(seeker, l, room, now) end
  if avoid == '' then return nil end  -- no seat for someone who avoids nobody: none at all
end
return nil
"""

ACCEPT = """
local l, topic, room, now, scan = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local s = redis.call('HMGET', P .. ':s:' .. l, 'capacity', 'active', 'topics')
if not s[1] or tonumber(s[2]) >= tonumber(s[1]) then return nil end
local topics = {}
if topic ~= '' and has_topic(s[3], topic) then topics = {topic}
else for t in string.gmatch(s[3], '[^,]+') do topics[#topics + 1] = t end end
local best, bs
for _, t in ipairs(topics) do
  for _, seeker in ipairs(present(t, scan)) do
    local avoid = redis.call('HGET', P .. ':w:' .. seeker, 'avoid') or ''
    if avoid == '' or not has_topic(avoid, l) then
      local sc = tonumber(redis.call('ZSCORE', P .. ':q:' .. t, seeker))
      if bs == nil or sc < bs then best, bs = seeker, sc end
      break
    end
  end
end
if not best then return nil end
return make_pair(best, l, room, now)
"""

END = """
return end_pair(ARGV[1])
"""

HANDOVER = """
local room = ARGV[1]
local v = read_pair(room)
if not v then return nil end
local l = free_seat(v[2], v[6], redis.call('HGET', P .. ':p:' .. room, 'avoid') or '')
if not l then return nil end
seat_delta(v[6], -1)
redis.call('SREM', P .. ':lp:' .. v[6], room)
redis.call('HINCRBY', P .. ':s:' .. l, 'active', 1)
redis.call('SADD', P .. ':lp:' .. l, room)
local s = redis.call('HMGET', P .. ':s:' .. l, 'node', 'name')
redis.call('HSET', P .. ':p:' .. room, 'listener', l, 'listener_node', s[1], 'listener_name', s[2])
keep_pair(room, v[3], l)
return read_pair(room)
"""

RELOCATE = """
local s, node = ARGV[1], ARGV[2]
beat(node)
for _, key in ipairs({P .. ':w:' .. s, P .. ':s:' .. s}) do
  if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'node', node) end
end
redis.call('HDEL', P .. ':w:' .. s, 'away')
for _, room in ipairs(redis.call('SMEMBERS', P .. ':sp:' .. s)) do
  redis.call('HSET', P .. ':p:' .. room, 'seeker_node', node)
end
for _, room in ipairs(redis.call('SMEMBERS', P .. ':lp:' .. s)) do
  redis.call('HSET', P .. ':p:' .. room, 'listener_node', node)
end
return 1
"""

QUEUE_INFO = """
local topic = ARGV[1]
local all = redis.call('ZCARD', P .. ':q:' .. topic)
local here = present(topic, nil)
local at_risk, oldest = 0, nil
for _, seeker in ipairs(here) do
  local w = redis.call('HMGET', P .. ':w:' .. seeker, 'since', 'tier')
  if tonumber(w[2]) == 1 then at_risk = at_risk + 1 end
  if oldest == nil or tonumber(w[1]) < oldest then oldest = tonumber(w[1]) end
end
local left = redis.call('ZCARD', P .. ':q:' .. topic)
return {#here, at_risk, oldest and tostring(oldest) or false, left - #here}
"""

ORDER = """
return present(ARGV[1], nil)
"""

PAIR_OF = """
return read_pair(ARGV[1])
"""

CONFIRM = """
local room = ARGV[1]
if redis.call('EXISTS', P .. ':p:' .. room) == 0 then return 0 end
redis.call('HSET', P .. ':p:' .. room, 'state', 'seated')
redis.call('ZREM', P .. ':offered', room)
return 1
"""

UNDO = """
local room = ARGV[1]
if redis.call('HGET', P .. ':p:' .. room, 'state') ~= 'offered' then return nil end
local v = take_back(room, true)
local w = redis.call('HMGET', P .. ':w:' .. v[3], 'topic', 'node', 'handle', 'since', 'tier',
                     'avoid')
return {v[3], w[1], w[2], w[3], w[4], w[5], w[6]}
"""

#: (name, body) of every script; each runs with :data:`COMMON` before it.
SCRIPTS = (
    ("enqueue", ENQUEUE),
    ("position", POSITION),
    ("cancel", CANCEL),
    ("mark", MARK_AT_RISK),
    ("set_away", SET_AWAY),
    ("offer", OFFER),
    ("withdraw", WITHDRAW),
    ("match", MATCH),
    ("accept", ACCEPT),
    ("end", END),
    ("handover", HANDOVER),
    ("pair_of", PAIR_OF),
    ("relocate", RELOCATE),
    ("queue_info", QUEUE_INFO),
    ("order", ORDER),
    ("confirm", CONFIRM),
    ("undo", UNDO),
)
