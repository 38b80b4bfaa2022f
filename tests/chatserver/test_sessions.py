"""The session table's claim on a resume token: one winner, the store decides. Two
registries on one store stand for two nodes."""

from __future__ import annotations

import asyncio

from chatserver.node import ChatConfig
from chatserver.resume.memory import MemorySessionStore
from chatserver.session import Session
from chatserver.sessions import SessionRegistry
from protocol import JSON


def _registry(node: str, store: MemorySessionStore) -> SessionRegistry:
    return SessionRegistry(ChatConfig(node_id=node, topics=("grief",)), store)


def _session(sid: str = "s-1") -> Session:
    return Session(id=sid, handle="Calm Heron", role="seeker", codec=JSON, resume_token="tok")


async def test_a_session_never_saved_is_claimed_here_once() -> None:
    here = _registry("a", MemorySessionStore())
    session = _session()
    here.add(session)
    claims = await asyncio.gather(here.claim("tok"), here.claim("tok"))
    assert sorted(c.local is session for c in claims) == [False, True]
    assert all(c.snapshot is None for c in claims)


async def test_a_saved_session_has_one_winner_across_nodes() -> None:
    store = MemorySessionStore()
    a, b = _registry("a", store), _registry("b", store)
    session = _session()
    session.seated("grief", "Calm Heron")
    a.add(session)
    assert await a.persist(session)
    won_b, won_a = await asyncio.gather(b.claim("tok"), a.claim("tok"))
    assert won_b.snapshot is not None and won_a.local is None and won_a.snapshot is None


async def test_the_old_node_cannot_save_a_taken_token_and_finds_out_on_refresh() -> None:
    store = MemorySessionStore()
    a, b = _registry("a", store), _registry("b", store)
    session = _session()
    session.seated("grief", "Calm Heron")
    a.add(session)
    assert await a.persist(session)
    assert (await b.claim("tok")).snapshot is not None  # resumed on b; a not told yet
    assert await a.persist(session) is False
    session.saved(0.0)  # due for its refresh
    assert await a.refresh(lambda _s: False) == [session]
    assert (await b.claim("tok")).snapshot is None  # the used token stays used


async def test_a_session_that_ends_takes_its_used_tokens_markers_along() -> None:
    store = MemorySessionStore()
    a = _registry("a", store)
    session = _session()
    a.add(session)
    assert await a.persist(session)
    assert (await a.claim("tok")).local is session
    a.rotate_token(session)
    assert await a.persist(session)
    await a.forget_snapshot(session)
    assert store._data == {}


def test_seats_are_counted_per_address_and_topic_while_held_here() -> None:
    here = _registry("a", MemorySessionStore())
    one, two = _session("s-1"), _session("s-2")
    one.located("203.0.113.7")
    two.located("203.0.113.7")
    here.add(one)
    here.add(two)
    here.seated(one, "grief", "A")
    here.seated(two, "grief-2", "B")
    here.seated(two, "p-0a1b2c", "B")  # a private room is not a group seat
    assert here.address_seats("203.0.113.7", "grief") == 2
    here.locate(two, "198.51.100.9")  # resumed from another network
    assert here.address_seats("203.0.113.7", "grief") == 1
    assert here.address_seats("198.51.100.9", "grief") == 1
    assert here.unseated(one, "grief") == "A"
    here.remove(two.id)
    assert here.address_seats("203.0.113.7", "grief") == 0
    assert here.address_seats("198.51.100.9", "grief") == 0
    here.add(two)
    here.add(two)  # added twice: counted once
    assert here.address_seats("198.51.100.9", "grief") == 1
