"""The Redis pairing store: queues, seats and pairs shared by every node, one Lua script per
decision so that two nodes can never pair the same seeker or overfill a listener.

Keys (all share the hash tag ``{pairing}``, so every script runs on one shard of a
cluster: pairing is a few operations per chat, not the message hot path):

* ``{pairing}:q:<topic>:<line>`` sorted set of the seekers of one line (a language, or
  ``*`` for "any listener"); score = tier * 1e14 + since (ms)
* ``{pairing}:ql:<topic>`` set of the topic's non-empty lines
* ``{pairing}:w:<seeker>`` hash of a waiting seeker (topic, node, handle, since, tier, avoid,
  lang, need, any)
* ``{pairing}:seats``      set of listener ids with a seat
* ``{pairing}:s:<lid>``    hash of a seat (node, name, topics, capacity, active, auto, langs)
* ``{pairing}:p:<room>``   hash of a pair; ``{pairing}:lp:<lid>`` / ``{pairing}:sp:<sid>``
  sets of a listener's / seeker's rooms

Every key has a TTL (:data:`~.redis_lua.KEY_TTL_MS`, renewed by each write); readers skip
and drop what a crashed node left to expire.

Only this module (and the broker adapter) import ``redis``; errors become
:class:`~chatserver.broker.base.BrokerUnavailable`, chained.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from chatserver.pairing.base import (
    DEFAULT_LANGUAGE,
    MATCH_SCAN,
    MAX_AVOID,
    AlreadyWaiting,
    LanguageQueue,
    Pair,
    Seat,
    Tier,
    TopicQueue,
    Waiting,
)
from chatserver.pairing.redis_lua import COMMON, P
from chatserver.pairing.redis_match import SCRIPTS
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
        language=v[10] or DEFAULT_LANGUAGE,
        need=v[11] or None,
        shared=v[12] != "0",
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _split(joined: str) -> tuple[str, ...]:
    return tuple(x for x in joined.split(",") if x)


def _waiting(seeker: str, fields: Sequence[Any]) -> Waiting:
    """A Waiting from the hash fields (topic, node, handle, since, tier, avoid, lang, need,
    any), in that order."""
    topic, node, handle, since, tier, avoid, lang, need, any_ = (
        _text(x) if x else "" for x in fields
    )
    return Waiting(
        seeker,
        topic,
        node,
        handle,
        float(since),
        Tier(int(tier)),
        _split(avoid),
        language=lang or DEFAULT_LANGUAGE,
        need=need or None,
        any_language=any_ == "1",
    )


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
                waiting.language,
                waiting.need or "",
                "1" if waiting.any_language else "0",
            )
        )
        if position < 0:
            raise AlreadyWaiting(waiting.seeker)
        return position

    async def cancel(self, seeker: str) -> Waiting | None:
        w = await self._run("cancel", seeker)
        return _waiting(seeker, w) if w else None

    async def position(self, seeker: str) -> tuple[str, int] | None:
        found = await self._run("position", seeker)
        return None if not found else (_text(found[0]), int(found[1]))

    async def mark_at_risk(self, seeker: str) -> bool:
        return bool(await self._run("mark", seeker))

    async def choose_any(self, seeker: str) -> bool:
        return bool(await self._run("choose_any", seeker))

    async def languages_on_duty(self, topic: str) -> tuple[str, ...]:
        return tuple(_text(x) for x in await self._run("on_duty", topic))

    async def _line_up(self, topic: str, full: bool) -> list[tuple[float, str, Any]]:
        """The topic's seekers merged across lines by (score, id), as the scripts rank
        them; merged here, so Redis only reads (sorting there blocked it: measured)."""
        lines = await self._run("line_up", topic, "1" if full else "0")
        runs = []
        for flat, rows in lines:
            if full:
                runs.append([(float(_text(sc)), _text(m), w) for m, sc, w in rows])
            else:
                pairs = zip(flat[::2], flat[1::2], strict=True)
                runs.append([(float(_text(sc)), _text(m), None) for m, sc in pairs])
        return list(heapq.merge(*runs, key=lambda row: (row[0], row[1])))

    async def waiting(self, topic: str) -> list[Waiting]:
        rows = await self._line_up(topic, True)
        return [_waiting(seeker, w) for _, seeker, w in rows if w[0] is not None]

    async def order(self, topic: str) -> list[str]:
        return [seeker for _, seeker, _ in await self._line_up(topic, False)]

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]:
        out = []
        for topic in topics:
            rows = [
                LanguageQueue(
                    _text(lang), int(n), float(_text(oldest)) if oldest else None, int(risky)
                )
                for lang, n, risky, oldest in await self._run("queue_info", topic)
            ]
            olds = [r.oldest_since for r in rows if r.oldest_since is not None]
            out.append(
                TopicQueue(
                    topic,
                    sum(r.waiting for r in rows),
                    min(olds, default=None),
                    sum(r.at_risk for r in rows),
                    tuple(rows),
                )
            )
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
        languages: Sequence[str] = (DEFAULT_LANGUAGE,),
    ) -> Seat:
        active = int(
            await self._run(
                "offer",
                listener,
                node,
                name,
                ",".join(topics),
                capacity,
                "1" if auto else "0",
                ",".join(languages),
            )
        )
        return Seat(listener, node, name, tuple(topics), capacity, active, auto, tuple(languages))

    async def withdraw(self, listener: str) -> list[Pair]:
        rows = await self._run("withdraw", listener) or []
        return [p for p in (_pair(row) for row in rows) if p is not None]

    async def seat(self, listener: str) -> Seat | None:
        s = await self._call(
            "HMGET",
            f"{P}:s:{listener}",
            "node",
            "name",
            "topics",
            "capacity",
            "active",
            "auto",
            "langs",
        )
        if s[0] is None:
            return None
        node, name, topics, capacity, active, auto, langs = (_text(x) if x else "" for x in s)
        return Seat(
            listener,
            node,
            name,
            _split(topics),
            int(capacity),
            int(active),
            auto == "1",
            _split(langs),
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
