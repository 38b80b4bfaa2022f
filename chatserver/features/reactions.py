"""Supportive reactions: "I hear you", "sending strength", "same here", "thank you for
sharing", and nothing else (SPEC 2.3). A way to say "I hear you" without typing.

``react``: the reactor must be in the room, the message must still be in the room's
replay history (a held message never is; the history gives its seq), and reacting is
rate-limited per session. The store (:mod:`chatserver.reactions`) keeps who gave what,
atomically; the reactor gets the counts with ``mine`` in reply.

Everyone else: the deciding node publishes a room *signal* (not a frame: it carries only
the message id). Each node with members in the room reads the message's tally once and
sends each member the counts they may see: a muted person's reactions are left out for
whoever muted them, so frames are per viewer (identical for all who muted nobody who
reacted). Reading after the signal, rather than carrying counts in it, keeps the last
frame right when two people react at once. A resumed session gets its rooms' counts after
the replay. Nothing about a reaction is logged; metrics count reactions by kind.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import cast

import structlog

from chatserver.context import NodeContext
from chatserver.envelopes import (
    ReactionsChanged,
    ReplayReactions,
    field_bytes,
    pack,
    pack_signal,
    sender_of,
    unpack_raw,
)
from chatserver.limits import TokenBucket
from chatserver.reactions.base import ReactionStore, Tally
from chatserver.routing import Feature, RequestFailed, Router
from chatserver.session import Session
from protocol import ErrorCode
from protocol.belonging import React, Reactions
from protocol.fields import Reaction

log = structlog.get_logger("chatserver.reactions")

SIGNAL = "reactions"
#: Reactions per second per session on average, and at once.
RATE = 1.0
BURST = 8
GONE_TEXT = "That message is no longer here to react to."
OWN_TEXT = "Reactions are for other people's messages."
SLOW_TEXT = "That's a lot of reactions at once. Please wait a moment."


class SupportiveReactions(Feature):
    def __init__(
        self,
        ctx: NodeContext,
        store: ReactionStore,
        *,
        rate: float = RATE,
        burst: int = BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ctx = ctx
        self.store = store
        self._rate, self._burst, self._clock = rate, burst, clock
        self._buckets: dict[str, TokenBucket] = {}

    def register(self, router: Router) -> None:
        router.frame(React, self.react)
        router.control(ReactionsChanged, self._changed)
        router.control(ReplayReactions, self._replay)
        router.events.resumed.append(self._resumed)
        router.events.ended.append(self._ended)
        router.events.moved.append(self._forget)
        self.ctx.hub.signals[SIGNAL] = self._signal

    async def close(self) -> None:
        await self.store.close()

    # ------------------------------------------------------------------ react

    async def react(self, session: Session, frame: React) -> None:
        self.ctx.rooms.member_handle(session, frame.room)
        bucket = self._buckets.get(session.id)
        if bucket is None:
            bucket = self._buckets[session.id] = TokenBucket(self._rate, self._burst, self._clock)
        if not bucket.take():
            retry = max(1, round(bucket.retry_after() * 1000))
            raise RequestFailed(ErrorCode.RATE_LIMITED, SLOW_TEXT, retry)
        seq = await self._seq_of(session, frame.room, frame.id)
        tally = await self.store.react(
            frame.room, frame.id, seq, session.id, frame.reaction, undo=bool(frame.undo)
        )
        if tally is None:  # the message has all the reactors it keeps: counts as they are
            tally = await self._tally(frame.room, frame.id)
        else:
            if not frame.undo:
                self.ctx.metrics.reactions.labels(frame.reaction).inc()
            await self.ctx.broker.publish(
                frame.room, pack_signal(SIGNAL, frame.id), sequenced=False
            )
        session.send(self._frame(session, frame.room, frame.id, tally, mine=True, ref=frame.ref))

    async def _seq_of(self, session: Session, room: str, message: str) -> int:
        """The seq of ``message`` in ``room``'s replay history (refused when it is not
        there any more, or never was: a held message, or the reactor's own)."""
        needle = field_bytes("id", message)
        for entry in await self.ctx.broker.history(room, 0):
            if needle not in entry.payload:
                continue
            data = unpack_raw(entry.payload)
            if data.get("type") != "message" or data.get("id") != message:
                continue
            if sender_of(data) == session.id:
                raise RequestFailed(ErrorCode.FORBIDDEN, OWN_TEXT)
            return entry.seq
        raise RequestFailed(ErrorCode.NOT_FOUND, GONE_TEXT)

    async def _tally(self, room: str, message: str) -> Tally:
        for tally in await self.store.tallies(room):
            if tally.message == message:
                return tally
        return Tally(message, 0, {})

    @staticmethod
    def _frame(
        session: Session, room: str, message: str, tally: Tally, *, mine: bool = False,
        ref: str | None = None,
    ) -> Reactions:  # fmt: skip
        counts = cast(dict[Reaction, int], tally.counts(hidden=session.muted))
        given = cast(tuple[Reaction, ...], tally.mine(session.id)) if mine else None
        return Reactions(room, message, counts, given, ref)

    # ------------------------------------------------------------------ show

    def _signal(self, room: str, message: str) -> None:
        """The hub's side: a room signal arrived (never blocks; the work is queued)."""
        self.ctx.control.enqueue(ReactionsChanged(room, message))

    async def _changed(self, change: ReactionsChanged) -> None:
        """Send the members here the message's counts, each as they may see them."""
        members = list(self.ctx.hub.sessions(change.room))
        if not members:
            return
        tally = await self._tally(change.room, change.message)
        frames: dict[frozenset[str], Reactions] = {}
        for session in members:
            hidden = frozenset(session.muted.intersection(tally.given))
            frame = frames.get(hidden)
            if frame is None:
                frame = frames[hidden] = self._frame(session, change.room, change.message, tally)
            if session.pending is not None:  # not before `joined`/`resumed`: in its turn
                session.hold(change.room, 0, pack(frame))
            else:
                session.send(frame)

    def _resumed(self, session: Session) -> None:
        self.ctx.control.enqueue(ReplayReactions(session.id))

    async def _replay(self, message: ReplayReactions) -> None:
        """After a resume's replay: the counts of every message with reactions in the
        session's rooms, with ``mine``."""
        session = self.ctx.sessions.get(message.session)
        if session is None:
            return
        for room in list(session.rooms):
            for tally in await self.store.tallies(room):
                frame = self._frame(session, room, tally.message, tally, mine=True)
                if frame.counts or frame.mine:
                    session.send(frame)

    async def _ended(self, session: Session) -> None:
        self._buckets.pop(session.id, None)

    def _forget(self, session_id: str) -> None:
        self._buckets.pop(session_id, None)
