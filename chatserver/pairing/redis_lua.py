"""The Lua helpers every script of the Redis pairing store starts with, and the store's
lease and liveness constants (see :mod:`.redis` for the key layout). One script per
decision, so two nodes can never pair the same seeker or overfill a listener; every key
shares the hash tag ``{pairing}``, so each script runs on one shard of a cluster. The
scripts themselves: queues in :mod:`.redis_queue_lua`, pairs in :mod:`.redis_match`,
nodes (heartbeat, write-back, reaping) in :mod:`.redis_nodes_lua`. This module imports
nothing: the store registers the scripts.

Every script starts with :func:`prelude` (the store's lease and liveness, in ms) and
:data:`COMMON`. Time is Redis's own (``TIME``): one clock for every node, so a node is
judged silent without trusting the nodes' clocks to agree. Every key a script writes gets
a TTL of one lease in the same step; the living refresh theirs with the heartbeat.

Absence is read cheaply: seekers whose connection dropped are in one set
(``{pairing}:away``), and a seeker's record is read for its node only while some node is
silent. So reading a long queue's order stays a range read per line in the common case.
"""

from __future__ import annotations

P = "{pairing}"


def prelude(lease_ms: int, dead_ms: int, grace_ms: int) -> str:
    """The constants every script reads: lease (key TTL), silence before a node is taken
    for dead, and the grace its people then have to resume elsewhere (all in ms)."""
    return f"local LEASE, DEAD, GRACE = {lease_ms}, {dead_ms}, {grace_ms}\n"


COMMON = """
local P = '{pairing}'
local ANY = '*'
local function keep(...)
  for _, key in ipairs({...}) do redis.call('PEXPIRE', key, LEASE) end
end
local function score(tier, since)
  return tonumber(tier) * 1e14 + math.floor(tonumber(since) * 1000)
end
-- a score as text, exactly: Lua's own number formatting keeps only 14 digits
local function exact(x) return string.format('%.17g', x) end
local function has(csv, x)
  for t in string.gmatch(csv or '', '[^,]+') do if t == x then return true end end
  return false
end
local function qkey(topic, line) return P .. ':q:' .. topic .. ':' .. line end
local function line_of(lang, any) if any == '1' then return ANY end return lang end
local function file(seeker, topic, line, sc)
  redis.call('ZADD', qkey(topic, line), sc, seeker)
  redis.call('SADD', P .. ':ql:' .. topic, line)
  keep(qkey(topic, line), P .. ':ql:' .. topic)
end
local function unfile(seeker, topic, line)
  redis.call('ZREM', qkey(topic, line), seeker)
  if redis.call('EXISTS', qkey(topic, line)) == 0 then
    redis.call('SREM', P .. ':ql:' .. topic, line)
  end
end
local function lines(topic) return redis.call('SMEMBERS', P .. ':ql:' .. topic) end
local NOW
do
  local t = redis.call('TIME')
  NOW = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- nodes silent for longer than DEAD ({node = true}), read once per script
local STALE
local function stale_nodes()
  if STALE == nil then
    STALE = {}
    local alive = redis.call('HGETALL', P .. ':alive')
    for i = 1, #alive, 2 do
      if NOW - tonumber(alive[i + 1]) > DEAD then STALE[alive[i]] = true end
    end
  end
  return STALE
end
local function stale(node) return stale_nodes()[node] == true end
local function beat(node)
  redis.call('HSET', P .. ':alive', node, NOW)
  keep(P .. ':alive')
  if STALE then STALE[node] = nil end
end
-- waiting seekers whose connection is down ({seeker = true}), read once per script
local AWAY
local function away_set()
  if AWAY == nil then
    AWAY = {}
    for _, s in ipairs(redis.call('SMEMBERS', P .. ':away')) do AWAY[s] = true end
  end
  return AWAY
end
local function set_away(seeker, away)
  if away then
    redis.call('SADD', P .. ':away', seeker)
    keep(P .. ':away')
  else
    redis.call('SREM', P .. ':away', seeker)
  end
  if AWAY then AWAY[seeker] = away or nil end
end
-- whether a waiting seeker is absent (away, or their node silent); ``node`` is read from
-- their record when not given, and only while some node is silent
local function absent(seeker, node)
  if away_set()[seeker] then return true end
  if next(stale_nodes()) == nil then return false end
  node = node or redis.call('HGET', P .. ':w:' .. seeker, 'node')
  return node and stale(node) or false
end
-- call visit(seeker, score, avoid, lang) for the present seekers of a line, first in line
-- first, until it returns true or ``limit`` were visited (nil: no limit); an entry whose
-- record expired (a crashed node's leftover) is dropped on the way
local function each_present(topic, line, limit, visit)
  local key, from, seen = qkey(topic, line), 0, 0
  local size = limit or 64  -- usually the first page is all it takes
  while limit == nil or seen < limit do
    local page = redis.call('ZRANGE', key, from, from + size - 1, 'WITHSCORES')
    if #page == 0 then return end
    local dropped = 0
    for i = 1, #page, 2 do
      local s = page[i]
      local w = redis.call('HMGET', P .. ':w:' .. s, 'node', 'avoid', 'lang')
      if not w[1] then
        unfile(s, topic, line)
        dropped = dropped + 1
      elseif not absent(s, w[1]) then
        seen = seen + 1
        if visit(s, tonumber(page[i + 1]), w[2] or '', w[3]) then return end
        if limit ~= nil and seen >= limit then return end
      end
    end
    from = from + #page / 2 - dropped
  end
end
-- 1-based place of a seeker in its topic: 1 + the present seekers ahead, all lines
-- merged by (score, id)
local function rank(topic, seeker, sc)
  local n = 1
  local careful = next(stale_nodes()) ~= nil
  for _, line in ipairs(lines(topic)) do
    local key = qkey(topic, line)
    if careful then  -- some node is silent: look at each one ahead
      local m = redis.call('ZRANGEBYSCORE', key, '-inf', sc, 'WITHSCORES')
      for i = 1, #m, 2 do
        local x = tonumber(m[i + 1])
        if (x < sc or m[i] < seeker) and not absent(m[i]) then n = n + 1 end
      end
    else
      n = n + redis.call('ZCOUNT', key, '-inf', '(' .. exact(sc))
      for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, sc, sc)) do
        if m < seeker then n = n + 1 end
      end
      for s in pairs(away_set()) do
        local x = redis.call('ZSCORE', key, s)
        if x and (tonumber(x) < sc or (tonumber(x) == sc and s < seeker)) then n = n - 1 end
      end
    end
  end
  return n
end
-- free auto seats of a topic on live nodes: {id, active, capacity, languages}; stale ids
-- are dropped
local function free_seats(topic, exclude)
  local out = {}
  for _, l in ipairs(redis.call('SMEMBERS', P .. ':seats')) do
    local s = redis.call('HMGET', P .. ':s:' .. l, 'auto', 'capacity', 'active', 'topics',
                         'langs', 'node')
    if not s[2] then redis.call('SREM', P .. ':seats', l)
    elseif l ~= exclude and s[1] == '1' and tonumber(s[3]) < tonumber(s[2])
        and has(s[4], topic) and not stale(s[6]) then
      out[#out + 1] = {l, tonumber(s[3]), tonumber(s[2]), s[5] or ''}
    end
  end
  return out
end
-- a speaker of lang first, then the least loaded, then the smallest id
local function better(a, b, lang)
  local sa, sb = has(a[4], lang), has(b[4], lang)
  if sa ~= sb then return sa end
  local x, y = a[2] * b[3], b[2] * a[3]
  if x ~= y then return x < y end
  return a[1] < b[1]
end
local function pick(free, lang, any, avoid)
  local best
  for _, s in ipairs(free) do
    if not has(avoid, s[1]) and (any or has(s[4], lang)) then
      if best == nil or better(s, best, lang) then best = s end
    end
  end
  return best
end
local WAITING_FIELDS = {'topic', 'node', 'handle', 'since', 'tier', 'avoid', 'lang', 'need',
                        'any'}
local PAIR_FIELDS = {'room', 'topic', 'seeker', 'seeker_node', 'seeker_handle', 'listener',
                     'listener_node', 'listener_name', 'at_risk', 'waited', 'lang', 'need',
                     'shared'}
local function read_pair(room)
  local v = redis.call('HMGET', P .. ':p:' .. room, unpack(PAIR_FIELDS))
  if not v[1] then return nil end
  return v
end
local function keep_pair(room, seeker, listener)
  keep(P .. ':p:' .. room, P .. ':sp:' .. seeker, P .. ':lp:' .. listener)
end
local function seat_delta(listener, delta)
  local key = P .. ':s:' .. listener
  if redis.call('EXISTS', key) == 1 then
    local a = tonumber(redis.call('HGET', key, 'active'))
    if a + delta >= 0 then redis.call('HINCRBY', key, 'active', delta) end
  end
end
-- the seeker's place is kept in the pair (since, tier, avoid, any) until it is confirmed
local function make_pair(seeker, listener, room, now)
  local w = redis.call('HMGET', P .. ':w:' .. seeker, unpack(WAITING_FIELDS))
  local s = redis.call('HMGET', P .. ':s:' .. listener, 'node', 'name', 'langs')
  unfile(seeker, w[1], line_of(w[7], w[9]))
  redis.call('DEL', P .. ':w:' .. seeker)
  set_away(seeker, false)
  redis.call('HINCRBY', P .. ':s:' .. listener, 'active', 1)
  local waited = math.max(0, tonumber(now) - tonumber(w[4]))
  local at_risk = (tonumber(w[5]) == 1) and '1' or '0'
  local shared = has(s[3], w[7]) and '1' or '0'
  local v = {room, w[1], seeker, w[2], w[3], listener, s[1], s[2], at_risk, tostring(waited),
             w[7], w[8], shared}
  local flat = {}
  for i, f in ipairs(PAIR_FIELDS) do flat[#flat + 1] = f; flat[#flat + 1] = v[i] end
  redis.call('HSET', P .. ':p:' .. room, 'avoid', w[6] or '', 'since', w[4], 'tier', w[5],
             'any', w[9] or '0', 'state', 'offered', unpack(flat))
  redis.call('SADD', P .. ':lp:' .. listener, room)
  redis.call('SADD', P .. ':sp:' .. seeker, room)
  redis.call('ZADD', P .. ':offered', NOW, room)
  keep_pair(room, seeker, listener)
  keep(P .. ':s:' .. listener, P .. ':offered')
  return v
end
local function forget_pair(room, v)
  redis.call('DEL', P .. ':p:' .. room)
  redis.call('SREM', P .. ':sp:' .. v[3], room)
  redis.call('SREM', P .. ':lp:' .. v[6], room)
  redis.call('ZREM', P .. ':offered', room)
end
-- an offered pair taken back: the seat is free, the seeker back at their place (their
-- line, tier and arrival), away if ``away``
local function take_back(room, away)
  local v = read_pair(room)
  if not v then return nil end
  local w = redis.call('HMGET', P .. ':p:' .. room, 'since', 'tier', 'avoid', 'any')
  forget_pair(room, v)
  seat_delta(v[6], -1)
  local wk = P .. ':w:' .. v[3]
  redis.call('HSET', wk, 'topic', v[2], 'node', v[4], 'handle', v[5], 'since', w[1],
             'tier', w[2], 'avoid', w[3] or '', 'lang', v[11], 'need', v[12] or '',
             'any', w[4] or '0')
  keep(wk)
  set_away(v[3], away)
  file(v[3], v[2], line_of(v[11], w[4]), score(w[2], w[1]))
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
