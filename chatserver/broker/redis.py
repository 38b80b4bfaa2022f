"""The Redis broker: rooms relayed between nodes through Redis pub/sub, standalone or Cluster.

Why this shape:

* **Cut by concern.** The relay (:mod:`.redis_publish`, :mod:`.redis_subscribe`: publish,
  subscribe, history, ordering) is apart from room state and presence
  (:mod:`.redis_rooms`: seats, members, flags, heartbeat, dead-node sweep). Both sit on
  one connection core (:mod:`.redis_core`); this module is their lifecycle.
* **One channel per room**, subscribed once per node while the node has local members
  (the hub reference-counts). A room's keys and channel share the hash tag ``{room}`` so
  the atomic publish script runs on a cluster, where the channel is a shard channel
  (SSUBSCRIBE / SPUBLISH) living on the same shard as the keys.
* **Order = the script's order.** :data:`lua.PUBLISH` increments the room's sequence,
  appends to its bounded history and publishes in one step, so every node sees a room's
  messages in sequence order on its subscriber connection.
* **Few connections, used well.** A command client for claims, presence and history,
  with its concurrency capped by a semaphore (redis-py >= 8 raises
  ``MaxConnectionsError`` past ``max_connections`` instead of waiting, so we wait here,
  within the operation's deadline). One dedicated publisher connection per shard, written
  only by the publisher task, which drains every pending publish into one pipelined write.
  One subscriber connection per shard carries all of this node's rooms.
* **Supervised.** Every background task (publisher, reconnector, presence, readers,
  gap fills) is a child of one :class:`~.supervisor.Supervisor`. A crash is logged with
  its type and ``file:line``, fails what the task carried, makes the broker unhealthy
  (``/readyz`` answers 503) and the task starts again; every ``publish()`` has a deadline.
* **Faults.** A connection error, or Redis silent for a whole operation deadline, marks
  the broker broken. While broken, ``publish`` and every other call fail fast with
  :class:`BrokerUnavailable` (chained), and the reconnector reconnects with exponential
  backoff and full jitter, re-asserts this node's presence (Redis may have restarted
  empty), resubscribes every local room and replays what was missed from the history,
  then reports healthy again.

URLs: ``redis://``, ``rediss://`` or ``unix://`` for one server; ``redis+cluster://host:port``
(or ``rediss+cluster://``) for a cluster, naming any node as the seed.

Only the ``redis_*`` modules import ``redis``; its errors are translated at that edge.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable

from redis.asyncio.cluster import RedisCluster

from chatserver.broker.base import BrokerUnavailable, Deliver, Evicted, HealthChanged
from chatserver.broker.redis_core import is_fault, log
from chatserver.broker.redis_publish import ZERO_HEADER, RedisPublish
from chatserver.broker.redis_rooms import RedisRooms
from chatserver.broker.redis_subscribe import RedisSubscribe

__all__ = ["OP_TIMEOUT", "ZERO_HEADER", "RedisBroker"]

#: Deadline of one broker operation, waiting for a pool slot included. Read when a broker
#: is made (tests shorten it).
OP_TIMEOUT = 2.0
BACKOFF_MIN = 0.05
BACKOFF_MAX = 2.0
#: First and longest wait before a crashed background task starts again.
RESTART_MIN = 0.05
RESTART_MAX = 5.0


class RedisBroker(RedisPublish, RedisSubscribe, RedisRooms):
    """The :class:`~chatserver.broker.base.Broker` on Redis (see the module docstring)."""

    def __init__(
        self,
        url: str,
        node_id: str,
        *,
        history_size: int = 100,
        history_seconds: float = 600.0,
        presence_ttl: float = 15.0,
        hold: float = 60.0,
        prefix: str = "cs",
        clock: Callable[[], float] = time.time,
        restart_min: float = RESTART_MIN,
        restart_max: float = RESTART_MAX,
    ) -> None:
        """``hold``: how long the seats of a dead node stay for its people to resume on
        another node (the resume grace). ``restart_min``/``restart_max``: the first and
        the longest wait before a crashed background task starts again (doubling for
        each crash in a row)."""
        self._init_core(
            url,
            node_id,
            history_size=history_size,
            history_seconds=history_seconds,
            presence_ttl=presence_ttl,
            hold=hold,
            prefix=prefix,
            clock=clock,
            op_timeout=OP_TIMEOUT,
            restart=(restart_min, restart_max),
        )
        self._init_publish()
        self._init_subscribe()
        self._init_rooms()

    async def start(
        self,
        deliver: Deliver,
        on_health: HealthChanged | None = None,
        on_evict: Evicted | None = None,
    ) -> None:
        """Connect and start the publisher, reconnector and presence tasks. When Redis is
        unreachable now, the node starts degraded and the reconnector keeps trying."""
        self._deliver, self._on_health, self._on_evict = deliver, on_health, on_evict
        self._client = self._make_client()
        self._tasks.keep("publisher", self._publisher)
        self._tasks.keep("reconnector", self._reconnector)
        self._tasks.keep("presence", self._presence)
        try:
            async with asyncio.timeout(self._deadline * 2):
                await self._connect()
        except Exception as exc:
            if not is_fault(exc):
                raise
            log.warning("broker_unreachable_at_start", error=type(exc).__name__)
            self._broke(exc)
            self._report(False)
            return
        self._report(True)

    async def close(self) -> None:
        """Stop every task and connection. The heartbeat key is deleted so the surviving
        nodes evict this node's members at their next sweep."""
        self._closing = True
        stuck = await self._tasks.close(self._deadline * 2)
        if stuck:
            log.warning("broker_tasks_stuck", count=stuck)
        self._fail_queue(BrokerUnavailable("the broker is closed"))
        if self._healthy and self._client is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self._deadline):
                    await self._client.delete(self._node_key(self.node_id))
        self._healthy = False
        await self._teardown()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _crashed(self, name: str, exc: BaseException) -> None:
        """A background task crashed: fail what it carried and stop serving until it
        runs again and the reconnector has checked the connections (no half state)."""
        if name == "publisher":
            self._fail_queue(self._unavailable("publisher crashed"))
        self._broke(exc)
        self._report(False)

    async def _reconnector(self) -> None:
        """Reconnect after every fault, with exponential backoff and full jitter; wait
        for a crashed task's restart first, so healthy means every task runs."""
        while not self._closing:
            await self._broken.wait()
            self._report(False)
            delay = BACKOFF_MIN
            while not self._closing:
                self._broken.clear()
                await self._teardown()
                await asyncio.sleep(random.uniform(0, delay))
                await self._tasks.wait_all_up()  # bounded: restarts are timers
                try:
                    async with asyncio.timeout(self._deadline * 3):
                        await self._connect()
                except Exception as exc:
                    if not is_fault(exc):
                        raise
                    self._error = exc
                    delay = min(delay * 2, BACKOFF_MAX)
                    continue
                if not self._broken.is_set():
                    break
            log.info("broker_reconnected", rooms=len(self._rooms))
            self._tasks.ran_well("reconnector")
            self._report(True)

    async def _teardown(self) -> None:
        subscribers, self._subscribers = list(self._subscribers.values()), {}
        links, self._links = list(self._links.values()), {}
        self._link_of.clear()
        for sub in subscribers:
            await sub.close()
        for link in links:
            await link.close()

    async def _connect(self) -> None:
        """(Re)connect: presence first (so no survivor evicts us meanwhile), then every
        local room subscribed, then what was missed replayed. Publishing resumes once
        subscribed; live traffic of a room waits while its gap is filled. Callers bound
        the wait."""
        client = self._client
        assert client is not None
        if isinstance(client, RedisCluster):
            await client.initialize()
        await client.ping()
        self._answered = time.monotonic()
        await self._heartbeat(repair=True)
        for room in self._rooms.values():
            self._recovering.setdefault(room, [])
        await self._subscribe_channels(list(self._rooms.items()))
        self._healthy = True
        for room in list(self._recovering):
            await self._fill(room)

    async def _restore(self) -> None:
        await self._restore_sequences()
        await self._reseat()
