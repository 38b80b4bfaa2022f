"""The Lua scripts of the Redis pairing store: one script per decision, so two nodes can
never pair the same seeker or overfill a listener. Every key shares the hash tag
``{pairing}``, so each script runs on one shard of a cluster (see :mod:`.redis` for the
key layout). Every key a script writes gets :data:`KEY_TTL_MS` again: the TTL is a
backstop that clears what a crashed node left, never the way state normally goes.
This module imports nothing: the store registers the scripts."""

from __future__ import annotations

P = "{pairing}"
#: Lifetime of every pairing key, renewed by each write to it: longer than any wait or
#: chat (listener tokens last 12 hours by default).
KEY_TTL_MS = 24 * 3600 * 1000

COMMON = (
    """
local P = '{pairing}'
local ANY = '*'
local TTL = """
    + str(KEY_TTL_MS)
    + """
local function keep(...)
  for _, key in ipairs({...}) do redis.call('PEXPIRE', key, TTL) end
end
local function score(tier, since)
  return tonumber(tier) * 1e14 + math.floor(tonumber(since) * 1000)
end
local function has(csv, x)
  for t in string.gmatch(csv or '', '[^,]+') do if t == x then return true end end
  return false
end
local function qkey(topic, line) return P .. ':q:' .. topic .. ':' .. line end
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
local function line_of(lang, any) if any == '1' then return ANY end return lang end
-- 1-based place of a seeker in its topic, all lines merged by (score, id)
local function rank(topic, seeker, sc)
  local n = 1
  for _, line in ipairs(redis.call('SMEMBERS', P .. ':ql:' .. topic)) do
    -- a bound as text: Lua's own number formatting keeps only 14 digits
    n = n + redis.call('ZCOUNT', qkey(topic, line), '-inf', '(' .. string.format('%.17g', sc))
    for _, m in ipairs(redis.call('ZRANGEBYSCORE', qkey(topic, line), sc, sc)) do
      if m < seeker then n = n + 1 end
    end
  end
  return n
end
-- free auto seats of a topic: {id, active, capacity, languages}; stale ids are dropped
local function free_seats(topic, exclude)
  local out = {}
  for _, l in ipairs(redis.call('SMEMBERS', P .. ':seats')) do
    local s = redis.call('HMGET', P .. ':s:' .. l, 'auto', 'capacity', 'active', 'topics',
                         'langs')
    if not s[2] then redis.call('SREM', P .. ':seats', l)
    elseif l ~= exclude and s[1] == '1' and tonumber(s[3]) < tonumber(s[2])
        and has(s[4], topic) then
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
local PAIR_FIELDS = {'room', 'topic', 'seeker', 'seeker_node', 'seeker_handle', 'listener',
                     'listener_node', 'listener_name', 'at_risk', 'waited', 'lang', 'need',
                     'shared'}
local function read_pair(room)
  local v = redis.call('HMGET', P .. ':p:' .. room, unpack(PAIR_FIELDS))
  if not v[1] then return nil end
  return v
end
local function make_pair(seeker, listener, room, now)
  local w = redis.call('HMGET', P .. ':w:' .. seeker, 'topic', 'node', 'handle', 'since', 'tier',
                       'avoid', 'lang', 'need', 'any')
  local s = redis.call('HMGET', P .. ':s:' .. listener, 'node', 'name', 'langs')
  unfile(seeker, w[1], line_of(w[7], w[9]))
  redis.call('DEL', P .. ':w:' .. seeker)
  redis.call('HINCRBY', P .. ':s:' .. listener, 'active', 1)
  local waited = math.max(0, tonumber(now) - tonumber(w[4]))
  local at_risk = (tonumber(w[5]) == 1) and '1' or '0'
  local shared = has(s[3], w[7]) and '1' or '0'
  local v = {room, w[1], seeker, w[2], w[3], listener, s[1], s[2], at_risk, tostring(waited),
             w[7], w[8], shared}
  local flat = {}
  for i, f in ipairs(PAIR_FIELDS) do flat[#flat + 1] = f; flat[#flat + 1] = v[i] end
  redis.call('HSET', P .. ':p:' .. room, 'avoid', w[6] or '', unpack(flat))
  redis.call('SADD', P .. ':lp:' .. listener, room)
  redis.call('SADD', P .. ':sp:' .. seeker, room)
  keep(P .. ':p:' .. room, P .. ':lp:' .. listener, P .. ':sp:' .. seeker, P .. ':s:' .. listener)
  return v
end
local function free_one(listener)
  if redis.call('EXISTS', P .. ':s:' .. listener) == 1 then
    local a = tonumber(redis.call('HGET', P .. ':s:' .. listener, 'active'))
    if a > 0 then redis.call('HINCRBY', P .. ':s:' .. listener, 'active', -1) end
  end
end
"""
)

ENQUEUE = """
local seeker, topic, node, handle, since, tier = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5],
                                                 ARGV[6]
local avoid, lang, need, any = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
if redis.call('EXISTS', P .. ':w:' .. seeker) == 1 then return -1 end
redis.call('HSET', P .. ':w:' .. seeker, 'topic', topic, 'node', node, 'handle', handle,
           'since', since, 'tier', tier, 'avoid', avoid, 'lang', lang, 'need', need, 'any', any)
keep(P .. ':w:' .. seeker)
local sc = score(tier, since)
file(seeker, topic, line_of(lang, any), sc)
return rank(topic, seeker, sc)
"""

WAITING_FIELDS = "'topic', 'node', 'handle', 'since', 'tier', 'avoid', 'lang', 'need', 'any'"

CANCEL = f"""
local seeker = ARGV[1]
local w = redis.call('HMGET', P .. ':w:' .. seeker, {WAITING_FIELDS})
if not w[1] then return nil end
unfile(seeker, w[1], line_of(w[7], w[9]))
redis.call('DEL', P .. ':w:' .. seeker)
return w
"""

POSITION = """
local seeker = ARGV[1]
local w = redis.call('HMGET', P .. ':w:' .. seeker, 'topic', 'since', 'tier')
if not w[1] then return nil end
return {w[1], rank(w[1], seeker, score(w[3], w[2]))}
"""

MARK_AT_RISK = """
local seeker = ARGV[1]
local w = redis.call('HMGET', P .. ':w:' .. seeker, 'topic', 'since', 'tier', 'lang', 'any')
if not w[1] or tonumber(w[3]) <= 1 then return 0 end
redis.call('HSET', P .. ':w:' .. seeker, 'tier', 1)
keep(P .. ':w:' .. seeker)
file(seeker, w[1], line_of(w[4], w[5]), score(1, w[2]))
return 1
"""

CHOOSE_ANY = """
local seeker = ARGV[1]
local w = redis.call('HMGET', P .. ':w:' .. seeker, 'topic', 'since', 'tier', 'lang', 'any')
if not w[1] or w[5] == '1' then return 0 end
unfile(seeker, w[1], w[4])
redis.call('HSET', P .. ':w:' .. seeker, 'any', '1')
keep(P .. ':w:' .. seeker)
file(seeker, w[1], ANY, score(w[3], w[2]))
return 1
"""

LINE_UP = f"""
-- each line of the topic, members with scores (the caller merges: no sorting in Redis);
-- with ARGV[2] == '1' also each member's record
local topic, full = ARGV[1], ARGV[2] == '1'
local out = {{}}
for _, line in ipairs(redis.call('SMEMBERS', P .. ':ql:' .. topic)) do
  local m = redis.call('ZRANGE', qkey(topic, line), 0, -1, 'WITHSCORES')
  local rows = {{}}
  if full then
    for i = 1, #m, 2 do
      local w = redis.call('HMGET', P .. ':w:' .. m[i], {WAITING_FIELDS})
      rows[#rows + 1] = {{m[i], m[i + 1], w}}
    end
  end
  out[#out + 1] = {{m, rows}}
end
return out
"""

OFFER = """
local l, node, name, topics, capacity, auto, langs = ARGV[1], ARGV[2], ARGV[3], ARGV[4],
                                                     ARGV[5], ARGV[6], ARGV[7]
local active = redis.call('HGET', P .. ':s:' .. l, 'active') or '0'
redis.call('HSET', P .. ':s:' .. l, 'node', node, 'name', name, 'topics', topics,
           'capacity', capacity, 'active', active, 'auto', auto, 'langs', langs)
redis.call('SADD', P .. ':seats', l)
keep(P .. ':s:' .. l, P .. ':seats')
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

ON_DUTY = """
local topic, seen, out = ARGV[1], {}, {}
for _, l in ipairs(redis.call('SMEMBERS', P .. ':seats')) do
  local s = redis.call('HMGET', P .. ':s:' .. l, 'capacity', 'topics', 'langs')
  if s[1] and tonumber(s[1]) > 0 and has(s[2], topic) then
    for lang in string.gmatch(s[3] or '', '[^,]+') do
      if not seen[lang] then seen[lang] = true; out[#out + 1] = lang end
    end
  end
end
table.sort(out)
return out
"""

#: (name, body) of every script but the pairing decisions (:mod:`.redis_match`); each
#: runs with :data:`COMMON` before it.
QUEUE_SCRIPTS = (
    ("enqueue", ENQUEUE),
    ("cancel", CANCEL),
    ("position", POSITION),
    ("mark", MARK_AT_RISK),
    ("choose_any", CHOOSE_ANY),
    ("line_up", LINE_UP),
    ("offer", OFFER),
    ("withdraw", WITHDRAW),
    ("on_duty", ON_DUTY),
)
