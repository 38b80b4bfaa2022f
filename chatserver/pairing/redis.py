"""The Redis pairing store: queues, seats and pairs shared by every node, one Lua script per
decision so that two nodes can never pair the same seeker or overfill a listener.

Keys (all share the hash tag ``{pairing}``, so every script runs on one shard of a
cluster: pairing is a few operations per chat, not the message hot path):

* ``{pairing}:q:<topic>:<line>`` sorted set of the seekers of one line (a language, or
  ``*`` for "any listener"); score = tier * 1e14 + since (ms)
* ``{pairing}:ql:<topic>`` set of the topic's non-empty lines
* ``{pairing}:w:<seeker>`` hash of a waiting seeker (topic, node, handle, since, tier, avoid,
  lang, need, any)
* ``{pairing}:away``       set of waiting seekers whose connection is down
* ``{pairing}:seats``      set of listener ids with a seat
* ``{pairing}:s:<lid>``    hash of a seat (node, name, topics, capacity, active, auto, langs)
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

import heapq
import secrets
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from chatserver.pairing import redis_rows as rows
from chatserver.pairing.base import (
    DEFAULT_LANGUAGE,
    MATCH_SCAN,
    MAX_AVOID,
    AlreadyWaiting,
    Holdings,
    LanguageQueue,
    Liveness,
    Pair,
    Reaped,
    Seat,
    TopicQueue,
    Touched,
    Waiting,
)
from chatserver.pairing.redis_lua import COMMON, P, prelude
from chatserver.pairing.redis_match import SCRIPTS
from chatserver.pairing.redis_nodes_lua import NODE_SCRIPTS
from chatserver.redis_store import RedisStore

POOL_SIZE = 20
#: Ids per heartbeat script call (a node with many sessions sends several).
TOUCH_CHUNK = 500
#: Scripts whose second run changes nothing more than the first: tried again once on a
#: lost connection (a Redis restart), see :mod:`chatserver.redis_store`.
SAFE_TO_REPEAT = frozenset(
    {"touch", "restore", "position", "line_up", "queue_info", "pair_of", "confirm",
     "set_away", "relocate", "offer", "mark", "choose_any", "on_duty"}
)  # fmt: skip

Row = tuple[float, str, Any]  # score, seeker, record (or None)


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

    # ------------------------------------------------------------------ queue

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
        return rows.waiting(seeker, w) if w else None

    async def position(self, seeker: str) -> tuple[str, int] | None:
        found = await self._run("position", seeker)
        return None if not found else (rows.text(found[0]), int(found[1]))

    async def mark_at_risk(self, seeker: str) -> bool:
        return bool(await self._run("mark", seeker))

    async def choose_any(self, seeker: str) -> bool:
        return bool(await self._run("choose_any", seeker))

    async def set_away(self, seeker: str, away: bool) -> str | None:
        topic = await self._run("set_away", seeker, "1" if away else "0")
        return rows.text(topic) if topic else None

    async def languages_on_duty(self, topic: str) -> tuple[str, ...]:
        return tuple(rows.text(x) for x in await self._run("on_duty", topic))

    async def _line_up(self, topic: str, full: bool) -> tuple[list[Row], set[str]]:
        """The topic's seekers merged across lines by (score, id), as the scripts rank
        them, and the absent ones among them; merged here, so Redis only reads (sorting
        there blocked it: measured)."""
        lines, gone = await self._run("line_up", topic, "1" if full else "0")
        runs = []
        for flat, records in lines:
            if full:
                runs.append([(float(rows.text(sc)), rows.text(m), w) for m, sc, w in records])
            else:
                pairs = zip(flat[::2], flat[1::2], strict=True)
                runs.append([(float(rows.text(sc)), rows.text(m), None) for m, sc in pairs])
        merged = list(heapq.merge(*runs, key=lambda row: (row[0], row[1])))
        return merged, {rows.text(s) for s in gone}

    async def waiting(self, topic: str) -> list[Waiting]:
        line, _ = await self._line_up(topic, True)
        return [rows.waiting(seeker, w) for _, seeker, w in line if w[0] is not None]

    async def order(self, topic: str) -> list[str]:
        line, gone = await self._line_up(topic, False)
        return [seeker for _, seeker, _ in line if seeker not in gone]

    async def queues(self, topics: Sequence[str]) -> list[TopicQueue]:
        out = []
        for topic in topics:
            found, away = await self._run("queue_info", topic)
            langs = tuple(
                LanguageQueue(
                    rows.text(lang),
                    int(n),
                    float(rows.text(oldest)) if oldest else None,
                    int(risky),
                )
                for lang, n, risky, oldest in found
            )
            olds = [q.oldest_since for q in langs if q.oldest_since is not None]
            out.append(
                TopicQueue(
                    topic=topic,
                    waiting=sum(q.waiting for q in langs),
                    oldest_since=min(olds, default=None),
                    at_risk=sum(q.at_risk for q in langs),
                    languages=langs,
                    away=int(away),
                )
            )
        return out

    async def relocate(self, session: str, node: str) -> None:
        await self._run("relocate", session, node)

    # ------------------------------------------------------------------ seats, pairs

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
        return list(rows.pairs(await self._run("withdraw", listener)))

    async def seat(self, listener: str) -> Seat | None:
        fields = ("node", "name", "topics", "capacity", "active", "auto", "langs")
        s = await self._call("HMGET", f"{P}:s:{listener}", *fields)
        if s[0] is None:
            return None
        node, name, topics, capacity, active, auto, langs = (rows.text(x) if x else "" for x in s)
        return Seat(
            listener,
            node,
            name,
            rows.split(topics),
            int(capacity),
            int(active),
            auto == "1",
            rows.split(langs),
        )

    async def match(self, topic: str, room: str, now: float) -> Pair | None:
        return rows.pair(await self._run("match", topic, room, repr(now), MATCH_SCAN))

    async def accept(self, listener: str, topic: str | None, room: str, now: float) -> Pair | None:
        found = await self._run("accept", listener, topic or "", room, repr(now), MATCH_SCAN)
        return rows.pair(found)

    async def pair_of(self, room: str) -> Pair | None:
        return rows.pair(await self._run("pair_of", room))

    async def end(self, room: str) -> Pair | None:
        return rows.pair(await self._run("end", room))

    async def handover(self, room: str) -> Pair | None:
        return rows.pair(await self._run("handover", room))

    # ------------------------------------------------------------------ handshake, nodes

    async def confirm(self, room: str) -> bool:
        return bool(await self._run("confirm", room))

    async def undo(self, room: str) -> Waiting | None:
        w = await self._run("undo", room)
        return rows.waiting(rows.text(w[0]), w[1:]) if w else None

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
            epoch, known = rows.text(reply[0]), min(known, int(reply[1]))
        before, self._epoch = self._epoch, epoch
        if before is None:  # the first look: nothing of ours can be missing yet
            return Touched.OK
        if before != epoch:
            await self._run("restore", node, rows.holdings_blob(holdings))
            return Touched.RESTORED
        if not known:  # reaped: its seats were withdrawn, so their chats ended with them
            seats = tuple(replace(seat, active=0) for seat in holdings.seats)
            revived = replace(holdings, seats=seats, pairs=())
            await self._run("restore", node, rows.holdings_blob(revived))
            return Touched.REVIVED
        return Touched.OK

    async def reap(self, topics: Sequence[str]) -> Reaped:
        undone, listener_gone, seeker_gone, emptied = await self._run("reap", *topics)
        return Reaped(
            rows.pairs(undone),
            rows.pairs(listener_gone),
            rows.pairs(seeker_gone),
            frozenset(rows.text(t) for t in emptied),
        )
