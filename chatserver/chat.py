"""Sessions from first frame to last: open, sign in, resume, drop, end.

This is the core's own routing: it registers the frames every connection has whatever
features run (``join``, ``leave``, ``ping``, ``auth``, ``resume``) and the control
messages about sessions and rooms (``moved``, ``room_ended``). It knows no feature:
features hear about a session's life through :class:`chatserver.routing.Events`.
Session state changes go through :class:`chatserver.session.Session`'s methods; seats
through :class:`chatserver.rooms.Rooms`.
"""

from __future__ import annotations

import structlog

from chatserver.context import NodeContext
from chatserver.envelopes import Moved, RoomEnded
from chatserver.handles import random_handle
from chatserver.node import locale_of
from chatserver.routing import Feature, RequestFailed, Router
from chatserver.session import Session, new_resume_token, new_session_id
from chatserver.tokens import RevocationList, TokenError, verify
from protocol import Codec, ErrorCode
from protocol.messages import (
    Auth,
    Authed,
    Join,
    Leave,
    Notice,
    Ping,
    Pong,
    Resume,
    Resumed,
    Welcome,
)

log = structlog.get_logger("chatserver.chat")

DEGRADED_TEXT = (
    "We're having a brief connection problem on our side. Messages may not send for a "
    "moment; nothing you've already sent is lost."
)
RESTORED_TEXT = "We're back to normal. Thank you for your patience."
AUTH_TEXT = {
    "bad": "That sign-in code didn't work. Please check it, or ask your coordinator for a new one.",
    "expired": "That sign-in code has expired. Please ask your coordinator for a new one.",
    "revoked": "That sign-in code is no longer active. Please contact your coordinator.",
}
RESUME_FAILED_TEXT = (
    "We couldn't restore your earlier chat (it may have timed out). You can start again from here."
)


class Chat(Feature):
    def __init__(self, ctx: NodeContext) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.sessions = ctx.sessions
        self.rooms = ctx.rooms
        self.events = ctx.events
        self._topics = frozenset(ctx.config.topics)
        self._revoked = RevocationList(ctx.config.revoked_listeners_file or None)

    def register(self, router: Router) -> None:
        router.frame(Join, self._join)
        router.frame(Leave, self._leave)
        router.frame(Ping, self._ping)
        router.frame(Auth, self._auth)
        router.frame(Resume, self.resume)
        router.control(Moved, self._moved)
        router.control(RoomEnded, self._room_ended)

    # ------------------------------------------------------------------ lifecycle

    def open(self, ws: object, codec: Codec) -> Session:
        """A new connection: a fresh anonymous session and its welcome frame."""
        session = Session(
            id=new_session_id(),
            handle=random_handle(),
            role="seeker",
            codec=codec,
            resume_token=new_resume_token(),
            ws=ws,
            locale=locale_of(ws),
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

    async def refresh(self) -> None:
        """Keep the snapshots of sessions with something to resume fresh."""
        await self.sessions.refresh(self.events.is_busy)

    async def disconnected(self, session: Session, ws: object, *, clean: bool = False) -> None:
        """The socket ``ws`` is gone. A clean close (the person left) frees the seats now;
        a dropped connection keeps them for the resume grace.

        Nothing to do when another socket has already resumed the session."""
        if session.ws is not ws:
            return
        session.unbind()
        keep = session.rooms or self.events.is_busy(session)
        if not clean and keep and self.config.resume_grace > 0 and not session.closing:
            session.detach(self.ctx.clock())
            await self.sessions.persist(session)
            return
        await self.end(session)

    async def end(self, session: Session) -> None:
        """Release every seat, queue place and pairing, and forget the session."""
        for ended in self.events.ended:
            await ended(session)
        await self.rooms.leave_all(session)
        self.sessions.remove(session.id)
        await self.sessions.forget_snapshot(session)

    async def _moved(self, message: Moved) -> None:
        """Another node resumed this session: forget it here without freeing its seats."""
        session = self.sessions.remove(message.session)
        if session is None:
            return
        self.rooms.forget(session)
        for moved in self.events.moved:
            moved(session.id)
        session.stop_sending()
        log.info("moved", session=session.id)

    async def _room_ended(self, message: RoomEnded) -> None:
        for session in list(self.ctx.hub.sessions(message.room)):
            await self.rooms.leave_room(session, message.room)

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

    async def _auth(self, session: Session, frame: Auth) -> None:
        if session.rooms:
            raise RequestFailed(ErrorCode.FORBIDDEN, "Please sign in before joining any rooms.")
        try:
            claims = verify(frame.token, self.config.listener_secret, revoked=self._revoked)
        except TokenError as exc:
            log.info("auth_failed", session=session.id, reason=exc.reason)
            raise RequestFailed(ErrorCode.AUTH_FAILED, AUTH_TEXT[exc.reason]) from exc
        topics = tuple(t for t in claims.topics if t in self._topics)
        languages = claims.languages or (self.config.default_language,)
        session.authenticate(claims.role, claims.name, claims.lid, topics, languages)
        log.info("authed", session=session.id, role=claims.role)
        await self.sessions.persist(session)
        session.send(Authed(claims.role, claims.name, topics, ref=frame.ref, languages=languages))

    # ------------------------------------------------------------------ resume

    async def resume(self, fresh: Session, frame: Resume) -> Session:
        """Hand the socket of ``fresh`` to the session that ``frame.token`` names, held
        here or (through the session store) by any node.

        Deliveries that arrive while history is fetched are parked by the session's gate
        and sent after it, skipping what history already covered: exactly once, in order.
        """
        old = self.sessions.by_token(frame.token)
        if old is fresh:
            old = None
        if old is None:
            old = await self._adopt(frame.token, fresh)
        if old is None:
            raise RequestFailed(ErrorCode.RESUME_FAILED, RESUME_FAILED_TEXT)
        await self._take_over(old, fresh)
        old.park()
        try:
            backlog = await self._replay(old, frame)
        except BaseException:
            old.unpark()
            raise
        old.release(backlog)
        await self.sessions.persist(old)
        for resumed in self.events.resumed:
            resumed(old)
        log.info("resumed", session=old.id, rooms=len(old.rooms))
        return old

    async def _take_over(self, old: Session, fresh: Session) -> None:
        """``old`` gets ``fresh``'s socket and a new token; ``fresh`` ends; a socket that
        held ``old`` until now is closed."""
        ws = fresh.ws
        await self.end(fresh)
        previous_ws = old.ws
        await self.sessions.rotate_token(old)
        old.bind(ws, fresh.codec, fresh.locale)
        if previous_ws is not None and previous_ws is not ws:
            close = getattr(previous_ws, "close", None)
            if close is not None:
                await close(1000, "resumed elsewhere")

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

    async def _adopt(self, token: str, fresh: Session) -> Session | None:
        """Take a session from the store (another node held it): move its seats here."""
        snapshot = await self.sessions.take_snapshot(token)
        if snapshot is None:
            return None
        session, node = Session.restore(snapshot, fresh.codec, None, token)
        session.park()  # park deliveries until the replay is done
        await self.rooms.reclaim(session)
        self.sessions.add(session)
        if node and node != self.config.node_id:
            await self.ctx.control.tell(node, Moved(session.id))
        for adopted in self.events.adopted:
            await adopted(session)
        log.info("adopted", session=session.id, rooms=len(session.rooms))
        return session
