"""The Lua scripts of the Redis pairing store that make, move and end pairs, and read the
queues for status (the queue scripts are in :mod:`.redis_lua`, with the helpers both
use). The rules are those of :mod:`.base`, line for line as the memory twin."""

from __future__ import annotations

from chatserver.pairing.redis_lua import QUEUE_SCRIPTS

MATCH = """
local topic, room, now, scan = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local lines = redis.call('SMEMBERS', P .. ':ql:' .. topic)
if #lines == 0 then return nil end  -- nobody waits: no need to look at the seats
local free = free_seats(topic, nil)
if #free == 0 then return nil end
local best, bs, bseat
for _, line in ipairs(lines) do
  local m = redis.call('ZRANGE', qkey(topic, line), 0, scan - 1, 'WITHSCORES')
  for i = 1, #m, 2 do
    local seeker, sc = m[i], tonumber(m[i + 1])
    local w = redis.call('HMGET', P .. ':w:' .. seeker, 'avoid', 'lang')
    if not w[2] then
      unfile(seeker, topic, line)  -- its record expired (a crashed node's leftover)
    else
      local s = pick(free, w[2], line == ANY, w[1] or '')
      if s then
        if best == nil or sc < bs or (sc == bs and seeker < best) then
          best, bs, bseat = seeker, sc, s[1]
        end
        break
      end
      if (w[1] or '') == '' then break end  -- nobody behind in this line has a seat
    end
  end
end
if not best then return nil end
return make_pair(best, bseat, room, now)
"""

ACCEPT = """
local l, topic, room, now, scan = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local s = redis.call('HMGET', P .. ':s:' .. l, 'capacity', 'active', 'topics', 'langs')
if not s[1] or tonumber(s[2]) >= tonumber(s[1]) then return nil end
local topics = {}
if topic ~= '' and has(s[3], topic) then topics = {topic}
else for t in string.gmatch(s[3], '[^,]+') do topics[#topics + 1] = t end end
local best, bs
for _, t in ipairs(topics) do
  for _, line in ipairs(redis.call('SMEMBERS', P .. ':ql:' .. t)) do
    if line == ANY or has(s[4], line) then
      local m = redis.call('ZRANGE', qkey(t, line), 0, scan - 1, 'WITHSCORES')
      for i = 1, #m, 2 do
        local avoid = redis.call('HGET', P .. ':w:' .. m[i], 'avoid')
        if avoid and not has(avoid, l) then
          local sc = tonumber(m[i + 1])
          if bs == nil or sc < bs or (sc == bs and m[i] < best) then best, bs = m[i], sc end
          break
        end
      end
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
free_one(v[6])
return v
"""

HANDOVER = """
local room = ARGV[1]
local v = read_pair(room)
if not v then return nil end
local avoid = redis.call('HGET', P .. ':p:' .. room, 'avoid') or ''
local lang, shared = v[11], v[13]
local best
for _, s in ipairs(free_seats(v[2], v[6])) do
  if not has(avoid, s[1]) and (shared == '0' or has(s[4], lang)) then
    if best == nil or better(s, best, lang) then best = s end
  end
end
if not best then return nil end
local l = best[1]
free_one(v[6])
redis.call('SREM', P .. ':lp:' .. v[6], room)
redis.call('HINCRBY', P .. ':s:' .. l, 'active', 1)
redis.call('SADD', P .. ':lp:' .. l, room)
local s = redis.call('HMGET', P .. ':s:' .. l, 'node', 'name')
redis.call('HSET', P .. ':p:' .. room, 'listener', l, 'listener_node', s[1], 'listener_name', s[2],
           'shared', has(best[4], lang) and '1' or '0')
keep(P .. ':p:' .. room, P .. ':lp:' .. l, P .. ':s:' .. l)
return read_pair(room)
"""

RELOCATE = """
local s, node = ARGV[1], ARGV[2]
for _, key in ipairs({P .. ':w:' .. s, P .. ':s:' .. s}) do
  if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'node', node); keep(key) end
end
for _, room in ipairs(redis.call('SMEMBERS', P .. ':sp:' .. s)) do
  redis.call('HSET', P .. ':p:' .. room, 'seeker_node', node)
  keep(P .. ':p:' .. room)
end
for _, room in ipairs(redis.call('SMEMBERS', P .. ':lp:' .. s)) do
  redis.call('HSET', P .. ':p:' .. room, 'listener_node', node)
  keep(P .. ':p:' .. room)
end
return 1
"""

QUEUE_INFO = """
-- per seeker language: {lang, waiting, at_risk, oldest since (ms) or false, ...}
local topic = ARGV[1]
local langs, rows = {}, {}
local function add(lang, n, risky, oldest)
  local r = rows[lang]
  if not r then r = {0, 0, false}; rows[lang] = r; langs[#langs + 1] = lang end
  r[1], r[2] = r[1] + n, r[2] + risky
  if oldest and (not r[3] or oldest < r[3]) then r[3] = oldest end
end
for _, line in ipairs(redis.call('SMEMBERS', P .. ':ql:' .. topic)) do
  local key = qkey(topic, line)
  if line == ANY then
    local m = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    for i = 1, #m, 2 do
      local sc = tonumber(m[i + 1])
      local tier = math.floor(sc / 1e14)
      local lang = redis.call('HGET', P .. ':w:' .. m[i], 'lang')
      if lang then add(lang, 1, tier == 1 and 1 or 0, sc - tier * 1e14) end
    end
  else
    local oldest = false
    for tier = 0, 2 do
      local head = redis.call('ZRANGEBYSCORE', key, tier * 1e14, (tier + 1) * 1e14 - 1,
                              'WITHSCORES', 'LIMIT', 0, 1)
      if head[1] then
        local since = tonumber(head[2]) - tier * 1e14
        if not oldest or since < oldest then oldest = since end
      end
    end
    add(line, redis.call('ZCARD', key), redis.call('ZCOUNT', key, 1e14, 2e14 - 1), oldest)
  end
end
table.sort(langs)
local out = {}
for _, lang in ipairs(langs) do
  local r = rows[lang]
  out[#out + 1] = {lang, r[1], r[2], r[3] and tostring(r[3] / 1000) or false}
end
return out
"""

PAIR_OF = """
return read_pair(ARGV[1])
"""

#: (name, body) of every script of the store; each runs with ``COMMON`` before it.
SCRIPTS = (
    *QUEUE_SCRIPTS,
    ("match", MATCH),
    ("accept", ACCEPT),
    ("end", END),
    ("handover", HANDOVER),
    ("pair_of", PAIR_OF),
    ("relocate", RELOCATE),
    ("queue_info", QUEUE_INFO),
)
