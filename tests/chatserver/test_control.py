"""The control plane: typed messages reach their routed handler; one lane keeps its
order; queue changes of a batch are coalesced per topic."""

from __future__ import annotations

import asyncio
from typing import Any

from chatserver.broker.memory import MemoryBroker
from chatserver.control import ControlPlane
from chatserver.envelopes import Moved, QueueChanged, RoomEnded, encode_control
from chatserver.hub import Hub
from chatserver.observability import Metrics
from chatserver.routing import Router


async def test_messages_reach_handlers_in_lane_order_and_queue_changes_coalesce() -> None:
    router = Router(Metrics())
    seen: list[Any] = []
    done = asyncio.Event()

    async def record(message: Any) -> None:
        seen.append(message)
        if isinstance(message, QueueChanged):
            done.set()

    for kind in (Moved, QueueChanged, RoomEnded):
        router.control(kind, record)
    broker = MemoryBroker()
    plane = ControlPlane("n1", broker, Hub(broker), router)
    for message in (
        Moved("a"), QueueChanged("grief", 1), Moved("a"), QueueChanged("grief", 2),
        QueueChanged("anxiety"), RoomEnded("r"),
    ):  # fmt: skip
        plane.enqueue(message)
    plane._receive(b"\xc1 garbage")  # logged and dropped, never raised into the broker
    plane._receive(encode_control(Moved("b")))
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(plane.run())
        async with asyncio.timeout(5):
            await done.wait()
        task.cancel()
    assert [m for m in seen if isinstance(m, Moved)] == [Moved("a"), Moved("a"), Moved("b")]
    queue = [m for m in seen if isinstance(m, QueueChanged)]
    assert sorted(queue, key=lambda m: m.topic) == [
        QueueChanged("anxiety", 0),
        QueueChanged("grief", 3),
    ]
    assert RoomEnded("r") in seen
    # queue changes run after the batch's other lanes
    assert seen.index(queue[0]) > seen.index(RoomEnded("r"))
