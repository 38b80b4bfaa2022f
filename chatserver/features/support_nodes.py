"""One-to-one support across node loss and store loss: this node's heartbeat in the
pairing store, the write-back of what it holds, and the reaping of what dead nodes held.

Why here and not in the store: the store decides atomically (who is dead, what ends),
but only a node can tell people. So a node beats once a sweep with everything its
sessions hold (:meth:`SupportNodes.keep_alive`: the records' leases are refreshed, and
written back if the store lost them), and runs the store's reaper
(:meth:`SupportNodes.reap`), then tells each person's node what happened to their chat:
a listener who never came back (the seeker is told kindly and goes first in line), a
seeker who never came back (the listener is told, the seat is free again), a pairing
that could not complete (the seeker is back at their place).
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from chatserver.context import NodeContext
from chatserver.control import QUEUES_CHANNEL
from chatserver.envelopes import ChatOver, QueueChanged
from chatserver.features.support_flow import SupportFlow
from chatserver.features.support_state import SupportState, listener_left
from chatserver.pairing.base import Pair, PairingStore, Touched

log = structlog.get_logger("chatserver.support")


class SupportNodes:
    def __init__(
        self, ctx: NodeContext, store: PairingStore, state: SupportState, flow: SupportFlow
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.state = state
        self.flow = flow
        self.node = ctx.config.node_id
        self._touched = False

    async def first_touch(self) -> None:
        """Before this node's first record: learn the store's epoch, so that a store that
        loses its data from now on is noticed (and refilled) at the next sweep."""
        if not self._touched:
            await self.keep_alive()

    async def keep_alive(self) -> None:
        """Beat, and keep every record of this node's sessions. When the store had lost
        them (Redis restarted empty) they were written back: announce the queues. When
        this node had been taken for dead (cut off for longer than the grace), its queue
        places and seats are back, but its chats were ended for the other side: end them
        here too."""
        held = self.state.holdings()
        touched = await self.store.touch(self.node, held)
        self._touched = True
        if touched is Touched.OK:
            return
        log.warning(
            "pairing_restored" if touched is Touched.RESTORED else "pairing_revived",
            waiting=len(held.waiting),
            seats=len(held.seats),
            pairs=len(held.pairs),
        )
        self.state.status_due = True
        if touched is Touched.REVIVED:
            await self._end_lost_chats(list(self.state.pairs.values()))
        for topic in sorted({w.topic for w in held.waiting}):
            await self.ctx.control.announce(QUEUES_CHANNEL, QueueChanged(topic))

    async def _end_lost_chats(self, pairs: Sequence[Pair]) -> None:
        """The chats the store no longer has end here as they ended for the other side:
        a local seeker is told their listener had to go, and is first in line again."""
        for pair in pairs:
            if await self.store.pair_of(pair.room) is not None:
                continue
            if self.ctx.sessions.get(pair.seeker) is not None:
                self.ctx.control.enqueue(listener_left(pair))
            else:
                self.ctx.control.enqueue(ChatOver(pair.room, "seeker_left", pair.listener))

    async def reap(self) -> None:
        """Run the store's reaper and tell whoever is concerned. Each change is reaped by
        exactly one node, so each person is told once."""
        reaped = await self.store.reap(self.ctx.config.topics)
        if not reaped:
            return
        log.info(
            "pairing_reaped",
            undone=len(reaped.undone),
            listener_gone=len(reaped.listener_gone),
            seeker_gone=len(reaped.seeker_gone),
        )
        topics = set(reaped.topics) | {p.topic for p in reaped.undone}
        for pair in reaped.listener_gone:
            await self.flow.tell(pair.seeker_node, listener_left(pair))
        for pair in reaped.seeker_gone:
            await self.flow.tell(
                pair.listener_node, ChatOver(pair.room, "seeker_left", pair.listener)
            )
            await self.flow.freed(pair)
        for topic in sorted(topics):
            await self.flow.queue_changed(topic)
