"""One-to-one support between nodes: matching, seating both sides, ending, requeueing.

Every decision is one atomic store operation (see :mod:`chatserver.pairing.base`). What
happens to sockets after a decision travels as a typed control message to the node that
holds the session, so a seeker on node A and a listener on node B get the same pairing.
Queue changes go to every node so each updates its own waiting seekers and listeners.

Pairing handshake, in order: the deciding node tells the seeker's node (``PairSeeker``);
that node confirms the pair in the store, seats the seeker in the private room and tells
the listener's node (``PairListener``), which seats the listener. A seeker who is gone by
then frees the listener's seat again; one whose connection is down keeps their place in
line (absent) and the seat is offered to the next. A pair undone meanwhile (its node was
taken for dead, or nobody confirmed it in time) is not seated: the seeker is in line.

Absent seekers: this node tells the store which of its waiting seekers have no
connection (:meth:`SupportFlow.sync_presence`, on every drop, return and sweep), so they
are neither paired nor counted until they are back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import structlog

from chatserver.context import NodeContext
from chatserver.control import QUEUES_CHANNEL
from chatserver.envelopes import (
    AcceptFailed,
    ChatOver,
    Control,
    PairListener,
    PairSeeker,
    QueueChanged,
)
from chatserver.features.support_language import need_of, record_queue
from chatserver.features.support_state import (
    ACCEPT_GONE_TEXT,
    ENDED_TEXT,
    REQUEUED_TEXT,
    SupportState,
    avoided,
    listener_left,
    private_room,
)
from chatserver.pairing.base import AlreadyWaiting, Pair, PairingStore, Tier, TopicQueue, Waiting
from chatserver.routing import Router
from chatserver.session import Session
from protocol import ErrorCode
from protocol.messages import (
    ChatEnded,
    Error,
    LanguageInfo,
    Member,
    Notice,
    Paired,
    QueueInfo,
    QueuePosition,
    QueueStatus,
)

log = structlog.get_logger("chatserver.support")


class SupportFlow:
    def __init__(
        self,
        ctx: NodeContext,
        store: PairingStore,
        state: SupportState,
        clock: Callable[[], float],
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.state = state
        self.node = ctx.config.node_id
        self._clock = clock

    def register(self, router: Router) -> None:
        router.control(PairSeeker, self._seat_seeker)
        router.control(PairListener, self._seat_listener)
        router.control(ChatOver, self._ended)
        router.control(QueueChanged, self._queue_update)
        router.control(AcceptFailed, self._accept_failed)

    async def tell(self, node: str, message: Control) -> None:
        await self.ctx.control.tell(node, message)

    # ------------------------------------------------------------------ matching

    async def queue_changed(self, topic: str, matched: bool = False) -> None:
        await self.match_all([topic])
        await self.ctx.control.announce(QUEUES_CHANNEL, QueueChanged(topic, int(matched)))

    async def freed(self, pair: Pair) -> None:
        """A listener's seat came free: offer it on every topic the listener covers."""
        seat = await self.store.seat(pair.listener)
        await self.match_all(seat.topics if seat is not None else [pair.topic])

    async def match_all(self, topics: Sequence[str]) -> None:
        for topic in topics:
            while True:
                pair = await self.store.match(topic, private_room(), self._clock())
                if pair is None:
                    break
                await self.paired(pair)

    async def paired(self, pair: Pair, listener_ref: str | None = None) -> None:
        log.info("paired", topic=pair.topic, waited=round(pair.waited, 1))
        self.ctx.metrics.queue_wait.observe(pair.waited)
        self.ctx.metrics.pairs.labels("true" if pair.shared else "false").inc()
        await self.tell(pair.seeker_node, PairSeeker(pair, listener_ref))
        await self.ctx.control.announce(QUEUES_CHANNEL, QueueChanged(pair.topic, 1))

    async def tell_both(self, pair: Pair, message: ChatOver) -> None:
        """Both nodes at once (one publish batch), the listener's first: its seat is free
        already, and a new chat paired onto it from another node must not reach the
        listener's console before this one's end."""
        nodes = dict.fromkeys((pair.listener_node, pair.seeker_node))
        await asyncio.gather(*(self.tell(node, message) for node in nodes))

    # ------------------------------------------------------------------ control messages

    async def _seat_seeker(self, message: PairSeeker) -> None:
        pair = message.pair
        session = self.ctx.sessions.get(pair.seeker)
        if session is None:  # gone meanwhile: give the listener's seat back
            self.state.unwait(pair.seeker)
            if await self.store.end(pair.room) is not None:
                await self.freed(pair)
            return
        if session.ws is None:  # dropped while waiting: keeps their place, absent
            await self._not_now(pair, message.ref)
            return
        if not await self.store.confirm(pair.room):  # undone meanwhile: still in line
            self.ctx.control.enqueue(QueueChanged(pair.topic))
            return
        self.state.unwait(pair.seeker)
        self.state.pairs[pair.room] = pair
        # the listener's node starts seating at once; both sides get the room's history
        # when seated, so whoever speaks first is heard
        await self.tell(pair.listener_node, PairListener(pair, message.ref))
        peer = Member(pair.listener_name, "listener")
        session.send(
            Paired(pair.room, pair.topic, peer, language=pair.language, shared=pair.shared)
        )
        await self.ctx.rooms.seat(session, pair.room, replay=True)

    async def _not_now(self, pair: Pair, ref: str | None) -> None:
        """The seeker of ``pair`` has no connection right now: undo the pair (they keep
        their place, absent) and offer the seat again. A listener who accepted them by
        hand gets the next present seeker, or an answer saying why not."""
        if await self.store.undo(pair.room) is None:
            return  # undone or ended by someone else already
        self.state.away.add(pair.seeker)
        if ref is not None:
            again = await self.store.accept(
                pair.listener, pair.topic, private_room(), self._clock()
            )
            if again is not None:
                await self.paired(again, listener_ref=ref)
            else:
                await self.tell(pair.listener_node, AcceptFailed(pair.listener, ref))
        await self.queue_changed(pair.topic)

    async def _accept_failed(self, message: AcceptFailed) -> None:
        session = self.ctx.sessions.get(message.listener)
        if session is not None:
            code = ErrorCode.QUEUE_EMPTY.value
            session.send(Error(code=code, message=ACCEPT_GONE_TEXT, ref=message.ref))

    async def _seat_listener(self, message: PairListener) -> None:
        pair = message.pair
        session = self.ctx.sessions.get(pair.listener)
        if session is None:
            if await self.store.end(pair.room) is not None:
                await self.tell(pair.seeker_node, listener_left(pair))
            return
        self.state.pairs[pair.room] = pair
        session.send(
            Paired(
                room=pair.room,
                topic=pair.topic,
                peer=Member(pair.seeker_handle, "seeker"),
                at_risk=pair.at_risk or None,
                ref=message.ref,
                language=pair.language,
                shared=pair.shared,
                need=need_of(pair.need),
            )
        )
        await self.ctx.rooms.seat(session, pair.room, replay=True)
        self.state.status_due = True

    async def _ended(self, message: ChatOver) -> None:
        room, reason = message.room, message.reason
        pair = self.state.pairs.get(room)
        if reason != "handed_over":
            self.state.pairs.pop(room, None)
        for session in list(self.ctx.hub.sessions(room)):
            if reason == "handed_over" and pair is not None and session.id != pair.listener:
                continue
            name = pair.listener_name if pair is not None else "Your listener"
            text = ENDED_TEXT.get(reason, ENDED_TEXT["seeker_left"]).format(name=name)
            by_them = session.id == message.by
            if by_them and reason != "handed_over":
                text = "You've ended the chat. Thank you for reaching out."
                if session.role != "seeker":
                    text = "You've ended the chat. Thank you for being there."
            ref = message.ref if by_them else None
            session.send(ChatEnded(room=room, reason=reason, text=text, ref=ref))
            await self.ctx.rooms.leave_room(session, room)
        if message.requeue is not None:
            await self._requeue(message.requeue)

    async def _requeue(self, pair: Pair) -> None:
        session = self.ctx.sessions.get(pair.seeker)
        if session is None:
            return
        waiting = Waiting(
            pair.seeker, pair.topic, self.node, session.handle, self._clock() - pair.waited,
            Tier.REQUEUED, avoid=avoided(session), language=pair.language, need=pair.need,
            any_language=not pair.shared or pair.seeker in self.state.chose_any,
        )  # fmt: skip
        try:
            position = await self.store.enqueue(waiting)
        except AlreadyWaiting:
            return
        self.state.wait(waiting, position)
        session.send(Notice(code="requeued", text=REQUEUED_TEXT))
        session.send(QueuePosition(pair.topic, position, None, language=pair.language))
        await self.queue_changed(pair.topic)

    # ------------------------------------------------------------------ queue views

    async def dropped(self, session: Session) -> None:
        """A connection dropped (the session waits for a resume): absent at once."""
        if session.id in self.state.waiting:
            await self.sync_presence([self.state.waiting[session.id][0]])

    async def sync_presence(self, topics: Sequence[str]) -> None:
        """Tell the store which local seekers waiting on ``topics`` are away (no
        connection) or back, where it does not know yet; queues that changed are
        announced (positions, consoles) and matched again."""
        state, changed = self.state, set()
        for seeker, (topic, _) in list(state.waiting.items()):
            if topic not in topics:
                continue
            session = self.ctx.sessions.get(seeker)
            away = session is None or session.ws is None
            if away == (seeker in state.away):
                continue
            if await self.store.set_away(seeker, away) is None:
                continue  # not in line in the store (being paired)
            (state.away.add if away else state.away.discard)(seeker)
            changed.add(topic)
        for topic in changed:
            await self.queue_changed(topic)

    async def _queue_update(self, message: QueueChanged) -> None:
        topic = message.topic
        await self.sync_presence([topic])
        for _ in range(message.matches):
            self.state.eta.matched(topic)
        await self._positions(topic)
        self.state.status_due = True
        for queue in await self.store.queues([topic]):
            self.ctx.metrics.queue_length.labels(queue.topic).set(queue.waiting)
            record_queue(self.ctx.metrics, queue, self.state.lines)

    async def _positions(self, topic: str) -> None:
        waiting = self.state.waiting
        if not any(t == topic for t, _ in waiting.values()):
            return
        order = {seeker: i for i, seeker in enumerate(await self.store.order(topic), 1)}
        for seeker, (waiting_topic, last) in list(waiting.items()):
            if waiting_topic != topic:
                continue
            session = self.ctx.sessions.get(seeker)
            position = order.get(seeker)
            if session is None or position is None:
                continue
            if position != last:
                waiting[seeker] = (topic, position)
                eta = self.state.eta.eta(topic, position)
                session.send(QueuePosition(topic=topic, position=position, eta=eta))

    async def push_status(self) -> None:
        """One read of every queue, then each local listener gets its topics' part."""
        self.state.status_due = False
        if not self.state.listeners:
            return
        queues = await self.store.queues(self.ctx.config.topics)
        for session in list(self.state.listeners.values()):
            self._status_to(session, queues)

    async def send_status(self, session: Session) -> None:
        topics = session.listener_topics or self.ctx.config.topics
        self._status_to(session, await self.store.queues(topics))

    def _status_to(self, session: Session, queues: Sequence[TopicQueue]) -> None:
        topics = set(session.listener_topics or self.ctx.config.topics)
        now = self._clock()
        infos = tuple(
            QueueInfo(
                topic=q.topic,
                waiting=q.waiting,
                longest_wait=int(now - q.oldest_since) if q.oldest_since else 0,
                at_risk=q.at_risk,
                reconnecting=q.away or None,
                languages=tuple(
                    LanguageInfo(x.language, x.waiting, waited(now, x.oldest_since), x.at_risk)
                    for x in q.languages
                ),
            )
            for q in queues
            if q.topic in topics
        )
        session.send(QueueStatus(queues=infos))


def waited(now: float, since: float | None) -> int:
    return int(now - since) if since else 0
