"""The Lua scripts of the Redis pairing store that concern nodes rather than one decision:
the heartbeat that refreshes a node's leases, the write-back after Redis lost its data,
and the reaper of what dead nodes held. They run with the prelude and ``COMMON`` of
:mod:`.redis_lua`. This module imports nothing: the store registers the scripts.
"""

from __future__ import annotations

#: ARGV: node, a fresh epoch (kept if the store has none), then the count and ids of the
#: node's waiting seekers, the count and ids of its listeners, then its pairs' rooms.
#: Beats for the node, refreshes the lease of each record it holds, and returns the
#: store's epoch (a new one means the store lost its data since the node last looked)
#: and 1 if the node was still known alive (0: it was reaped as dead meanwhile).
TOUCH = """
local known = redis.call('HEXISTS', P .. ':alive', ARGV[1])
beat(ARGV[1])
local epoch = redis.call('GET', P .. ':epoch')
if not epoch then
  epoch = ARGV[2]
  redis.call('SET', P .. ':epoch', epoch, 'PX', LEASE)
else
  keep(P .. ':epoch')
end
local i = 3
local n = tonumber(ARGV[i])
for j = i + 1, i + n do
  local w = redis.call('HMGET', P .. ':w:' .. ARGV[j], 'topic', 'lang', 'any')
  if w[1] then
    keep(P .. ':w:' .. ARGV[j], qkey(w[1], line_of(w[2], w[3])), P .. ':ql:' .. w[1])
  end
end
i = i + n + 1
n = tonumber(ARGV[i])
for j = i + 1, i + n do keep(P .. ':s:' .. ARGV[j], P .. ':lp:' .. ARGV[j]) end
if n > 0 then keep(P .. ':seats') end
for j = i + n + 1, #ARGV do
  local seeker = redis.call('HGET', P .. ':p:' .. ARGV[j], 'seeker')
  if seeker then keep(P .. ':p:' .. ARGV[j], P .. ':sp:' .. seeker) end
end
keep(P .. ':offered', P .. ':away')
return {epoch, known}
"""

#: ARGV: node, a MessagePack array {waiting, seats, pairs} of string arrays:
#: waiting {seeker, topic, node, handle, since, tier, avoid, away ('1' or '0'), lang,
#: need, any}, seats {listener, node, name, topics, capacity, active, auto, langs},
#: pairs {the PAIR_FIELDS of COMMON, in order}.
#: Writes back what the store does not have (never overwrites), seated; each seeker in
#: their line, each seat with its languages. A node named by a restored pair that has
#: not beaten yet counts as alive from now.
RESTORE = """
beat(ARGV[1])
local data = cmsgpack.unpack(ARGV[2])
for _, w in ipairs(data[1]) do
  local key = P .. ':w:' .. w[1]
  if redis.call('EXISTS', key) == 0 and redis.call('SCARD', P .. ':sp:' .. w[1]) == 0 then
    redis.call('HSET', key, 'topic', w[2], 'node', w[3], 'handle', w[4], 'since', w[5],
               'tier', w[6], 'avoid', w[7], 'lang', w[9], 'need', w[10], 'any', w[11])
    keep(key)
    set_away(w[1], w[8] == '1')
    file(w[1], w[2], line_of(w[9], w[11]), score(w[6], w[5]))
  end
end
for _, s in ipairs(data[2]) do
  local key = P .. ':s:' .. s[1]
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'node', s[2], 'name', s[3], 'topics', s[4], 'capacity', s[5],
               'active', s[6], 'auto', s[7], 'langs', s[8])
    redis.call('SADD', P .. ':seats', s[1])
    keep(key, P .. ':seats')
  end
end
for _, v in ipairs(data[3]) do
  local key = P .. ':p:' .. v[1]
  if redis.call('EXISTS', key) == 0 then
    local flat = {}
    for i, f in ipairs(PAIR_FIELDS) do flat[#flat + 1] = f; flat[#flat + 1] = v[i] end
    redis.call('HSET', key, 'avoid', '', 'state', 'seated', unpack(flat))
    redis.call('SADD', P .. ':lp:' .. v[6], v[1])
    redis.call('SADD', P .. ':sp:' .. v[3], v[1])
    keep_pair(v[1], v[3], v[6])
    redis.call('HSETNX', P .. ':alive', v[4], NOW)
    redis.call('HSETNX', P .. ':alive', v[7], NOW)
  end
end
return 1
"""

#: ARGV: the topics. Undoes offered pairs that cannot complete (a side's node is silent,
#: or nobody confirmed within DEAD ms), then ends what nodes silent for DEAD + GRACE ms
#: still hold: their seats (with their pairs), the pairs of their seekers, their queue
#: places. Returns {undone pairs, pairs whose listener is gone, pairs whose seeker is
#: gone, topics whose queue lost someone}.
REAP = """
local undone, lgone, sgone, emptied = {}, {}, {}, {}
local offered = redis.call('ZRANGE', P .. ':offered', 0, -1, 'WITHSCORES')
for i = 1, #offered, 2 do
  local room = offered[i]
  local v = read_pair(room)
  if not v then
    redis.call('ZREM', P .. ':offered', room)
  elseif NOW - tonumber(offered[i + 1]) > DEAD or stale(v[4]) or stale(v[7]) then
    take_back(room, false)
    undone[#undone + 1] = v
  end
end
local gone, any = {}, false
local alive = redis.call('HGETALL', P .. ':alive')
for i = 1, #alive, 2 do
  if NOW - tonumber(alive[i + 1]) > DEAD + GRACE then
    gone[alive[i]] = true
    any = true
  end
end
if any then
  for _, l in ipairs(redis.call('SMEMBERS', P .. ':seats')) do
    local node = redis.call('HGET', P .. ':s:' .. l, 'node')
    if not node then
      redis.call('SREM', P .. ':seats', l)
    elseif gone[node] then
      for _, v in ipairs(withdraw(l)) do lgone[#lgone + 1] = v end
    end
  end
  for _, l in ipairs(redis.call('SMEMBERS', P .. ':seats')) do
    for _, room in ipairs(redis.call('SMEMBERS', P .. ':lp:' .. l)) do
      local v = read_pair(room)
      if v and gone[v[4]] then
        end_pair(room)
        sgone[#sgone + 1] = v
      end
    end
  end
  for _, topic in ipairs(ARGV) do
    for _, line in ipairs(lines(topic)) do
      for _, seeker in ipairs(redis.call('ZRANGE', qkey(topic, line), 0, -1)) do
        local node = redis.call('HGET', P .. ':w:' .. seeker, 'node')
        if not node or gone[node] then
          unfile(seeker, topic, line)
          redis.call('DEL', P .. ':w:' .. seeker)
          set_away(seeker, false)
          if node then emptied[#emptied + 1] = topic end
        end
      end
    end
  end
  for node in pairs(gone) do redis.call('HDEL', P .. ':alive', node) end
end
return {undone, lgone, sgone, emptied}
"""

#: (name, body) of the nodes' scripts; each runs with the prelude and ``COMMON``.
NODE_SCRIPTS = (("touch", TOUCH), ("restore", RESTORE), ("reap", REAP))
