"""The Lua scripts of the Redis pairing store: one script per decision, so two nodes can
never pair the same seeker or overfill a listener. Every key shares the hash tag
``{pairing}``, so each script runs on one shard of a cluster (see :mod:`.redis` for the
key layout). This module imports nothing: the store registers the scripts."""

from __future__ import annotations

P = "{pairing}"

COMMON = """
local P = '{pairing}'
local function score(tier, since)
  return tonumber(tier) * 1e14 + math.floor(tonumber(since) * 1000)
end
local function has_topic(topics, topic)
  for t in string.gmatch(topics, '[^,]+') do if t == topic then return true end end
  return false
end
local function free_seat(topic, exclude, avoid)
  local best, ba, bc
  for _, l in ipairs(redis.call('SMEMBERS', P .. ':seats')) do
    if l ~= exclude and not (avoid ~= '' and has_topic(avoid, l)) then
      local s = redis.call('HMGET', P .. ':s:' .. l, 'auto', 'capacity', 'active', 'topics')
      local cap, act = tonumber(s[2]), tonumber(s[3])
      if s[1] == '1' and act < cap and has_topic(s[4], topic) then
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
  redis.call('HSET', P .. ':p:' .. room, 'avoid', w[6] or '', unpack(flat))
  redis.call('SADD', P .. ':lp:' .. listener, room)
  redis.call('SADD', P .. ':sp:' .. seeker, room)
  return v
end
"""

ENQUEUE = """
local seeker, topic, node = ARGV[1], ARGV[2], ARGV[3]
local handle, since, tier, avoid = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
if redis.call('EXISTS', P .. ':w:' .. seeker) == 1 then return -1 end
redis.call('HSET', P .. ':w:' .. seeker, 'topic', topic, 'node', node, 'handle', handle,
           'since', since, 'tier', tier, 'avoid', avoid)
redis.call('ZADD', P .. ':q:' .. topic, score(tier, since), seeker)
return redis.call('ZRANK', P .. ':q:' .. topic, seeker) + 1
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

OFFER = """
local l, node, name, topics, capacity, auto = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local active = redis.call('HGET', P .. ':s:' .. l, 'active') or '0'
redis.call('HSET', P .. ':s:' .. l, 'node', node, 'name', name, 'topics', topics,
           'capacity', capacity, 'active', active, 'auto', auto)
redis.call('SADD', P .. ':seats', l)
return active
"""

WITHDRAW = """
local l = ARGV[1]
local out = {}
for _, room in ipairs(redis.call('SMEMBERS', P .. ':lp:' .. l)) do
  local v = read_pair(room)
  if v then
    out[#out + 1] = v
    redis.call('DEL', P .. ':p:' .. room)
    redis.call('SREM', P .. ':sp:' .. v[3], room)
  end
end
redis.call('DEL', P .. ':lp:' .. l, P .. ':s:' .. l)
redis.call('SREM', P .. ':seats', l)
return out
"""

MATCH = """
local topic, room, now, scan = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
for _, seeker in ipairs(redis.call('ZRANGE', P .. ':q:' .. topic, 0, scan - 1)) do
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
  local line = redis.call('ZRANGE', P .. ':q:' .. t, 0, scan - 1, 'WITHSCORES')
  for i = 1, #line, 2 do
    local avoid = redis.call('HGET', P .. ':w:' .. line[i], 'avoid') or ''
    if avoid == '' or not has_topic(avoid, l) then
      if bs == nil or tonumber(line[i + 1]) < bs then best, bs = line[i], tonumber(line[i + 1]) end
      break
    end
  end
end
if not best then return nil end
return make_pair(best, l, room, now)
"""

END = """
local room = ARGV[1]
local v = read_pair(room)
if not v then return nil end
redis.call('DEL', P .. ':p:' .. room)
redis.call('SREM', P .. ':sp:' .. v[3], room)
redis.call('SREM', P .. ':lp:' .. v[6], room)
if redis.call('EXISTS', P .. ':s:' .. v[6]) == 1 then
  local a = tonumber(redis.call('HGET', P .. ':s:' .. v[6], 'active'))
  if a > 0 then redis.call('HINCRBY', P .. ':s:' .. v[6], 'active', -1) end
end
return v
"""

HANDOVER = """
local room = ARGV[1]
local v = read_pair(room)
if not v then return nil end
local l = free_seat(v[2], v[6], redis.call('HGET', P .. ':p:' .. room, 'avoid') or '')
if not l then return nil end
if redis.call('EXISTS', P .. ':s:' .. v[6]) == 1 then
  local a = tonumber(redis.call('HGET', P .. ':s:' .. v[6], 'active'))
  if a > 0 then redis.call('HINCRBY', P .. ':s:' .. v[6], 'active', -1) end
end
redis.call('SREM', P .. ':lp:' .. v[6], room)
redis.call('HINCRBY', P .. ':s:' .. l, 'active', 1)
redis.call('SADD', P .. ':lp:' .. l, room)
local s = redis.call('HMGET', P .. ':s:' .. l, 'node', 'name')
redis.call('HSET', P .. ':p:' .. room, 'listener', l, 'listener_node', s[1], 'listener_name', s[2])
return read_pair(room)
"""

RELOCATE = """
local s, node = ARGV[1], ARGV[2]
for _, key in ipairs({P .. ':w:' .. s, P .. ':s:' .. s}) do
  if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'node', node) end
end
for _, room in ipairs(redis.call('SMEMBERS', P .. ':sp:' .. s)) do
  redis.call('HSET', P .. ':p:' .. room, 'seeker_node', node)
end
for _, room in ipairs(redis.call('SMEMBERS', P .. ':lp:' .. s)) do
  redis.call('HSET', P .. ':p:' .. room, 'listener_node', node)
end
return 1
"""

QUEUE_INFO = """
local key = P .. ':q:' .. ARGV[1]
local count = redis.call('ZCARD', key)
local at_risk = redis.call('ZCOUNT', key, 1e14, 2e14 - 1)
local oldest = nil
for tier = 0, 2 do
  local head = redis.call('ZRANGEBYSCORE', key, tier * 1e14, (tier + 1) * 1e14 - 1,
                          'WITHSCORES', 'LIMIT', 0, 1)
  if head[1] then
    local since = tonumber(head[2]) - tier * 1e14
    if oldest == nil or since < oldest then oldest = since end
  end
end
return {count, at_risk, oldest and tostring(oldest / 1000) or false}
"""

PAIR_OF = """
return read_pair(ARGV[1])
"""

#: (name, body) of every script; each runs with :data:`COMMON` before it.
SCRIPTS = (
    ("enqueue", ENQUEUE),
    ("cancel", CANCEL),
    ("mark", MARK_AT_RISK),
    ("offer", OFFER),
    ("withdraw", WITHDRAW),
    ("match", MATCH),
    ("accept", ACCEPT),
    ("end", END),
    ("handover", HANDOVER),
    ("pair_of", PAIR_OF),
    ("relocate", RELOCATE),
    ("queue_info", QUEUE_INFO),
)
