"""The node's table of sessions, and their snapshots in the session store.

A session is found here by id, by resume token, or by the address of its socket (for
the per-address seat share: memory only). Its state belongs to
:class:`chatserver.session.Session`; this module owns which sessions exist on this node
and keeps their snapshots fresh so any node can resume them.

One live socket per session, everywhere: a resume, on any node, first takes the token's
snapshot from the store (:meth:`SessionRegistry.claim`). The store's take is atomic and
leaves a marker, so of two resumes of one token exactly one wins, and the node that held
the session can neither resume it locally nor save it again once another node took it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import structlog

from chatserver.broker.base import BrokerUnavailable
from chatserver.node import ChatConfig
from chatserver.resume.base import TAKEN, SessionStore, token_key
from chatserver.session import Session

log = structlog.get_logger("chatserver.sessions")


@dataclass(frozen=True, slots=True)
class Claimed:
    """What a resume token names, once claimed: the session held here, or the snapshot
    of one held elsewhere; both None when the token is unknown, expired or used."""

    local: Session | None = None
    snapshot: bytes | None = None


class SessionRegistry:
    def __init__(
        self,
        config: ChatConfig,
        store: SessionStore,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self._by_id: dict[str, Session] = {}
        self._by_token: dict[str, Session] = {}
        #: client address -> its sessions here (never logged or stored)
        self._by_address: dict[str, dict[Session, None]] = {}

    # ------------------------------------------------------------------ the table

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Session]:
        return iter(list(self._by_id.values()))

    def __contains__(self, session_id: object) -> bool:
        return session_id in self._by_id

    def get(self, session_id: str) -> Session | None:
        return self._by_id.get(session_id)

    def values(self) -> list[Session]:
        return list(self._by_id.values())

    def by_token(self, token: str) -> Session | None:
        return self._by_token.get(token)

    def by_address(self, address: str) -> Iterator[Session]:
        return iter(list(self._by_address.get(address, ())))

    def add(self, session: Session) -> None:
        self._by_id[session.id] = session
        self._by_token[session.resume_token] = session
        self._index(session)

    def remove(self, session_id: str) -> Session | None:
        session = self._by_id.pop(session_id, None)
        if session is not None:
            self._by_token.pop(session.resume_token, None)
            self._unindex(session)
        return session

    def locate(self, session: Session, address: str | None) -> None:
        """The session is now carried by a socket from ``address``."""
        self._unindex(session)
        session.located(address)
        if session.id in self._by_id:
            self._index(session)

    def _index(self, session: Session) -> None:
        if session.address is not None:
            self._by_address.setdefault(session.address, {})[session] = None

    def _unindex(self, session: Session) -> None:
        if session.address is None:
            return
        sessions = self._by_address.get(session.address)
        if sessions is not None:
            sessions.pop(session, None)
            if not sessions:
                del self._by_address[session.address]

    async def claim(self, token: str) -> Claimed:
        """Claim the session ``token`` names for a resume: taken from the store first
        (the one atomic step every node agrees on), then the local copy, if any. A token
        whose snapshot another resume took is claimed by nobody. With the store out of
        reach, the local copy is claimed (no other node can take it meanwhile)."""
        try:
            taken = await self.store.take(token_key(token))
        except BrokerUnavailable:
            local = self._by_token.pop(token, None)
            if local is None:
                raise
            return Claimed(local=local)
        if taken is TAKEN:
            return Claimed()  # resumed elsewhere: the local copy is told (or finds out)
        local = self._by_token.pop(token, None)  # no await since the take: one claimant
        if local is not None or taken is None:
            return Claimed(local=local)
        return Claimed(snapshot=taken)

    def rotate_token(self, session: Session) -> None:
        """A fresh resume token: the old one was used (its snapshot was taken, and the
        marker left in its place expires on its own)."""
        self._by_token.pop(session.resume_token, None)
        session.rotate_token(token_key(session.resume_token))
        self._by_token[session.resume_token] = session

    # ------------------------------------------------------------------ snapshots

    def ttl(self) -> float:
        return max(self.config.resume_grace, 1.0) * 2

    async def persist(self, session: Session) -> bool:
        """Save the session's snapshot so any node can resume it (after state changes,
        and periodically while it has something to resume). False when its token was
        taken meanwhile: resumed here (the new token is saved next) or elsewhere."""
        if session.id not in self._by_id:
            return True  # ended (or moved) meanwhile: nothing to resume here
        session.saved(self.clock())
        token = session.resume_token
        key = token_key(token)
        try:
            stored = await self.store.save(key, session.snapshot(self.config.node_id), self.ttl())
            if stored and (session.id not in self._by_id or session.resume_token != token):
                await self.store.delete(key)  # it ended, or its token rotated, meanwhile
        except BrokerUnavailable:
            log.warning("persist_failed", session=session.id)
            return True
        return stored

    async def refresh(self, busy: Callable[[Session], bool]) -> list[Session]:
        """Keep the snapshots of sessions with seats fresh (their TTL is twice the grace).
        Returns the sessions another node resumed (their token was taken while this
        node still holds them: the ``moved`` message about them was lost)."""
        horizon = self.clock() - self.ttl() / 4
        lost = []
        for session in self:
            if (session.rooms or busy(session)) and session.saved_at < horizon:
                token = session.resume_token
                if not await self.persist(session) and self._by_token.get(token) is session:
                    lost.append(session)
        return lost

    async def forget_snapshot(self, session: Session) -> None:
        """The session ended: its snapshot goes, and so do the markers of the tokens it
        used (nothing can resume it any more, so they guard nothing)."""
        keys = [*session.spent, *([token_key(session.resume_token)] if session.saved_at else [])]
        for key in keys:
            # on failure the snapshot expires on its own
            with contextlib.suppress(BrokerUnavailable):
                await self.store.delete(key)

    # ------------------------------------------------------------------ notes

    async def keep_note(self, key: str, value: bytes) -> None:
        """Keep ``value`` beside the snapshots, as long as one (moderation waiting for a
        session no node holds; see :mod:`chatserver.features.moderation_pending`)."""
        await self.store.save(key, value, self.ttl())

    async def take_note(self, key: str) -> bytes | None:
        taken = await self.store.take(key)
        if not isinstance(taken, bytes):
            return None
        await self.store.delete(key)  # the marker guards no token here
        return taken

    async def drop_note(self, key: str) -> None:
        await self.store.delete(key)

    async def close(self) -> None:
        await self.store.close()
