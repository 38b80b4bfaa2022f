"""The control plane: typed messages between nodes, carried out in order per subject.

Channels: ``@node:<id>`` reaches one node, ``@queues`` and ``@mod`` every node. Payloads
are :mod:`chatserver.envelopes` control messages; the router names the handler of each
type. Messages arrive through broker callbacks that must not block, so they go to an
inbox that :meth:`ControlPlane.run` (a task of the app's TaskGroup) works through.
"""

from __future__ import annotations

import asyncio

import structlog

from chatserver.broker.base import Broker
from chatserver.envelopes import Control, QueueChanged, RoomEnded, decode_control, encode_control
from chatserver.hub import Hub
from chatserver.routing import Router

log = structlog.get_logger("chatserver.control")

QUEUES_CHANNEL = "@queues"
MOD_CHANNEL = "@mod"


def node_channel(node: str) -> str:
    return f"@node:{node}"


class ControlPlane:
    def __init__(self, node: str, broker: Broker, hub: Hub, router: Router) -> None:
        self.node = node
        self._broker = broker
        self._hub = hub
        self._router = router
        self._inbox: asyncio.Queue[Control] = asyncio.Queue()

    async def start(self) -> None:
        """Hear this node's channel and the ones every node hears."""
        for channel in (node_channel(self.node), QUEUES_CHANNEL, MOD_CHANNEL):
            await self._hub.listen_control(channel, self._receive)
        self._hub.on_room_ended = self._room_ended

    def _receive(self, payload: bytes) -> None:
        try:
            message = decode_control(payload)
        except Exception:  # a malformed control message must not stop the broker's pump
            log.warning("control_undecodable")
            return
        if message is not None:
            self._inbox.put_nowait(message)

    def _room_ended(self, room: str) -> None:
        self._inbox.put_nowait(RoomEnded(room))

    def enqueue(self, message: Control) -> None:
        """Carry out ``message`` on this node, after what is already queued."""
        self._inbox.put_nowait(message)

    async def tell(self, node: str, message: Control) -> None:
        """Send ``message`` to ``node`` (this one included)."""
        await self._broker.publish(node_channel(node), encode_control(message), sequenced=False)

    async def announce(self, channel: str, message: Control) -> None:
        """Send ``message`` to every node on ``channel`` (``@queues`` or ``@mod``)."""
        await self._broker.publish(channel, encode_control(message), sequenced=False)

    async def run(self) -> None:
        """Carry out control messages. Each batch is split by the session or room a
        message concerns (its lane): messages of one lane run in arrival order, different
        lanes concurrently, so one slow seating does not hold up the node. Queue changes
        are coalesced per topic and handled after the batch: pairing never waits behind
        position updates, and a burst of arrivals costs one update per topic."""
        while True:
            batch = [await self._inbox.get()]
            while not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            changed: dict[str, int] = {}
            lanes: dict[str, list[Control]] = {}
            for message in batch:
                if isinstance(message, QueueChanged):
                    changed[message.topic] = changed.get(message.topic, 0) + message.matches
                else:
                    lanes.setdefault(message.lane(), []).append(message)
            async with asyncio.TaskGroup() as tg:
                for lane in lanes.values():
                    tg.create_task(self._run_lane(lane))
            await self._run_lane([QueueChanged(t, m) for t, m in changed.items()])

    async def _run_lane(self, messages: list[Control]) -> None:
        for message in messages:
            try:
                await self._router.handle_control(message)
            except Exception:
                log.exception("control_failed", kind=message.KIND)
