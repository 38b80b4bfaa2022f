"""The node's table of sessions, and their snapshots in the session store.

A session is found here by id or by resume token. Its state belongs to
:class:`chatserver.session.Session`; this module owns which sessions exist on this node
and keeps their snapshots fresh so any node can resume them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import structlog

from chatserver.broker.base import BrokerUnavailable
from chatserver.node import ChatConfig
from chatserver.resume.base import SessionStore, token_key
from chatserver.session import Session

log = structlog.get_logger("chatserver.sessions")


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

    def add(self, session: Session) -> None:
        self._by_id[session.id] = session
        self._by_token[session.resume_token] = session

    def remove(self, session_id: str) -> Session | None:
        session = self._by_id.pop(session_id, None)
        if session is not None:
            self._by_token.pop(session.resume_token, None)
        return session

    async def rotate_token(self, session: Session) -> None:
        """A fresh resume token (the old one was used): the old snapshot goes."""
        self._by_token.pop(session.resume_token, None)
        with contextlib.suppress(BrokerUnavailable):
            await self.store.delete(token_key(session.resume_token))
        session.rotate_token()
        self._by_token[session.resume_token] = session

    # ------------------------------------------------------------------ snapshots

    def ttl(self) -> float:
        return max(self.config.resume_grace, 1.0) * 2

    async def persist(self, session: Session) -> None:
        """Save the session's snapshot so any node can resume it (after state changes,
        and periodically while it has something to resume)."""
        if session.id not in self._by_id:
            return  # ended (or moved) meanwhile: nothing to resume here
        session.saved(self.clock())
        key = token_key(session.resume_token)
        try:
            await self.store.save(key, session.snapshot(self.config.node_id), self.ttl())
            if session.id not in self._by_id or token_key(session.resume_token) != key:
                await self.store.delete(key)  # it ended, or its token rotated, meanwhile
        except BrokerUnavailable:
            log.warning("persist_failed", session=session.id)

    async def refresh(self, busy: Callable[[Session], bool]) -> None:
        """Keep the snapshots of sessions with seats fresh (their TTL is twice the grace)."""
        horizon = self.clock() - self.ttl() / 4
        for session in self:
            if (session.rooms or busy(session)) and session.saved_at < horizon:
                await self.persist(session)

    async def forget_snapshot(self, session: Session) -> None:
        if session.saved_at:
            # on failure the snapshot expires on its own
            with contextlib.suppress(BrokerUnavailable):
                await self.store.delete(token_key(session.resume_token))

    async def take_snapshot(self, token: str) -> bytes | None:
        return await self.store.take(token_key(token))

    async def close(self) -> None:
        await self.store.close()
