"""The Redis pairing store: queues, seats and pairs shared by every node, one Lua script per
decision so that two nodes can never pair the same seeker or overfill a listener.

Keys (all share the hash tag ``{pairing}``, so every script runs on one shard of a
cluster: pairing is a few operations per chat, not the message hot path):

* ``{pairing}:q:<topic>``  sorted set of waiting seekers; score = tier * 1e14 + since (ms)
* ``{pairing}:w:<seeker>`` hash of a waiting seeker (topic, node, handle, since, tier)
* ``{pairing}:seats``      set of listener ids with a seat
* ``{pairing}:s:<lid>``    hash of a seat (node, name, topics, capacity, active, auto)
* ``{pairing}:p:<room>``   hash of a pair; ``{pairing}:lp:<lid>`` set of a listener's rooms

Only this module (and the broker adapter) import ``redis``; errors become
:class:`~chatserver.broker.base.BrokerUnavailable`, chained.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chatserver.pairing.base import (
    MATCH_SCAN,
    MAX_AVOID,
    AlreadyWaiting,
    Pair,
    Seat,
    Tier,
    TopicQueue,
    Waiting,
)
from chatserver.pairing.redis_lua import COMMON, SCRIPTS, P
from chatserver.redis_store import RedisStore

POOL_SIZE = 20


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


class RedisPairingStore(RedisStore):
    what = "pairing store"

    def __init__(self, url: str) -> None:
        super().__init__(url, POOL_SIZE)
        self._scripts = {name: self._redis.register_script(COMMON + body) for name, body in SCRIPTS}

    async def _run(self, name: str, *args: Any) -> Any:
        script = self._scripts[name]
        return await self._guarded(lambda: script(keys=[P + ":route"], args=list(args)))

    async def _call(self, *command: Any) -> Any:
        return await self._do(*command)

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
        if not w:
            return None
        topic, node, handle, since, tier, avoid = (_text(x) if x else "" for x in w)
        return Waiting(seeker, topic, node, handle, float(since), Tier(int(tier)), _avoided(avoid))

    async def position(self, seeker: str) -> tuple[str, int] | None:
        topic = await self._call("HGET", f"{P}:w:{seeker}", "topic")
        if topic is None:
            return None
        rank = await self._call("ZRANK", f"{P}:q:{_text(topic)}", seeker)
        return None if rank is None else (_text(topic), int(rank) + 1)

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
        return [_text(m) for m in await self._call("ZRANGE", f"{P}:q:{topic}", 0, -1)]

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]:
        out = []
        for topic in topics:
            count, at_risk, oldest = await self._run("queue_info", topic)
            since = float(_text(oldest)) if oldest else None
            out.append(TopicQueue(topic, int(count), since, int(at_risk)))
        return out

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
        rows = await self._run("withdraw", listener) or []
        return [p for p in (_pair(row) for row in rows) if p is not None]

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
