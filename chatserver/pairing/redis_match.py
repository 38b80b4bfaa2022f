"""The Lua scripts of the Redis pairing store that make, confirm, undo, move and end pairs
(the queue scripts are in :mod:`.redis_queue_lua`, the helpers both use in
:mod:`.redis_lua`). The rules are those of :mod:`.base`, line for line as the memory
twin: each line is scanned over its first present seekers, absent ones are skipped."""

from __future__ import annotations

from chatserver.pairing.redis_queue_lua import QUEUE_SCRIPTS

MATCH = """
local topic, room, now, scan = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local names = lines(topic)
if #names == 0 then return nil end  -- nobody waits: no need to look at the seats
local free = free_seats(topic, nil)
if #free == 0 then return nil end
local best, bs, bseat
for _, line in ipairs(names) do
  each_present(topic, line, scan, function(seeker, sc, avoid, lang)
    local s = pick(free, lang, line == ANY, avoid)
    if s then
      if best == nil or sc < bs or (sc == bs and seeker < best) then
        best, bs, bseat = seeker, sc, s[1]
      end
      return true
    end
    return avoid == ''  -- nobody behind in this line has a seat either
  end)
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
  for _, line in ipairs(lines(t)) do
    if line == ANY or has(s[4], line) then
      each_present(t, line, scan, function(seeker, sc, avoid)
        if has(avoid, l) then return false end
        if bs == nil or sc < bs or (sc == bs and seeker < best) then best, bs = seeker, sc end
        return true
      end)
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
seat_delta(v[6], -1)
redis.call('SREM', P .. ':lp:' .. v[6], room)
redis.call('HINCRBY', P .. ':s:' .. l, 'active', 1)
redis.call('SADD', P .. ':lp:' .. l, room)
local s = redis.call('HMGET', P .. ':s:' .. l, 'node', 'name')
redis.call('HSET', P .. ':p:' .. room, 'listener', l, 'listener_node', s[1], 'listener_name', s[2],
           'shared', has(best[4], lang) and '1' or '0')
keep_pair(room, v[3], l)
keep(P .. ':s:' .. l)
return read_pair(room)
"""

RELOCATE = """
local s, node = ARGV[1], ARGV[2]
beat(node)
for _, key in ipairs({P .. ':w:' .. s, P .. ':s:' .. s}) do
  if redis.call('EXISTS', key) == 1 then redis.call('HSET', key, 'node', node); keep(key) end
end
set_away(s, false)
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
-- the seeker's place as a waiting record: {seeker, topic, node, handle, since, tier,
-- avoid, lang, need, any}
local room = ARGV[1]
if redis.call('HGET', P .. ':p:' .. room, 'state') ~= 'offered' then return nil end
local v = take_back(room, true)
local w = redis.call('HMGET', P .. ':w:' .. v[3], unpack(WAITING_FIELDS))
return {v[3], unpack(w)}
"""

#: (name, body) of every script but the nodes' (:mod:`.redis_nodes_lua`); each runs with
#: the prelude and ``COMMON`` before it.
SCRIPTS = (
    *QUEUE_SCRIPTS,
    ("match", MATCH),
    ("accept", ACCEPT),
    ("end", END),
    ("handover", HANDOVER),
    ("pair_of", PAIR_OF),
    ("relocate", RELOCATE),
    ("confirm", CONFIRM),
    ("undo", UNDO),
)
