"""One-to-one support: seekers wait in topic queues, listeners offer seats, the store pairs.

Every decision is one atomic store operation (see :mod:`chatserver.pairing.base`). What
happens to sockets after a decision travels as a small control message to the node that
holds the session (``@node:<id>``), so a seeker on node A and a listener on node B get
the same pairing. Queue changes are announced on ``@queues`` so every node can update the
positions of its own waiting seekers and the queue view of its own listeners.

Pairing handshake, in order: the deciding node tells the seeker's node (``pair``); that
node seats the seeker in the private room and tells the listener's node (``pair_listener``),
which seats the listener. A seeker who is gone by then frees the listener's seat again.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import msgpack
import structlog

from chatserver.chat import Chat, RequestFailed
from chatserver.pairing.base import (
    MAX_AVOID,
    AlreadyWaiting,
    Pair,
    PairingStore,
    Tier,
    TopicQueue,
    Waiting,
)
from chatserver.session import Session
from protocol import ClientFrame, ErrorCode
from protocol.messages import (
    Accept,
    CancelSupport,
    ChatEnded,
    EndChat,
    Handover,
    Listen,
    Listening,
    Member,
    Notice,
    Paired,
    QueueInfo,
    QueueLeft,
    QueuePosition,
    QueueStatus,
    RequestSupport,
)

log = structlog.get_logger("chatserver.support")

QUEUES_CHANNEL = "@queues"
#: Seconds between queue_status pushes to a node's listeners, at most.
STATUS_INTERVAL = 0.5
#: Recent matches per topic used to estimate waits.
ETA_WINDOW = 20

ENDED_TEXT = {
    "ended_by_seeker": "The chat has ended. Thank you for being there.",
    "ended_by_listener": "{name} has ended the chat. Thank you for reaching out; "
    "you can come back any time.",
    "listener_left": "{name} had to leave. You're first in line for the next listener, "
    "so please stay if you can.",
    "handed_over": "You handed this chat over. Thank you.",
    "seeker_left": "The person you were talking with has left the chat.",
}
HANDOVER_TEXT = "{name} has handed your chat to {new}, who is here for you now."


def avoided(session: Session) -> tuple[str, ...]:
    """Who a seeker must not be paired with: the people they blocked (a block also mutes)
    or muted, by session id; seats are keyed by the listener's session id."""
    return tuple(sorted(session.muted))[-MAX_AVOID:]


def private_room() -> str:
    return "p-" + secrets.token_hex(6)


class EtaEstimator:
    """Expected wait from the pace of recent matches on a topic: position x interval."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._matches: dict[str, deque[float]] = {}
        self._clock = clock

    def matched(self, topic: str) -> None:
        self._matches.setdefault(topic, deque(maxlen=ETA_WINDOW)).append(self._clock())

    def eta(self, topic: str, position: int) -> int | None:
        times = self._matches.get(topic)
        if times is None or len(times) < 2:
            return None
        interval = (times[-1] - times[0]) / (len(times) - 1)
        return max(1, round(interval * position))


class Support:
    def __init__(
        self, chat: Chat, store: PairingStore, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.chat = chat
        self.store = store
        self.node = chat.config.node_id
        self._clock = clock
        self.eta = EtaEstimator(clock)
        self._inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        #: local seekers waiting: session id -> (topic, last position sent)
        self._waiting: dict[str, tuple[str, int]] = {}
        #: local listeners who sent `listen`: session id -> session
        self._listeners: dict[str, Session] = {}
        #: private rooms held by local sessions: room -> Pair
        self._pairs: dict[str, Pair] = {}
        self._status_due = False
        chat.support = self

    # ------------------------------------------------------------------ plumbing

    async def start(self) -> None:
        await self.chat.hub.listen_control(f"@node:{self.node}", self._receive)
        await self.chat.hub.listen_control(QUEUES_CHANNEL, self._receive)

    def _receive(self, payload: bytes) -> None:
        self._inbox.put_nowait(msgpack.unpackb(payload, raw=False))

    def enqueue(self, message: dict[str, Any]) -> None:
        """Hand a control message to the inbox worker (from a non-async callback)."""
        self._inbox.put_nowait(message)

    async def tell(self, node: str, message: dict[str, Any]) -> None:
        """Send a control message to ``node``."""
        await self._send(node, message)

    async def _send(self, node: str, message: dict[str, Any]) -> None:
        await self.chat.broker.publish(f"@node:{node}", msgpack.packb(message), sequenced=False)

    async def run(self) -> None:
        """Carry out control messages (a TaskGroup task). Each batch is split by the session
        or room a message concerns: messages about one of them run in arrival order, and
        different ones run concurrently, so one slow seating does not hold up the node.
        Queue changes are coalesced per topic and handled after the batch: pairing never
        waits behind position updates, and a burst of arrivals costs one update per topic."""
        while True:
            batch = [await self._inbox.get()]
            while not self._inbox.empty():
                batch.append(self._inbox.get_nowait())
            changed: dict[str, int] = {}
            lanes: dict[str, list[dict[str, Any]]] = {}
            for message in batch:
                if message.get("k") == "queue":
                    topic = message["topic"]
                    changed[topic] = changed.get(topic, 0) + (1 if message.get("m") else 0)
                else:
                    lanes.setdefault(_lane(message), []).append(message)
            async with asyncio.TaskGroup() as tg:
                for lane in lanes.values():
                    tg.create_task(self._run_lane(lane))
            for topic, matches in changed.items():
                try:
                    await self._queue_update(topic, matches)
                except Exception:
                    log.exception("control_failed", kind="queue")

    async def _run_lane(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            try:
                await self._dispatch(message)
            except Exception:
                log.exception("control_failed", kind=message.get("k"))

    async def sweep(self) -> None:
        """Periodic: retry matches (a missed wake-up costs one sweep) and push queue views."""
        await self._match_all(self.chat.config.topics)
        if self._status_due:
            await self._push_status()

    async def close(self) -> None:
        close = getattr(self.store, "aclose", None)
        if close is not None:
            await close()

    def is_busy(self, session: Session) -> bool:
        return session.id in self._waiting or session.id in self._listeners

    # ------------------------------------------------------------------ frames

    async def handle(self, session: Session, frame: ClientFrame) -> None:
        match frame:
            case RequestSupport():
                await self.request(session, frame)
            case CancelSupport():
                await self.cancel(session, frame)
            case Listen():
                await self.listen(session, frame)
            case Accept():
                await self.accept(session, frame)
            case EndChat():
                await self.end_chat(session, frame)
            case Handover():
                await self.handover(session, frame)
            case _:  # pragma: no cover - every client frame type is routed somewhere
                raise RequestFailed(ErrorCode.UNKNOWN_TYPE, "That request isn't supported.")

    async def request(self, session: Session, frame: RequestSupport) -> None:
        if session.role != "seeker":
            raise RequestFailed(ErrorCode.FORBIDDEN, "Only seekers can ask for a listener.")
        if frame.topic not in self.chat.config.topics:
            raise RequestFailed(ErrorCode.UNKNOWN_ROOM, "Please pick a topic from the list.")
        tier = Tier.AT_RISK if session.at_risk else Tier.NORMAL
        waiting = Waiting(
            session.id, frame.topic, self.node, session.handle, self._clock(), tier,
            avoid=avoided(session),
        )  # fmt: skip
        try:
            position = await self.store.enqueue(waiting)
        except AlreadyWaiting as exc:
            raise RequestFailed(
                ErrorCode.ALREADY_WAITING, "You're already waiting for a listener."
            ) from exc
        self._waiting[session.id] = (frame.topic, position)
        session.send(
            QueuePosition(
                topic=frame.topic,
                position=position,
                eta=self.eta.eta(frame.topic, position),
                ref=frame.ref,
            )
        )
        log.info("queued", session=session.id, topic=frame.topic)
        await self.chat.persist(session)
        await self._queue_changed(frame.topic)

    async def cancel(self, session: Session, frame: CancelSupport) -> None:
        waiting = await self.store.cancel(session.id)
        self._waiting.pop(session.id, None)
        if waiting is None:
            raise RequestFailed(ErrorCode.NOT_WAITING, "You're not waiting for a listener.")
        session.send(QueueLeft(topic=waiting.topic, reason="cancelled", ref=frame.ref))
        await self._queue_changed(waiting.topic)

    def _listener_topics(self, session: Session, wanted: Sequence[str] | None) -> tuple[str, ...]:
        allowed = session.listener_topics
        if wanted is None:
            return allowed
        return tuple(t for t in wanted if t in allowed)

    async def listen(self, session: Session, frame: Listen) -> None:
        if session.role not in ("listener", "moderator"):
            raise RequestFailed(ErrorCode.FORBIDDEN, "Please sign in as a listener first.")
        topics = self._listener_topics(session, frame.topics)
        auto = True if frame.auto is None else frame.auto
        seat = await self.store.offer(
            session.id,
            node=self.node,
            name=session.display_name or session.handle,
            topics=topics,
            capacity=min(frame.capacity, 50),
            auto=auto,
        )
        self._listeners[session.id] = session
        session.send(
            Listening(
                capacity=seat.capacity,
                topics=seat.topics,
                active=seat.active,
                auto=seat.auto,
                ref=frame.ref,
            )
        )
        await self._send_status(session)
        await self.chat.persist(session)
        await self._match_all(topics)

    async def accept(self, session: Session, frame: Accept) -> None:
        if session.id not in self._listeners:
            raise RequestFailed(ErrorCode.FORBIDDEN, "Please start listening first.")
        pair = await self.store.accept(session.id, frame.topic, private_room(), self._clock())
        if pair is None:
            raise RequestFailed(
                ErrorCode.QUEUE_EMPTY, "Nobody is waiting on your topics right now."
            )
        await self._paired(pair, listener_ref=frame.ref)

    async def end_chat(self, session: Session, frame: EndChat) -> None:
        self.chat.member_handle(session, frame.room)
        pair = await self.store.end(frame.room)
        if pair is None:
            raise RequestFailed(ErrorCode.NOT_IN_ROOM, "That chat has already ended.")
        reason = "ended_by_seeker" if session.id == pair.seeker else "ended_by_listener"
        message = {
            "k": "ended",
            "room": pair.room,
            "reason": reason,
            "by": session.id,
            "listener": pair.listener,
        }
        if frame.ref is not None:
            message["ref"] = frame.ref
        await self._tell_both(pair, message)
        await self._freed(pair)

    async def end_for(self, session: Session, room: str, *, ref: str | None, text: str) -> None:
        """End a one-to-one chat for ``session`` only with its own words (a block): the
        other side sees an ordinary end."""
        pair = await self.store.end(room)
        if pair is None:
            raise RequestFailed(ErrorCode.NOT_IN_ROOM, "That chat has already ended.")
        seeker_left = session.id == pair.seeker
        other_node = pair.listener_node if seeker_left else pair.seeker_node
        reason = "ended_by_seeker" if seeker_left else "ended_by_listener"
        self._pairs.pop(room, None)
        session.send(ChatEnded(room=room, reason="blocked", text=text, ref=ref))
        await self.chat.leave_room(session, room)
        await self._send(
            other_node, {"k": "ended", "room": room, "reason": reason, "listener": pair.listener}
        )
        await self._freed(pair)

    async def handover(self, session: Session, frame: Handover) -> None:
        self.chat.member_handle(session, frame.room)
        pair = await self.store.pair_of(frame.room)
        if pair is None or pair.listener != session.id:
            raise RequestFailed(
                ErrorCode.FORBIDDEN, "Only the listener of a chat can hand it over."
            )
        done: dict[str, Any] = {
            "k": "ended",
            "reason": "handed_over",
            "by": session.id,
            "listener": session.id,
        }
        if frame.ref is not None:
            done["ref"] = frame.ref
        moved = await self.store.handover(frame.room)
        if moved is None:  # nobody free: the seeker goes first in line
            ended = await self.store.end(frame.room)
            if ended is not None:
                await self._send(ended.listener_node, {**done, "room": ended.room})
                await self._send(
                    ended.seeker_node,
                    {
                        "k": "ended",
                        "room": ended.room,
                        "reason": "listener_left",
                        "requeue": True,
                        **_pair_fields(ended),
                    },
                )
            return
        await self._send(pair.listener_node, {**done, "room": pair.room})
        await self.chat.publish_event(
            pair.room,
            Notice(
                code="handover",
                text=HANDOVER_TEXT.format(name=pair.listener_name, new=moved.listener_name),
                room=pair.room,
            ),
        )
        await self._send(moved.listener_node, {"k": "pair_listener", **_pair_fields(moved)})

    # ------------------------------------------------------------------ hooks

    async def mark_at_risk(self, session: Session) -> None:
        """The safety filters' hook: a waiting seeker at risk moves ahead of the rest."""
        if session.id in self._waiting and await self.store.mark_at_risk(session.id):
            await self._queue_changed(self._waiting[session.id][0])

    async def leaving(self, session: Session, room: str) -> None:
        """A ``leave`` of a private room ends the chat for both sides."""
        if room not in self._pairs:
            return
        ended = await self.store.end(room)
        if ended is not None:
            reason = "ended_by_seeker" if session.id == ended.seeker else "ended_by_listener"
            await self._tell_both(
                ended, {"k": "ended", "room": room, "reason": reason, "listener": ended.listener}
            )
            await self._freed(ended)

    def resumed(self, session: Session) -> None:
        if session.id in self._waiting:
            topic, _ = self._waiting[session.id]
            self._waiting[session.id] = (topic, 0)  # force a fresh position frame
            self._inbox.put_nowait({"k": "queue", "topic": topic})

    async def adopt(self, session: Session) -> None:
        """A session resumed here from another node: re-point the store, rebuild our view."""
        await self.store.relocate(session.id, self.node)
        where = await self.store.position(session.id)
        if where is not None:
            self._waiting[session.id] = (where[0], 0)
            self._inbox.put_nowait({"k": "queue", "topic": where[0]})
        if await self.store.seat(session.id) is not None:
            self._listeners[session.id] = session
        for room in session.rooms:
            pair = await self.store.pair_of(room)
            if pair is not None:
                self._pairs[room] = pair

    def forget(self, session_id: str) -> None:
        """The session moved to another node: drop local bookkeeping, keep the store."""
        self._waiting.pop(session_id, None)
        self._listeners.pop(session_id, None)
        for room in [r for r, p in self._pairs.items() if session_id in (p.seeker, p.listener)]:
            del self._pairs[room]

    async def session_ended(self, session: Session) -> None:
        """A session is gone for good: leave the queue, free seats, end or requeue chats."""
        if self._waiting.pop(session.id, None) is not None:
            waiting = await self.store.cancel(session.id)
            if waiting is not None:
                await self._queue_changed(waiting.topic)
        if self._listeners.pop(session.id, None) is not None:
            for pair in await self.store.withdraw(session.id):
                self._pairs.pop(pair.room, None)
                await self._send(
                    pair.seeker_node,
                    {
                        "k": "ended",
                        "room": pair.room,
                        "reason": "listener_left",
                        "requeue": True,
                        **_pair_fields(pair),
                    },
                )
        for room in [r for r, p in self._pairs.items() if p.seeker == session.id]:
            ended = await self.store.end(room)
            self._pairs.pop(room, None)
            if ended is not None:
                await self._send(
                    ended.listener_node,
                    {
                        "k": "ended",
                        "room": room,
                        "reason": "seeker_left",
                        "listener": ended.listener,
                    },
                )
                await self._freed(ended)

    # ------------------------------------------------------------------ matching

    async def _queue_changed(self, topic: str, matched: bool = False) -> None:
        await self._match_all([topic])
        await self.chat.broker.publish(
            QUEUES_CHANNEL,
            msgpack.packb({"k": "queue", "topic": topic, "m": matched}),
            sequenced=False,
        )

    async def _freed(self, pair: Pair) -> None:
        """A listener's seat came free: offer it on every topic the listener covers."""
        seat = await self.store.seat(pair.listener)
        await self._match_all(seat.topics if seat is not None else [pair.topic])

    async def _match_all(self, topics: Sequence[str]) -> None:
        for topic in topics:
            while True:
                pair = await self.store.match(topic, private_room(), self._clock())
                if pair is None:
                    break
                await self._paired(pair)

    async def _paired(self, pair: Pair, listener_ref: str | None = None) -> None:
        log.info("paired", topic=pair.topic, waited=round(pair.waited, 1))
        self.chat.metrics.queue_wait.observe(pair.waited)
        message = {"k": "pair", **_pair_fields(pair)}
        if listener_ref is not None:
            message["ref"] = listener_ref
        await self._send(pair.seeker_node, message)
        await self.chat.broker.publish(
            QUEUES_CHANNEL,
            msgpack.packb({"k": "queue", "topic": pair.topic, "m": True}),
            sequenced=False,
        )

    async def _tell_both(self, pair: Pair, message: dict[str, Any]) -> None:
        """Both nodes at once (one publish batch), the listener's first: its seat is free
        already, and a new chat paired onto it from another node must not reach the
        listener's console before this one's end."""
        nodes = dict.fromkeys((pair.listener_node, pair.seeker_node))
        await asyncio.gather(*(self._send(node, message) for node in nodes))

    # ------------------------------------------------------------------ control messages

    async def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message.get("k")
        if kind == "pair":
            await self._seat_seeker(_pair_from(message), message.get("ref"))
        elif kind == "pair_listener":
            await self._seat_listener(_pair_from(message), message.get("ref"))
        elif kind == "ended":
            await self._ended(message)
        elif kind == "moved":
            self.chat.moved(message["s"])
        elif kind == "mod" and self.chat.moderation is not None:
            await self.chat.moderation.apply(message)
        elif kind == "room_ended":
            for session in list(self.chat.hub.sessions(message["room"])):
                await self.chat.leave_room(session, message["room"])

    async def _seat_seeker(self, pair: Pair, ref: str | None) -> None:
        session = self.chat.sessions.get(pair.seeker)
        self._waiting.pop(pair.seeker, None)
        if session is None:  # gone meanwhile: give the listener's seat back
            if await self.store.end(pair.room) is not None:
                await self._freed(pair)
            return
        self._pairs[pair.room] = pair
        # the listener's node starts seating at once; both sides get the room's history
        # when seated, so whoever speaks first is heard
        message: dict[str, Any] = {"k": "pair_listener", **_pair_fields(pair)}
        if ref is not None:
            message["ref"] = ref
        await self._send(pair.listener_node, message)
        session.send(
            Paired(room=pair.room, topic=pair.topic, peer=Member(pair.listener_name, "listener"))
        )
        await self.chat.seat(session, pair.room, replay=True)

    async def _seat_listener(self, pair: Pair, ref: str | None) -> None:
        session = self.chat.sessions.get(pair.listener)
        if session is None:
            if await self.store.end(pair.room) is not None:
                await self._send(
                    pair.seeker_node,
                    {
                        "k": "ended",
                        "room": pair.room,
                        "reason": "listener_left",
                        "requeue": True,
                        **_pair_fields(pair),
                    },
                )
            return
        self._pairs[pair.room] = pair
        session.send(
            Paired(
                room=pair.room,
                topic=pair.topic,
                peer=Member(pair.seeker_handle, "seeker"),
                at_risk=pair.at_risk or None,
                ref=ref,
            )
        )
        await self.chat.seat(session, pair.room, replay=True)
        self._status_due = True

    async def _ended(self, message: dict[str, Any]) -> None:
        room = message["room"]
        reason = message["reason"]
        pair = self._pairs.get(room)
        if reason != "handed_over":
            self._pairs.pop(room, None)
        for session in list(self.chat.hub.sessions(room)):
            if reason == "handed_over" and pair is not None and session.id != pair.listener:
                continue
            name = pair.listener_name if pair is not None else "Your listener"
            text = ENDED_TEXT.get(reason, ENDED_TEXT["seeker_left"]).format(name=name)
            if session.id == message.get("by") and reason != "handed_over":
                text = "You've ended the chat. Thank you for reaching out."
                if session.role != "seeker":
                    text = "You've ended the chat. Thank you for being there."
            ref = message.get("ref") if session.id == message.get("by") else None
            session.send(ChatEnded(room=room, reason=reason, text=text, ref=ref))
            await self.chat.leave_room(session, room)
        if message.get("requeue"):
            await self._requeue(_pair_from(message))

    async def _requeue(self, pair: Pair) -> None:
        session = self.chat.sessions.get(pair.seeker)
        if session is None:
            return
        waiting = Waiting(
            pair.seeker,
            pair.topic,
            self.node,
            session.handle,
            self._clock() - pair.waited,
            Tier.REQUEUED,
            avoid=avoided(session),
        )
        try:
            position = await self.store.enqueue(waiting)
        except AlreadyWaiting:
            return
        self._waiting[session.id] = (pair.topic, position)
        session.send(
            Notice(
                code="requeued",
                text="You're first in line for the next listener. Thank you for waiting.",
            )
        )
        session.send(QueuePosition(topic=pair.topic, position=position, eta=None))
        await self._queue_changed(pair.topic)

    async def _queue_update(self, topic: str, matches: int) -> None:
        for _ in range(matches):
            self.eta.matched(topic)
        await self._positions(topic)
        self._status_due = True
        for queue in await self.store.queues([topic]):
            self.chat.metrics.queue_length.labels(queue.topic).set(queue.waiting)

    async def _positions(self, topic: str) -> None:
        if not any(t == topic for t, _ in self._waiting.values()):
            return
        order = {seeker: i for i, seeker in enumerate(await self.store.order(topic), 1)}
        for seeker, (waiting_topic, last) in list(self._waiting.items()):
            if waiting_topic != topic:
                continue
            session = self.chat.sessions.get(seeker)
            position = order.get(seeker)
            if session is None or position is None:
                continue
            if position != last:
                self._waiting[seeker] = (topic, position)
                session.send(
                    QueuePosition(topic=topic, position=position, eta=self.eta.eta(topic, position))
                )

    async def _push_status(self) -> None:
        """One read of every queue, then each local listener gets its topics' part."""
        self._status_due = False
        if not self._listeners:
            return
        queues = await self.store.queues(self.chat.config.topics)
        for session in list(self._listeners.values()):
            self._status_to(session, queues)

    async def _send_status(self, session: Session) -> None:
        topics = session.listener_topics or self.chat.config.topics
        self._status_to(session, await self.store.queues(topics))

    def _status_to(self, session: Session, queues: Sequence[TopicQueue]) -> None:
        topics = set(session.listener_topics or self.chat.config.topics)
        queues = [q for q in queues if q.topic in topics]
        now = self._clock()
        session.send(
            QueueStatus(
                queues=tuple(
                    QueueInfo(
                        topic=q.topic,
                        waiting=q.waiting,
                        longest_wait=int(now - q.oldest_since) if q.oldest_since else 0,
                        at_risk=q.at_risk,
                    )
                    for q in queues
                )
            )
        )


def _lane(message: dict[str, Any]) -> str:
    """What a control message is about: messages with the same lane keep their order."""
    kind = message.get("k")
    if kind == "pair":
        return "s:" + str(message.get("seeker"))
    if kind == "pair_listener":
        return "s:" + str(message.get("listener"))
    if kind in ("moved", "mod"):
        return "s:" + str(message.get("s"))
    if kind == "ended" and message.get("listener"):
        # after the listener's pairings: a seat freed here may already be taken again
        return "s:" + str(message["listener"])
    return "r:" + str(message.get("room"))


def _pair_fields(pair: Pair) -> dict[str, Any]:
    return {
        "room": pair.room,
        "topic": pair.topic,
        "seeker": pair.seeker,
        "seeker_node": pair.seeker_node,
        "seeker_handle": pair.seeker_handle,
        "listener": pair.listener,
        "listener_node": pair.listener_node,
        "listener_name": pair.listener_name,
        "at_risk": pair.at_risk,
        "waited": pair.waited,
    }


def _pair_from(message: dict[str, Any]) -> Pair:
    return Pair(**{k: message[k] for k in PAIR_KEYS})


PAIR_KEYS = (
    "room",
    "topic",
    "seeker",
    "seeker_node",
    "seeker_handle",
    "listener",
    "listener_node",
    "listener_name",
    "at_risk",
    "waited",
)
