"""The path of a message: checks, the safety pipeline, then the broker.

What each safety verdict means on the wire (a crisis card, an escalation, a hold, a
redaction) is :mod:`chatserver.features.verdicts`; this module only asks the router to
apply the verdicts before and after relaying. Also the two other room events a
participant sends: typing and consent.
"""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

import structlog

from chatserver.context import NodeContext
from chatserver.envelopes import marker_bytes, pack, unpack_raw
from chatserver.hub import CONSENT
from chatserver.routing import Feature, RequestFailed, Router
from chatserver.safety.base import FilterInput
from chatserver.session import Session, new_message_id
from protocol import ErrorCode
from protocol.messages import Ack, Consent, ConsentGiven, Message, Say, Typing, TypingEvent

if TYPE_CHECKING:
    from chatserver.safety.pipeline import Pipeline, PipelineResult

log = structlog.get_logger("chatserver.messaging")


class Messaging(Feature):
    def __init__(self, ctx: NodeContext, pipeline: Pipeline | None) -> None:
        self.ctx = ctx
        self.pipeline = pipeline
        self.rooms = ctx.rooms
        self.broker = ctx.broker
        self.metrics = ctx.metrics
        self.verdicts = ctx.router.verdicts
        self.events = ctx.events

    def register(self, router: Router) -> None:
        router.frame(Say, self.say)
        router.frame(Typing, self.typing)
        router.frame(Consent, self.consent)

    async def say(self, session: Session, frame: Say) -> None:
        handle = self.rooms.member_handle(session, frame.room)
        marker = message_marker(session.id, frame.cid) if frame.cid is not None else None
        if marker is not None and frame.resend:
            # already relayed: acknowledge it again, before any check could refuse it
            # (slow mode would, for a message that was in fact accepted)
            first = await self._first_copy(frame.room, marker)
            if first is not None:
                self._ack_again(session, frame, *first)
                return
        self._check(session, frame)
        text, cw, result = frame.text, frame.cw, None
        if self.pipeline is not None:
            result = await self._screen(session, frame)
            text, cw = result.text, result.content_warning or cw
        session.remember(frame.room, frame.text)
        started = self.ctx.clock()
        message = Message(
            frame.room, new_message_id(), 0, handle, session.role, text, int(time.time() * 1000), cw
        )
        seq = await self._relay(session, frame, pack(message, session.id, marker), marker)
        if seq is None:
            return
        self.metrics.relay_latency.observe(self.ctx.clock() - started)
        self.metrics.messages.inc()
        session.send(Ack(room=frame.room, id=message.id, seq=seq, ref=frame.ref))
        if result is not None:
            await self.verdicts.after_relay(session, frame.room, handle, message.id, result)

    def _check(self, session: Session, frame: Say) -> None:
        """Length, emptiness, then every feature's say checks (suspension, slow mode)."""
        limit = self.ctx.config.max_text
        if len(frame.text) > limit:
            raise RequestFailed(
                ErrorCode.TOO_LARGE,
                f"That message is longer than {limit} characters. "
                "Could you split it into a few shorter ones?",
            )
        if not frame.text.strip():
            raise RequestFailed(ErrorCode.INVALID_FRAME, "That message is empty.")
        for check in self.events.say_checks:
            check(session, frame.room)

    async def _screen(self, session: Session, frame: Say) -> PipelineResult:
        """Run the safety pipeline; the verdicts that act before relaying may refuse or
        withhold the message (they raise)."""
        assert self.pipeline is not None
        result = await self.pipeline.run(
            FilterInput(
                text=frame.text,
                role=session.role,
                recent=tuple(session.recent.get(frame.room, ())),
                lang=session.locale,
                room_consent=bool(self.ctx.hub.consented.get(frame.room)),
                confirmed_warning=frame.cw,
            )
        )
        action = result.action.value
        for label in result.labels or ("none",):
            self.metrics.filter_verdicts.labels(label, action).inc()
        self.verdicts.before_relay(session, frame, result)
        return result

    async def _relay(
        self, session: Session, frame: Say, payload: bytes, marker: str | None
    ) -> int | None:
        """Publish; the seq, or None when a copy sent earlier landed meanwhile (acked)."""
        if marker is None or not frame.resend:
            return await self.broker.publish(frame.room, payload, sequenced=True)
        seq, first_payload = await self.broker.publish_once(
            frame.room, payload, marker_bytes(marker)
        )
        if first_payload is not None:  # the first copy landed meanwhile
            self._ack_again(session, frame, seq, first_payload)
            return None
        self.metrics.resends.labels("relayed").inc()
        return seq

    async def _first_copy(self, room: str, marker: str) -> tuple[int, bytes] | None:
        needle = marker_bytes(marker)
        for entry in reversed(await self.broker.history(room, 0)):
            if needle in entry.payload:
                return entry.seq, entry.payload
        return None

    def _ack_again(self, session: Session, frame: Say, seq: int, payload: bytes) -> None:
        """The message was relayed before its ack was lost: the same ack again (and the
        features that answered the first copy answer again: the crisis card)."""
        self.metrics.resends.labels("already_relayed").inc()
        first = unpack_raw(payload)
        session.send(Ack(room=frame.room, id=str(first["id"]), seq=seq, ref=frame.ref))
        for resent in self.events.resent:
            resent(session, frame.room)
        log.info("resend_deduplicated", session=session.id, room=frame.room)

    async def typing(self, session: Session, frame: Typing) -> None:
        handle = self.rooms.member_handle(session, frame.room)
        payload = pack(TypingEvent(room=frame.room, handle=handle, active=frame.active), session.id)
        await self.broker.publish(frame.room, payload, sequenced=False)

    async def consent(self, session: Session, frame: Consent) -> None:
        handle = self.rooms.member_handle(session, frame.room)
        await self.broker.set_flag(frame.room, CONSENT + handle, 1)
        await self.rooms.publish_event(frame.room, ConsentGiven(room=frame.room, handle=handle))


def message_marker(session_id: str, cid: str) -> str:
    """What a client-named message carries so a copy sent again is recognised: a digest of
    the session and the client's id (neither appears in the room's history)."""
    digest = hashlib.blake2b(f"{session_id}\x00{cid}".encode(), digest_size=8)
    return digest.hexdigest()
