"""One-to-one support: seekers wait in topic queues, listeners offer seats, the store pairs.

This module carries out the frames people send (ask for a listener, listen, accept, end,
hand over, block) and follows their sessions' lives (a waiting seeker at risk moves up; a
seeker who leaves ends the chat; a listener who goes requeues their seekers). What
happens between nodes after a decision is :mod:`chatserver.features.support_flow`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import structlog

from chatserver.context import NodeContext
from chatserver.envelopes import ChatOver, PairListener, QueueChanged
from chatserver.features.support_flow import SupportFlow
from chatserver.features.support_language import SupportLanguages
from chatserver.features.support_nodes import SupportNodes
from chatserver.features.support_state import (
    BLOCKED_TEXT,
    HANDOVER_TEXT,
    EtaEstimator,
    SupportState,
    avoided,
    ended_by,
    listener_left,
    private_room,
)
from chatserver.pairing.base import AlreadyWaiting, PairingStore, Tier, Waiting
from chatserver.routing import Feature, RequestFailed, Router
from chatserver.session import Session
from protocol import ErrorCode
from protocol.messages import (
    Accept,
    Block,
    CancelSupport,
    ChatEnded,
    EndChat,
    Handover,
    Listen,
    Listening,
    Notice,
    QueueLeft,
    QueuePosition,
    RequestSupport,
)

log = structlog.get_logger("chatserver.support")

ENDED_TEXT = "That chat has already ended."


class Support(Feature):
    def __init__(
        self,
        ctx: NodeContext,
        store: PairingStore,
        *,
        clock: Callable[[], float] = time.time,
        choice_again: float = 180.0,
    ) -> None:
        self.ctx = ctx
        self.store = store
        self.node = ctx.config.node_id
        self._clock = clock
        self.state = SupportState(EtaEstimator(clock))
        self.flow = SupportFlow(ctx, store, self.state, clock)
        self.nodes = SupportNodes(ctx, store, self.state, self.flow)
        self.languages = SupportLanguages(
            ctx, store, self.state, self.flow.queue_changed, again=choice_again
        )

    def register(self, router: Router) -> None:
        router.frame(RequestSupport, self.request)
        router.frame(CancelSupport, self.cancel)
        router.frame(Listen, self.listen)
        router.frame(Accept, self.accept)
        router.frame(EndChat, self.end_chat)
        router.frame(Handover, self.handover)
        router.frame(Block, self.block)
        self.flow.register(router)
        self.languages.register(router)
        events = router.events
        events.at_risk.append(self.mark_at_risk)
        events.dropped.append(self.flow.dropped)
        events.leaving.append(self.leaving)
        events.ended.append(self.session_ended)
        events.signed_out.append(self.session_ended)  # no longer a listener: as if gone
        events.resumed.append(self.resumed)
        events.adopted.append(self.adopt)
        events.moved.append(self.state.forget)
        events.busy.append(self.state.is_busy)

    async def sweep(self) -> None:
        """Periodic: beat and keep this node's records (writing them back if the store
        lost them), reap what dead nodes held, mark absent seekers, retry matches (a
        missed wake-up costs one sweep) and push queue views."""
        await self.nodes.keep_alive()
        await self.nodes.reap()
        await self.flow.sync_presence(self.ctx.config.topics)
        await self.flow.match_all(self.ctx.config.topics)
        if self.state.status_due:
            await self.flow.push_status()
        await self.languages.sweep()

    async def close(self) -> None:
        close = getattr(self.store, "aclose", None)
        if close is not None:
            await close()

    # ------------------------------------------------------------------ frames

    async def request(self, session: Session, frame: RequestSupport) -> None:
        if session.role != "seeker":
            raise RequestFailed(ErrorCode.FORBIDDEN, "Only seekers can ask for a listener.")
        if frame.topic not in self.ctx.config.topics:
            raise RequestFailed(ErrorCode.UNKNOWN_ROOM, "Please pick a topic from the list.")
        await self.nodes.first_touch()
        tier = Tier.AT_RISK if session.at_risk else Tier.NORMAL
        self.state.chose_any.discard(session.id)  # a new request: a new choice
        language = self.languages.seeker_language(session, frame.language)
        waiting = Waiting(
            session.id, frame.topic, self.node, session.handle, self._clock(), tier,
            avoid=avoided(session), language=language, need=frame.need,
        )  # fmt: skip
        try:
            position = await self.store.enqueue(waiting)
        except AlreadyWaiting as exc:
            raise RequestFailed(
                ErrorCode.ALREADY_WAITING, "You're already waiting for a listener."
            ) from exc
        self.state.wait(waiting, position)
        eta = self.state.eta.eta(frame.topic, position)
        session.send(QueuePosition(frame.topic, position, eta, ref=frame.ref, language=language))
        log.info("queued", session=session.id, topic=frame.topic)
        await self.languages.queued(session, waiting)
        await self.ctx.sessions.persist(session)
        await self.flow.queue_changed(frame.topic)

    async def cancel(self, session: Session, frame: CancelSupport) -> None:
        waiting = await self.store.cancel(session.id)
        self.state.unwait(session.id)
        if waiting is None:
            raise RequestFailed(ErrorCode.NOT_WAITING, "You're not waiting for a listener.")
        session.send(QueueLeft(topic=waiting.topic, reason="cancelled", ref=frame.ref))
        await self.flow.queue_changed(waiting.topic)

    def _listener_topics(self, session: Session, wanted: Sequence[str] | None) -> tuple[str, ...]:
        allowed = session.listener_topics
        if wanted is None:
            return allowed
        return tuple(t for t in wanted if t in allowed)

    async def listen(self, session: Session, frame: Listen) -> None:
        if session.role not in ("listener", "moderator"):
            raise RequestFailed(ErrorCode.FORBIDDEN, "Please sign in as a listener first.")
        topics = self._listener_topics(session, frame.topics)
        await self.nodes.first_touch()
        languages = self.languages.listener_languages(session, frame.languages)
        seat = await self.store.offer(
            session.id,
            node=self.node,
            name=session.display_name or session.handle,
            topics=topics,
            capacity=min(frame.capacity, 50),
            auto=True if frame.auto is None else frame.auto,
            languages=languages,
        )
        self.state.listening(session, seat)
        self.languages.seats_changed()
        session.send(
            Listening(seat.capacity, seat.topics, seat.active, seat.auto, frame.ref, languages)
        )
        await self.flow.send_status(session)
        await self.ctx.sessions.persist(session)
        await self.flow.match_all(topics)

    async def accept(self, session: Session, frame: Accept) -> None:
        if session.id not in self.state.listeners:
            raise RequestFailed(ErrorCode.FORBIDDEN, "Please start listening first.")
        pair = await self.store.accept(session.id, frame.topic, private_room(), self._clock())
        if pair is None:
            raise RequestFailed(
                ErrorCode.QUEUE_EMPTY, "Nobody is waiting on your topics right now."
            )
        await self.flow.paired(pair, listener_ref=frame.ref)

    async def end_chat(self, session: Session, frame: EndChat) -> None:
        self.ctx.rooms.member_handle(session, frame.room)
        pair = await self.store.end(frame.room)
        if pair is None:
            raise RequestFailed(ErrorCode.NOT_IN_ROOM, ENDED_TEXT)
        message = ChatOver(
            pair.room, ended_by(session, pair), pair.listener, by=session.id, ref=frame.ref
        )
        await self.flow.tell_both(pair, message)
        await self.flow.freed(pair)

    async def block(self, session: Session, frame: Block) -> None:
        """End a one-to-one chat for ``session`` only, with its own words, and never pair
        them again: the other side sees an ordinary end."""
        self.ctx.rooms.member_handle(session, frame.room)
        pair = await self.store.pair_of(frame.room)
        if pair is None:
            raise RequestFailed(
                ErrorCode.INVALID_FRAME, "Blocking is for one-to-one chats. In a room, use mute."
            )
        session.mute(pair.listener if session.id == pair.seeker else pair.seeker)
        self.ctx.metrics.moderation.labels("block").inc()
        log.info("blocked", session=session.id)
        ended = await self.store.end(frame.room)
        if ended is None:
            raise RequestFailed(ErrorCode.NOT_IN_ROOM, ENDED_TEXT)
        seeker_left = session.id == ended.seeker
        other_node = ended.listener_node if seeker_left else ended.seeker_node
        self.state.pairs.pop(frame.room, None)
        session.send(ChatEnded(room=frame.room, reason="blocked", text=BLOCKED_TEXT, ref=frame.ref))
        await self.ctx.rooms.leave_room(session, frame.room)
        await self.flow.tell(
            other_node, ChatOver(frame.room, ended_by(session, ended), ended.listener)
        )
        await self.flow.freed(ended)
        await self.ctx.sessions.persist(session)

    async def handover(self, session: Session, frame: Handover) -> None:
        self.ctx.rooms.member_handle(session, frame.room)
        pair = await self.store.pair_of(frame.room)
        if pair is None or pair.listener != session.id:
            raise RequestFailed(
                ErrorCode.FORBIDDEN, "Only the listener of a chat can hand it over."
            )
        moved = await self.store.handover(frame.room)
        if moved is None:  # nobody free: the seeker goes first in line
            ended = await self.store.end(frame.room)
            if ended is not None:
                done = ChatOver(ended.room, "handed_over", session.id, session.id, frame.ref)
                await self.flow.tell(ended.listener_node, done)
                await self.flow.tell(ended.seeker_node, listener_left(ended))
            return
        done = ChatOver(pair.room, "handed_over", session.id, session.id, frame.ref)
        await self.flow.tell(pair.listener_node, done)
        text = HANDOVER_TEXT.format(name=pair.listener_name, new=moved.listener_name)
        await self.ctx.rooms.publish_event(
            pair.room, Notice(code="handover", text=text, room=pair.room)
        )
        await self.flow.tell(moved.listener_node, PairListener(moved))

    # ------------------------------------------------------------------ session events

    async def mark_at_risk(self, session: Session) -> None:
        """A seeker at risk: the mark is saved at once (if their node dies next, they are
        still first in line on another), and a waiting one moves ahead of the rest."""
        await self.ctx.sessions.persist(session)
        waiting = self.state.waiting
        if session.id in waiting and await self.store.mark_at_risk(session.id):
            self.state.at_risk(session.id)
            await self.flow.queue_changed(waiting[session.id][0])

    async def leaving(self, session: Session, room: str) -> None:
        """A ``leave`` of a private room ends the chat for both sides."""
        if room not in self.state.pairs:
            return
        ended = await self.store.end(room)
        if ended is not None:
            message = ChatOver(room, ended_by(session, ended), ended.listener)
            await self.flow.tell_both(ended, message)
            await self.flow.freed(ended)

    def resumed(self, session: Session) -> None:
        if session.id in self.state.waiting:
            topic, _ = self.state.waiting[session.id]
            self.state.waiting[session.id] = (topic, 0)  # force a fresh position frame
            self.ctx.control.enqueue(QueueChanged(topic))

    async def adopt(self, session: Session) -> None:
        """A session resumed here from another node: re-point the store, rebuild our view."""
        await self.nodes.first_touch()
        await self.store.relocate(session.id, self.node)
        where = await self.store.position(session.id)
        if where is not None:
            line = await self.store.waiting(where[0])
            place = next((w for w in line if w.seeker == session.id), None)
            if place is not None:
                self.state.wait(place, 0)
            self.ctx.control.enqueue(QueueChanged(where[0]))
        seat = await self.store.seat(session.id)
        if seat is not None:
            self.state.listening(session, seat)
        for room in session.rooms:
            pair = await self.store.pair_of(room)
            if pair is not None:
                self.state.pairs[room] = pair

    async def session_ended(self, session: Session) -> None:
        """A session is gone for good: leave the queue, free seats, end or requeue chats."""
        state = self.state
        state.chose_any.discard(session.id)
        if session.id in state.waiting:
            state.unwait(session.id)
            waiting = await self.store.cancel(session.id)
            if waiting is not None:
                await self.flow.queue_changed(waiting.topic)
        if session.id in state.listeners:
            state.unlisten(session.id)
            self.languages.seats_changed()
            for pair in await self.store.withdraw(session.id):
                state.pairs.pop(pair.room, None)
                await self.flow.tell(pair.seeker_node, listener_left(pair))
        for room in [r for r, p in state.pairs.items() if p.seeker == session.id]:
            ended = await self.store.end(room)
            state.pairs.pop(room, None)
            if ended is not None:
                message = ChatOver(room, "seeker_left", ended.listener)
                await self.flow.tell(ended.listener_node, message)
                await self.flow.freed(ended)
