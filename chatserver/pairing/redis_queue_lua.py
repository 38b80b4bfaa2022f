"""The Lua scripts of the Redis pairing store that file seekers and listeners' seats and
read the queues (the helpers are in :mod:`.redis_lua`; pairs are made and ended in
:mod:`.redis_match`). The rules are those of :mod:`.base`, line for line as the memory
twin. This module imports nothing: the store registers the scripts."""

from __future__ import annotations

ENQUEUE = """
local seeker, topic, node, handle, since, tier = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5],
                                                 ARGV[6]
local avoid, lang, need, any = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
if redis.call('EXISTS', P .. ':w:' .. seeker) == 1 then return -1 end
beat(node)
redis.call('HSET', P .. ':w:' .. seeker, 'topic', topic, 'node', node, 'handle', handle,
           'since', since, 'tier', tier, 'avoid', avoid, 'lang', lang, 'need', need, 'any', any)
keep(P .. ':w:' .. seeker)
set_away(seeker, false)
local sc = score(tier, since)
file(seeker, topic, line_of(lang, any), sc)
return rank(topic, seeker, sc)
"""

CANCEL = """
local seeker = ARGV[1]
local w = redis.call('HMGET', P .. ':w:' .. seeker, unpack(WAITING_FIELDS))
if not w[1] then return nil end
unfile(seeker, w[1], line_of(w[7], w[9]))
redis.call('DEL', P .. ':w:' .. seeker)
set_away(seeker, false)
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

SET_AWAY = """
local topic = redis.call('HGET', P .. ':w:' .. ARGV[1], 'topic')
if not topic then return nil end
set_away(ARGV[1], ARGV[2] == '1')
return topic
"""

LINE_UP = """
-- {lines, absent}: each line of the topic, members with scores (the caller merges: no
-- sorting in Redis), with ARGV[2] == '1' also each member's record; and the ids of the
-- absent seekers among them (only the away set, unless some node is silent)
local topic, full = ARGV[1], ARGV[2] == '1'
local out, gone = {}, {}
local careful = next(stale_nodes()) ~= nil
for _, line in ipairs(lines(topic)) do
  local m = redis.call('ZRANGE', qkey(topic, line), 0, -1, 'WITHSCORES')
  local rows = {}
  if full then
    for i = 1, #m, 2 do
      rows[#rows + 1] = {m[i], m[i + 1],
                         redis.call('HMGET', P .. ':w:' .. m[i], unpack(WAITING_FIELDS))}
    end
  end
  if careful then
    for i = 1, #m, 2 do if absent(m[i]) then gone[#gone + 1] = m[i] end end
  end
  out[#out + 1] = {m, rows}
end
if not careful then
  for s in pairs(away_set()) do gone[#gone + 1] = s end
end
return {out, gone}
"""

OFFER = """
local l, node, name, topics, capacity, auto, langs = ARGV[1], ARGV[2], ARGV[3], ARGV[4],
                                                     ARGV[5], ARGV[6], ARGV[7]
beat(node)
local active = redis.call('HGET', P .. ':s:' .. l, 'active') or '0'
redis.call('HSET', P .. ':s:' .. l, 'node', node, 'name', name, 'topics', topics,
           'capacity', capacity, 'active', active, 'auto', auto, 'langs', langs)
redis.call('SADD', P .. ':seats', l)
keep(P .. ':s:' .. l, P .. ':seats')
return active
"""

WITHDRAW = """
return withdraw(ARGV[1])
"""

ON_DUTY = """
local topic, seen, out = ARGV[1], {}, {}
for _, l in ipairs(redis.call('SMEMBERS', P .. ':seats')) do
  local s = redis.call('HMGET', P .. ':s:' .. l, 'capacity', 'topics', 'langs', 'node')
  if s[1] and tonumber(s[1]) > 0 and has(s[2], topic) and not stale(s[4]) then
    for lang in string.gmatch(s[3] or '', '[^,]+') do
      if not seen[lang] then seen[lang] = true; out[#out + 1] = lang end
    end
  end
end
table.sort(out)
return out
"""

QUEUE_INFO = """
-- {rows, away}: per seeker language, {lang, waiting, at_risk, oldest since (s) or false}
-- of the present seekers; and how many are absent
local topic = ARGV[1]
local langs, rows, total, here = {}, {}, 0, 0
local careful = next(stale_nodes()) ~= nil
local function add(lang, n, risky, oldest)
  local r = rows[lang]
  if not r then r = {0, 0, false}; rows[lang] = r; langs[#langs + 1] = lang end
  r[1], r[2] = r[1] + n, r[2] + risky
  if oldest and (not r[3] or oldest < r[3]) then r[3] = oldest end
  here = here + n
end
-- each seeker read: the "any" line (its seekers' languages differ), or some node is silent
local function one_by_one(key, line)
  local m = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
  for i = 1, #m, 2 do
    if not absent(m[i]) then
      local sc = tonumber(m[i + 1])
      local tier = math.floor(sc / 1e14)
      local lang = line
      if line == ANY then lang = redis.call('HGET', P .. ':w:' .. m[i], 'lang') end
      if lang then add(lang, 1, tier == 1 and 1 or 0, sc - tier * 1e14) end
    end
  end
end
-- counts and tier heads only, minus the away seekers of this line ({seeker = score})
local function at_once(key, line, gone)
  local n, skip = redis.call('ZCARD', key), 0
  local risky = redis.call('ZCOUNT', key, 1e14, 2e14 - 1)
  for _, sc in pairs(gone) do
    n, skip = n - 1, skip + 1
    if math.floor(sc / 1e14) == 1 then risky = risky - 1 end
  end
  local oldest = false
  for tier = 0, 2 do
    local head = redis.call('ZRANGEBYSCORE', key, tier * 1e14, (tier + 1) * 1e14 - 1,
                            'WITHSCORES', 'LIMIT', 0, skip + 1)
    for i = 1, #head, 2 do
      if not gone[head[i]] then
        local since = tonumber(head[i + 1]) - tier * 1e14
        if not oldest or since < oldest then oldest = since end
        break
      end
    end
  end
  if n > 0 then add(line, n, risky, oldest) end
end
for _, line in ipairs(lines(topic)) do
  local key = qkey(topic, line)
  total = total + redis.call('ZCARD', key)
  if careful or line == ANY then
    one_by_one(key, line)
  else
    local gone = {}
    for s in pairs(away_set()) do
      local sc = redis.call('ZSCORE', key, s)
      if sc then gone[s] = tonumber(sc) end
    end
    at_once(key, line, gone)
  end
end
table.sort(langs)
local out = {}
for _, lang in ipairs(langs) do
  local r = rows[lang]
  out[#out + 1] = {lang, r[1], r[2], r[3] and tostring(r[3] / 1000) or false}
end
return {out, total - here}
"""

#: (name, body) of the queue scripts; each runs with the prelude and ``COMMON``.
QUEUE_SCRIPTS = (
    ("enqueue", ENQUEUE),
    ("cancel", CANCEL),
    ("position", POSITION),
    ("mark", MARK_AT_RISK),
    ("choose_any", CHOOSE_ANY),
    ("set_away", SET_AWAY),
    ("line_up", LINE_UP),
    ("offer", OFFER),
    ("withdraw", WITHDRAW),
    ("on_duty", ON_DUTY),
    ("queue_info", QUEUE_INFO),
)
