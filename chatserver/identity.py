"""Listener identity: sign-in with a token, one live console per listener id, and the
end of a sign-in when the id is revoked or the token expires.

- **Sign-in** (``auth``): the token is checked (:mod:`chatserver.tokens`), including that
  it does not outlive ``listener_token_ttl``. Every node then hears ``signed_in`` (a hash
  of the listener id, never the id itself): an older console of that listener, on any
  node, live or dropped within its grace, is closed with 1000 within a second and its
  session ends (its chats go back to the head of the queue), as for a resume elsewhere.
  Of two sign-ins at once, the later one wins.
- **Sign-out** (revocation, expiry): checked every second on every session this node
  holds (the revocation file is re-read when it changes) and on resume. The session keeps
  its socket as an anonymous seeker: features hear ``signed_out`` first (support passes
  its chats on), then it leaves every room it served, and gets a ``signed_out`` notice.
  A dropped session with nothing left to resume ends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

import structlog

from chatserver.context import NodeContext
from chatserver.control import MOD_CHANNEL
from chatserver.envelopes import SignedIn
from chatserver.handles import random_handle
from chatserver.routing import RequestFailed, Router
from chatserver.session import Session
from chatserver.tokens import RevocationList, TokenError, verify
from protocol import ErrorCode
from protocol.messages import Auth, Authed, ChatEnded, Notice

log = structlog.get_logger("chatserver.identity")

AUTH_TEXT = {
    "bad": "That sign-in code didn't work. Please check it, or ask your coordinator for a new one.",
    "expired": "That sign-in code has expired. Please ask your coordinator for a new one.",
    "revoked": "That sign-in code is no longer active. Please contact your coordinator.",
}
SIGNED_OUT_TEXT = "Your sign-in has ended. Thank you for your time."
SIGNED_OUT_ROOM_TEXT = "Your sign-in has ended, so you've left this room. Thank you."


def listener_key(lid: str) -> str:
    """What other nodes hear of a listener id: enough to tell consoles apart, no more."""
    return hashlib.sha256(lid.encode()).hexdigest()[:24]


class Identity:
    def __init__(
        self,
        ctx: NodeContext,
        *,
        end: Callable[[Session], Awaitable[None]],
        close: Callable[[Session, str], None],
    ) -> None:
        """``end`` ends a session for good; ``close`` closes its socket with 1000."""
        self.ctx = ctx
        self.config = ctx.config
        self._end = end
        self._close = close
        self._topics = frozenset(ctx.config.topics)
        self._revoked = RevocationList(ctx.config.revoked_listeners_file or None)

    def register(self, router: Router) -> None:
        router.frame(Auth, self.auth)
        router.control(SignedIn, self.signed_in)

    async def auth(self, session: Session, frame: Auth) -> None:
        if session.rooms:
            raise RequestFailed(ErrorCode.FORBIDDEN, "Please sign in before joining any rooms.")
        try:
            claims = verify(
                frame.token,
                self.config.listener_secret,
                revoked=self._revoked,
                longest=self.config.listener_token_ttl,
            )
        except TokenError as exc:
            log.info("auth_failed", session=session.id, reason=exc.reason)
            # a token minted to live too long is, for its holder, one that didn't work
            text = AUTH_TEXT.get(exc.reason, AUTH_TEXT["bad"])
            raise RequestFailed(ErrorCode.AUTH_FAILED, text) from exc
        topics = tuple(t for t in claims.topics if t in self._topics)
        languages = claims.languages or (self.config.default_language,)
        now = self.ctx.wall()
        session.authenticate(
            claims.role, claims.name, claims.lid, topics, expires=claims.exp, at=now,
            languages=languages,
        )  # fmt: skip
        log.info("authed", session=session.id, role=claims.role)
        await self.ctx.sessions.persist(session)
        await self.ctx.control.announce(
            MOD_CHANNEL, SignedIn(listener_key(claims.lid), session.id, now)
        )
        session.send(Authed(claims.role, claims.name, topics, frame.ref, languages))

    async def signed_in(self, message: SignedIn) -> None:
        """A listener signed in somewhere: its older consoles held here close and end."""
        for session in self.ctx.sessions:
            lid = session.listener_id
            if (
                lid is not None
                and (session.signed_in_at, session.id) < (message.at, message.session)
                and listener_key(lid) == message.listener
            ):  # the older console goes (of two at the same instant, one of them)
                log.info("signed_in_elsewhere", session=session.id)
                self._close(session, "signed in elsewhere")
                await self._end(session)

    # ------------------------------------------------------------------ sign-out

    def valid(self, session: Session, revoked: frozenset[str] | None = None) -> bool:
        """Does the session's sign-in (if any) still stand: not revoked (in ``revoked``,
        else the list as it is now), not expired?"""
        lid = session.listener_id
        if lid is None:
            return True
        expired = 0 < session.listener_exp < self.ctx.wall()
        return not expired and lid not in (self._revoked.ids() if revoked is None else revoked)

    async def sweep(self) -> None:
        """Once a second: end the sign-ins that were revoked or expired."""
        revoked = self._revoked.ids()
        for session in self.ctx.sessions:
            if session.listener_id is not None and not self.valid(session, revoked):
                await self.sign_out(session)

    async def sign_out(self, session: Session, *, quiet: bool = False) -> None:
        """The sign-in ended: features pass on what the listener held, the session leaves
        the rooms it served and carries on as a seeker. ``quiet``: no frame about it yet
        (a resume sends ``resumed`` first, then :meth:`tell_signed_out`)."""
        log.info("signed_out", session=session.id)
        for handler in self.ctx.events.signed_out:
            await handler(session)
        for room in list(session.rooms):
            if not quiet:
                session.send(ChatEnded(room=room, reason="signed_out", text=SIGNED_OUT_ROOM_TEXT))
            await self.ctx.rooms.leave_room(session, room)
        session.demote(random_handle())
        if session.ws is None and not quiet:
            await self._end(session)  # dropped, and nothing is left to resume
            return
        if not quiet:
            self.tell_signed_out(session)
        await self.ctx.sessions.persist(session)

    def tell_signed_out(self, session: Session) -> None:
        session.send(Notice(code="signed_out", text=SIGNED_OUT_TEXT, level="info"))
