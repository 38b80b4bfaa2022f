"""The node's table of sessions, and their snapshots in the session store.

A session is found here by id or by resume token; this table also counts the group
seats that seekers hold per client address and topic (for the per-address seat share:
memory only, never logged or stored). Seats change through :meth:`seated` and
:meth:`unseated`, so the count stays exact without walking every session on a join.
A session's state belongs to :class:`chatserver.session.Session`; this module owns which
sessions exist on this node and keeps their snapshots fresh so any node can resume them.

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
from chatserver.room_ids import group_topic
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
        #: (client address, topic) -> seekers' group seats held here (never logged or stored)
        self._address_seats: dict[tuple[str, str], int] = {}
        self._topics = frozenset(config.topics)

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

    def address_seats(self, address: str, topic: str) -> int:
        """Seekers' seats in ``topic``'s group rooms held from ``address`` on this node."""
        return self._address_seats.get((address, topic), 0)

    def add(self, session: Session) -> None:
        if self._by_id.get(session.id) is not session:
            self.remove(session.id)
            self._by_id[session.id] = session
            self._index(session)
        self._by_token[session.resume_token] = session

    def remove(self, session_id: str) -> Session | None:
        session = self._by_id.pop(session_id, None)
        if session is not None:
            self._by_token.pop(session.resume_token, None)
            self._unindex(session)
        return session

    def locate(self, session: Session, address: str | None) -> None:
        """The session is now carried by a socket from ``address``."""
        held = self._by_id.get(session.id) is session
        if held:
            self._unindex(session)
        session.located(address)
        if held:
            self._index(session)

    def seated(self, session: Session, room: str, handle: str) -> None:
        """``session`` now holds a seat in ``room`` as ``handle``."""
        session.seated(room, handle)
        if self._by_id.get(session.id) is session:
            self._count(session, [room], 1)

    def unseated(self, session: Session, room: str) -> str | None:
        """``session`` leaves ``room``: its handle there, or None when not in it."""
        handle = session.unseated(room)
        if handle is not None and self._by_id.get(session.id) is session:
            self._count(session, [room], -1)
        return handle

    def _index(self, session: Session) -> None:
        self._count(session, list(session.rooms), 1)

    def _unindex(self, session: Session) -> None:
        self._count(session, list(session.rooms), -1)

    def _count(self, session: Session, rooms: list[str], step: int) -> None:
        if session.address is None or session.role != "seeker":
            return  # staff serve rooms: their seats are not counted
        for room in rooms:
            topic = group_topic(room, self._topics)
            if topic is None:
                continue
            key = (session.address, topic)
            left = self._address_seats.get(key, 0) + step
            if left > 0:
                self._address_seats[key] = left
            else:
                self._address_seats.pop(key, None)

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
