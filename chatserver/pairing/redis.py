"""The Redis pairing store: queues, seats and pairs shared by every node, one Lua script per
decision so that two nodes can never pair the same seeker or overfill a listener.

Keys (all share the hash tag ``{pairing}``, so every script runs on one shard of a
cluster: pairing is a few operations per chat, not the message hot path):

* ``{pairing}:q:<topic>``  sorted set of waiting seekers; score = tier * 1e14 + since (ms)
* ``{pairing}:w:<seeker>`` hash of a waiting seeker (topic, node, handle, since, tier)
* ``{pairing}:seats``      set of listener ids with a seat
* ``{pairing}:s:<lid>``    hash of a seat (node, name, topics, capacity, active, auto)
* ``{pairing}:p:<room>``   hash of a pair (with its seeker's place and its ``state``:
  offered, then seated); ``{pairing}:lp:<lid>`` / ``{pairing}:sp:<seeker>`` sets of rooms
* ``{pairing}:offered``    sorted set of pairs not yet confirmed, by when they were made
* ``{pairing}:alive``      hash node -> when it last beat (Redis time, ms)
* ``{pairing}:epoch``      a random id: a new one means the store lost its data

Every key has a TTL of one lease (:attr:`~.base.Liveness.lease`), set when written and
refreshed by the node holding the record (:meth:`RedisPairingStore.touch`).

Only this module (and the broker adapter) import ``redis``; errors become
:class:`~chatserver.broker.base.BrokerUnavailable`, chained.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import msgpack

from chatserver.pairing.base import (
    MATCH_SCAN,
    MAX_AVOID,
    AlreadyWaiting,
    Holdings,
    Liveness,
    Pair,
    Reaped,
    Seat,
    Tier,
    TopicQueue,
    Touched,
    Waiting,
)
from chatserver.pairing.redis_lua import COMMON, SCRIPTS, P, prelude
from chatserver.pairing.redis_nodes_lua import NODE_SCRIPTS
from chatserver.redis_store import RedisStore

POOL_SIZE = 20
#: Ids per heartbeat script call (a node with many sessions sends several).
TOUCH_CHUNK = 500
#: Scripts whose second run changes nothing more than the first: tried again once on a
#: lost connection (a Redis restart), see :mod:`chatserver.redis_store`.
SAFE_TO_REPEAT = frozenset(
    {"touch", "restore", "position", "order", "queue_info", "pair_of", "confirm",
     "set_away", "relocate", "offer", "mark"}
)  # fmt: skip


def _pair(values: Sequence[Any] | None) -> Pair | None:
    if not values:
        return None
    v = [x.decode() if isinstance(x, bytes) else x for x in values]
    return Pair(
        room=v[0],
        topic=v[1],
        seeker=v[2],
        seeker_node=v[3],
        seeker_handle=v[4],
        listener=v[5],
        listener_node=v[6],
        listener_name=v[7],
        at_risk=v[8] == "1",
        waited=float(v[9]),
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _avoided(joined: str) -> tuple[str, ...]:
    return tuple(x for x in joined.split(",") if x)


def _pairs(rows: Sequence[Any] | None) -> tuple[Pair, ...]:
    return tuple(p for p in (_pair(row) for row in rows or ()) if p is not None)


def _waiting(seeker: str, w: Sequence[Any]) -> Waiting:
    topic, node, handle, since, tier, avoid = (_text(x) if x else "" for x in w)
    return Waiting(seeker, topic, node, handle, float(since), Tier(int(tier)), _avoided(avoid))


def _holdings_blob(h: Holdings) -> bytes:
    """What :data:`~.redis_nodes_lua.RESTORE` reads: every field a string."""
    waiting = [
        [w.seeker, w.topic, w.node, w.handle, repr(w.since), str(int(w.tier)),
         ",".join(w.avoid[-MAX_AVOID:]), "1" if w.seeker in h.away else "0"]
        for w in h.waiting
    ]  # fmt: skip
    seats = [
        [s.listener, s.node, s.name, ",".join(s.topics), str(s.capacity), str(s.active),
         "1" if s.auto else "0"]
        for s in h.seats
    ]  # fmt: skip
    pairs = [
        [p.room, p.topic, p.seeker, p.seeker_node, p.seeker_handle, p.listener,
         p.listener_node, p.listener_name, "1" if p.at_risk else "0", repr(p.waited)]
        for p in h.pairs
    ]  # fmt: skip
    blob: bytes = msgpack.packb([waiting, seats, pairs])
    return blob


class RedisPairingStore(RedisStore):
    what = "pairing store"

    def __init__(self, url: str, liveness: Liveness | None = None) -> None:
        super().__init__(url, POOL_SIZE)
        live = liveness or Liveness()
        head = prelude(int(live.lease * 1000), int(live.dead_after * 1000), int(live.grace * 1000))
        self._scripts = {
            name: self._redis.register_script(head + COMMON + body)
            for name, body in (*SCRIPTS, *NODE_SCRIPTS)
        }
        #: the store's epoch when this node last touched it (None: not yet)
        self._epoch: str | None = None

    async def _run(self, name: str, *args: Any) -> Any:
        script = self._scripts[name]
        retry = name in SAFE_TO_REPEAT
        return await self._guarded(
            lambda: script(keys=[P + ":route"], args=list(args)), retry=retry
        )

    async def _call(self, *command: Any) -> Any:
        return await self._do(*command, retry=True)  # reads

    async def enqueue(self, waiting: Waiting) -> int:
        position = int(
            await self._run(
                "enqueue",
                waiting.seeker,
                waiting.topic,
                waiting.node,
                waiting.handle,
                repr(waiting.since),
                int(waiting.tier),
                ",".join(waiting.avoid[-MAX_AVOID:]),
            )
        )
        if position < 0:
            raise AlreadyWaiting(waiting.seeker)
        return position

    async def cancel(self, seeker: str) -> Waiting | None:
        w = await self._run("cancel", seeker)
        return _waiting(seeker, w) if w else None

    async def position(self, seeker: str) -> tuple[str, int] | None:
        where = await self._run("position", seeker)
        if not where or where[1] is None:
            return None
        return _text(where[0]), int(where[1])

    async def mark_at_risk(self, seeker: str) -> bool:
        return bool(await self._run("mark", seeker))

    async def waiting(self, topic: str) -> list[Waiting]:
        out = []
        for seeker in await self._call("ZRANGE", f"{P}:q:{topic}", 0, -1):
            name = _text(seeker)
            w = await self._call(
                "HMGET", f"{P}:w:{name}", "node", "handle", "since", "tier", "avoid"
            )
            if w[0] is None:
                continue
            node, handle, since, tier, avoid = (_text(x) if x else "" for x in w)
            out.append(
                Waiting(name, topic, node, handle, float(since), Tier(int(tier)), _avoided(avoid))
            )
        return out

    async def order(self, topic: str) -> list[str]:
        return [_text(m) for m in await self._run("order", topic) or ()]

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]:
        out = []
        for topic in topics:
            count, at_risk, oldest, away = await self._run("queue_info", topic)
            since = float(_text(oldest)) if oldest else None
            out.append(TopicQueue(topic, int(count), since, int(at_risk), int(away)))
        return out

    async def set_away(self, seeker: str, away: bool) -> str | None:
        topic = await self._run("set_away", seeker, "1" if away else "0")
        return _text(topic) if topic else None

    async def offer(
        self,
        listener: str,
        *,
        node: str,
        name: str,
        topics: Sequence[str],
        capacity: int,
        auto: bool,
    ) -> Seat:
        active = int(
            await self._run(
                "offer", listener, node, name, ",".join(topics), capacity, "1" if auto else "0"
            )
        )
        return Seat(listener, node, name, tuple(topics), capacity, active, auto)

    async def withdraw(self, listener: str) -> list[Pair]:
        return list(_pairs(await self._run("withdraw", listener)))

    async def seat(self, listener: str) -> Seat | None:
        s = await self._call(
            "HMGET", f"{P}:s:{listener}", "node", "name", "topics", "capacity", "active", "auto"
        )
        if s[0] is None:
            return None
        node, name, topics, capacity, active, auto = (_text(x) for x in s)
        return Seat(
            listener,
            node,
            name,
            tuple(t for t in topics.split(",") if t),
            int(capacity),
            int(active),
            auto == "1",
        )

    async def match(self, topic: str, room: str, now: float) -> Pair | None:
        return _pair(await self._run("match", topic, room, repr(now), MATCH_SCAN))

    async def accept(self, listener: str, topic: str | None, room: str, now: float) -> Pair | None:
        return _pair(await self._run("accept", listener, topic or "", room, repr(now), MATCH_SCAN))

    async def pair_of(self, room: str) -> Pair | None:
        return _pair(await self._run("pair_of", room))

    async def end(self, room: str) -> Pair | None:
        return _pair(await self._run("end", room))

    async def relocate(self, session: str, node: str) -> None:
        await self._run("relocate", session, node)

    async def handover(self, room: str) -> Pair | None:
        return _pair(await self._run("handover", room))

    # ------------------------------------------------------------------ handshake, nodes

    async def confirm(self, room: str) -> bool:
        return bool(await self._run("confirm", room))

    async def undo(self, room: str) -> Waiting | None:
        w = await self._run("undo", room)
        return _waiting(_text(w[0]), w[1:]) if w else None

    async def touch(self, node: str, holdings: Holdings) -> Touched:
        seekers = [w.seeker for w in holdings.waiting]
        listeners = [s.listener for s in holdings.seats]
        rooms = sorted({p.room for p in holdings.pairs} | set(holdings.rooms))
        fresh = secrets.token_hex(8)
        epoch, known = "", 1
        for start in range(0, max(len(seekers), len(listeners), len(rooms), 1), TOUCH_CHUNK):
            part = slice(start, start + TOUCH_CHUNK)
            some_s, some_l = seekers[part], listeners[part]
            args = [node, fresh, len(some_s), *some_s, len(some_l), *some_l, *rooms[part]]
            reply = await self._run("touch", *args)
            epoch, known = _text(reply[0]), min(known, int(reply[1]))
        before, self._epoch = self._epoch, epoch
        if before is None:  # the first look: nothing of ours can be missing yet
            return Touched.OK
        if before != epoch:
            await self._run("restore", node, _holdings_blob(holdings))
            return Touched.RESTORED
        if not known:  # reaped: its seats were withdrawn, so their chats ended with them
            seats = tuple(replace(seat, active=0) for seat in holdings.seats)
            revived = replace(holdings, seats=seats, pairs=())
            await self._run("restore", node, _holdings_blob(revived))
            return Touched.REVIVED
        return Touched.OK

    async def reap(self, topics: Sequence[str]) -> Reaped:
        undone, listener_gone, seeker_gone, emptied = await self._run("reap", *topics)
        return Reaped(
            _pairs(undone),
            _pairs(listener_gone),
            _pairs(seeker_gone),
            frozenset(_text(t) for t in emptied),
        )
