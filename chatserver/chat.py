"""Sessions from first frame to last: open, sign in, resume, drop, end.

This is the core's own routing: it registers the frames every connection has whatever
features run (``join``, ``leave``, ``ping``, ``auth``, ``resume``) and the control
messages about sessions and rooms (``moved``, ``signed_in``, ``room_ended``). It knows no
feature: features hear about a session's life through :class:`chatserver.routing.Events`.
Session state changes go through :class:`chatserver.session.Session`'s methods; seats
through :class:`chatserver.rooms.Rooms`.

One live socket per session, everywhere. A resume claims the token through the session
store (one winner, see :mod:`chatserver.sessions`); the node that held the session, told
by ``moved`` (or, if that message is lost, by its next snapshot refresh), closes the old
socket with 1000 within a second. Until then the old socket cannot speak for the session:
the connection drops every frame of a socket that no longer carries its session.
``resume`` is for a fresh connection only: a connection that already has rooms, a queue
place, a role or the very token it sends is refused, so a resume never drops anyone from
a room's members (and moderation has no escape hatch).

Listener sign-ins follow the same rule (one live console per listener id: a new sign-in,
on any node, closes the older console with 1000) and end when the listener id is revoked
or the token expires: checked every second (the revocation file is re-read when it
changes) and on resume; the session stays, as a seeker (see :mod:`chatserver.identity`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from chatserver.context import NodeContext
from chatserver.envelopes import Moved, RoomEnded
from chatserver.handles import random_handle
from chatserver.identity import AUTH_TEXT as AUTH_TEXT  # the sentences' old home
from chatserver.identity import Identity
from chatserver.node import locale_of
from chatserver.routing import Feature, RequestFailed, Router
from chatserver.session import Session, new_resume_token, new_session_id
from protocol import Codec, ErrorCode
from protocol.messages import Join, Leave, Notice, Ping, Pong, Resume, Resumed, Welcome

log = structlog.get_logger("chatserver.chat")

DEGRADED_TEXT = (
    "We're having a brief connection problem on our side. Messages may not send for a "
    "moment; nothing you've already sent is lost."
)
RESTORED_TEXT = "We're back to normal. Thank you for your patience."
RESUME_FAILED_TEXT = (
    "We couldn't restore your earlier chat (it may have timed out). You can start again from here."
)
RESUME_BUSY_TEXT = (
    "This connection is already in use, so it can't pick up another chat. You can carry on here."
)
#: Longest wait for an old socket's closing handshake before its connection is cut.
CLOSE_DEADLINE = 1.0

Spawn = Callable[[Coroutine[Any, Any, None]], None]


async def close_socket(ws: Any, reason: str) -> None:
    """Close ``ws`` with 1000 (its session lives on elsewhere), within
    :data:`CLOSE_DEADLINE`: a peer that does not answer the closing handshake (a phone
    that lost its network) has its connection cut instead."""
    close = getattr(ws, "close", None)
    if close is None:
        return
    try:
        async with asyncio.timeout(CLOSE_DEADLINE):
            await close(1000, reason)
    except TimeoutError:
        transport = getattr(ws, "transport", None)
        if transport is not None:
            transport.abort()


class Chat(Feature):
    def __init__(self, ctx: NodeContext, spawn: Spawn) -> None:
        """``spawn`` runs a short job under the node's TaskGroup (closing old sockets)."""
        self.ctx = ctx
        self.config = ctx.config
        self.sessions = ctx.sessions
        self.rooms = ctx.rooms
        self.events = ctx.events
        self._spawn = spawn
        self.identity = Identity(ctx, end=self.end, close=self.drop_socket)

    def register(self, router: Router) -> None:
        router.frame(Join, self._join)
        router.frame(Leave, self._leave)
        router.frame(Ping, self._ping)
        router.frame(Resume, self.resume)
        router.control(Moved, self._moved)
        router.control(RoomEnded, self._room_ended)
        router.events.at_risk.append(self._at_risk)
        self.identity.register(router)

    # ------------------------------------------------------------------ lifecycle

    def open(self, ws: object, codec: Codec, address: str | None = None) -> Session:
        """A new connection: a fresh anonymous session and its welcome frame."""
        session = Session(
            id=new_session_id(),
            handle=random_handle(),
            role="seeker",
            codec=codec,
            resume_token=new_resume_token(),
            ws=ws,
            locale=locale_of(ws),
            address=address,
        )
        self.sessions.add(session)
        session.send(
            Welcome(
                session=session.id,
                handle=session.handle,
                role=session.role,
                resume_token=session.resume_token,
                topics=self.config.topics,
                max_text=self.config.max_text,
                limits=self.config.limits,
            )
        )
        return session

    async def sweep(self) -> None:
        await self.reap()
        await self.refresh()
        await self.identity.sweep()

    async def refresh(self) -> None:
        """Keep the snapshots of sessions with something to resume fresh. A session whose
        token another node took was resumed there: the ``moved`` about it was lost."""
        for session in await self.sessions.refresh(self.events.is_busy):
            await self._moved(Moved(session.id))

    async def disconnected(self, session: Session, ws: object, *, clean: bool = False) -> None:
        """The socket ``ws`` is gone. A clean close (the person left) frees the seats now;
        a dropped connection keeps them for the resume grace, marked held.

        Nothing to do when another socket has already resumed the session."""
        if session.ws is not ws:
            return
        session.unbind()
        keep = session.rooms or self.events.is_busy(session)
        if not clean and keep and self.config.resume_grace > 0 and not session.closing:
            session.detach(self.ctx.clock())
            await self.sessions.persist(session)
            await self.rooms.hold(session)
            return
        await self.end(session)

    async def end(self, session: Session) -> None:
        """Release every seat, queue place and pairing, and forget the session."""
        for ended in self.events.ended:
            await ended(session)
        await self.rooms.leave_all(session)
        self.sessions.remove(session.id)
        await self.sessions.forget_snapshot(session)

    def drop_socket(self, session: Session, reason: str) -> None:
        """The session's socket (if any) no longer carries it: no frame goes out or is
        taken from it any more, and it is closed with 1000 within a second."""
        session.stop_sending()
        ws = session.ws
        session.unbind()
        if ws is not None:
            self._spawn(close_socket(ws, reason))

    async def _moved(self, message: Moved) -> None:
        """Another node resumed this session: forget it here without freeing its seats,
        and close the socket that carried it."""
        session = self.sessions.remove(message.session)
        if session is None:
            return
        self.rooms.forget(session)
        for moved in self.events.moved:
            moved(session.id)
        self.drop_socket(session, "resumed elsewhere")
        log.info("moved", session=session.id)

    async def _room_ended(self, message: RoomEnded) -> None:
        for session in list(self.ctx.hub.sessions(message.room)):
            await self.rooms.leave_room(session, message.room)

    async def _at_risk(self, session: Session) -> None:
        """The at-risk mark is in the snapshot at once: a node lost a moment later must
        not lose it (the person stays first in line on whatever node they resume)."""
        if not session.saved_at_risk:
            await self.sessions.persist(session)

    async def reap(self) -> int:
        """End sessions detached for longer than the grace. Returns how many ended."""
        horizon = self.ctx.clock() - self.config.resume_grace
        expired = [
            s for s in self.sessions if s.detached_at is not None and s.detached_at < horizon
        ]
        for session in expired:
            await self.end(session)
        return len(expired)

    def broker_health(self, healthy: bool) -> None:
        """Tell everyone on this node when the relay between nodes goes down or comes back."""
        notice = (
            Notice(code="restored", text=RESTORED_TEXT, level="info")
            if healthy
            else Notice(code="degraded", text=DEGRADED_TEXT, level="warning")
        )
        for session in self.sessions:
            if session.ws is not None:
                session.send(notice)

    def stop_all(self, quietly: bool) -> None:
        """Shutting down: with ``quietly``, no frame goes out any more (the sockets close
        with a code that ends the sessions); otherwise they stay resumable."""
        if quietly:
            for session in self.sessions:
                session.stop_sending()

    # ------------------------------------------------------------------ frames

    async def _join(self, session: Session, frame: Join) -> None:
        await self.rooms.join(session, frame)

    async def _leave(self, session: Session, frame: Leave) -> None:
        await self.rooms.leave(session, frame)

    async def _ping(self, session: Session, frame: Ping) -> None:
        session.send(Pong(ref=frame.ref))

    # ------------------------------------------------------------------ resume

    def _fresh(self, session: Session, token: str) -> bool:
        """Only a connection that has done nothing yet may resume (SPEC section 4)."""
        return (
            token != session.resume_token
            and not session.rooms
            and session.role == "seeker"
            and not self.events.is_busy(session)
        )

    async def resume(self, fresh: Session, frame: Resume) -> Session:
        """Hand the socket of ``fresh`` to the session that ``frame.token`` names, held
        here or (through the session store) by any node.

        Deliveries that arrive while history is fetched are parked by the session's gate
        and sent after it, skipping what history already covered: exactly once, in order.
        """
        if not self._fresh(fresh, frame.token):
            raise RequestFailed(ErrorCode.RESUME_FAILED, RESUME_BUSY_TEXT)
        claimed = await self.sessions.claim(frame.token)
        old = claimed.local
        if old is None and claimed.snapshot is not None:
            old = await self._adopt(claimed.snapshot, frame.token, fresh)
        if old is None:
            raise RequestFailed(ErrorCode.RESUME_FAILED, RESUME_FAILED_TEXT)
        await self._take_over(old, fresh)
        signed_out = not self.identity.valid(old)
        if signed_out:  # revoked or expired while away: back as a seeker, chats passed on
            await self.identity.sign_out(old, quiet=True)
        old.park()
        try:
            backlog = await self._replay(old, frame)
        except BaseException:
            old.unpark()
            raise
        old.release(backlog)
        if signed_out:
            self.identity.tell_signed_out(old)
        await self.sessions.persist(old)
        for resumed in self.events.resumed:
            resumed(old)
        log.info("resumed", session=old.id, rooms=len(old.rooms))
        return old

    async def _take_over(self, old: Session, fresh: Session) -> None:
        """``old`` gets ``fresh``'s socket and a new token; ``fresh`` ends; a socket that
        held ``old`` until now is closed, and seats held for its grace are its again."""
        ws = fresh.ws
        await self.end(fresh)
        previous_ws = old.ws
        was_held = old.detached_at is not None
        self.sessions.rotate_token(old)
        old.bind(ws, fresh.codec, fresh.locale)
        self.sessions.locate(old, fresh.address)
        if previous_ws is not None and previous_ws is not ws:
            self._spawn(close_socket(previous_ws, "resumed elsewhere"))
        if was_held:
            await self.rooms.hold(old, held=False)

    async def _replay(self, session: Session, frame: Resume) -> list[tuple[str, int, bytes]]:
        """Send ``resumed``; return what each room holds after the client's last seq."""
        broker = self.ctx.broker
        rooms: dict[str, int] = {}
        backlog: list[tuple[str, int, bytes]] = []
        for room in session.rooms:
            after = frame.last_seq.get(room, 0)
            for entry in await broker.history(room, after):
                backlog.append((room, entry.seq, entry.payload))
            rooms[room] = await broker.last_seq(room)
        session.send(
            Resumed(
                session=session.id,
                handle=session.handle,
                role=session.role,
                resume_token=session.resume_token,
                rooms=rooms,
                ref=frame.ref,
            )
        )
        return backlog

    async def _adopt(self, snapshot: bytes, token: str, fresh: Session) -> Session | None:
        """Take a session from the store (another node held it): move its seats here."""
        session, node = Session.restore(snapshot, fresh.codec, None, token)
        here = self.sessions.get(session.id)
        if here is not None:  # held here after all (under another token): that one
            return here
        session.park()  # park deliveries until the replay is done
        await self.rooms.reclaim(session)
        self.sessions.add(session)
        if node and node != self.config.node_id:
            await self.ctx.control.tell(node, Moved(session.id))
        for adopted in self.events.adopted:
            await adopted(session)
        log.info("adopted", session=session.id, rooms=len(session.rooms))
        return session
