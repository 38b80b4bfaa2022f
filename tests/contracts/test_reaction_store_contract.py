"""One contract, every ReactionStore: the memory twin, Redis standalone and a Redis
Cluster. The factory is typed as :class:`ReactionStore`, so mypy checks conformance.
Expiry uses the memory twin's injected clock, and in Redis a real 50 ms TTL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatserver.reactions.base import MAX_REACTORS, ReactionStore, Tally
from chatserver.reactions.memory import MemoryReactionStore
from chatserver.reactions.redis import RedisReactionStore
from protocol.fields import REACTIONS
from tests.helpers.procs import RedisClusterProcess, RedisProcess

MAX_MESSAGES = 4


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Twin:
    store: ReactionStore
    advance: Callable[[float], None]
    real_time: bool
    redis: RedisReactionStore | None = None


def make(kind: str, request: pytest.FixtureRequest, ttl: float) -> Twin:
    if kind == "memory":
        clock = Clock()

        def advance(seconds: float) -> None:
            clock.now += seconds

        memory = MemoryReactionStore(max_messages=MAX_MESSAGES, ttl=ttl, clock=clock)
        return Twin(memory, advance, real_time=False)
    fixture = "redis_server" if kind == "redis" else "redis_cluster"
    server: RedisProcess | RedisClusterProcess = request.getfixturevalue(fixture)
    store = RedisReactionStore(server.url, max_messages=MAX_MESSAGES, ttl=ttl)
    return Twin(store, lambda _: None, real_time=True, redis=store)


@pytest.fixture(params=["memory", "redis", "cluster"])
async def twin(request: pytest.FixtureRequest) -> AsyncIterator[Twin]:
    made = make(request.param, request, ttl=60.0)
    try:
        yield made
    finally:
        await made.store.close()


def new_room() -> str:
    return "r-" + secrets.token_hex(4)


async def test_one_of_each_reaction_per_person(twin: Twin) -> None:
    store, room = twin.store, new_room()
    t = await store.react(room, "m1", 1, "s-a", "hear_you")
    assert t == Tally("m1", 1, {"s-a": ("hear_you",)})
    await store.react(room, "m1", 1, "s-a", "hear_you")  # twice: still one
    await store.react(room, "m1", 1, "s-b", "hear_you")
    t = await store.react(room, "m1", 1, "s-a", "strength")
    assert t is not None
    assert t.counts() == {"hear_you": 2, "strength": 1}
    assert t.mine("s-a") == ("hear_you", "strength") and t.mine("s-c") == ()
    t = await store.react(room, "m1", 1, "s-a", "hear_you", undo=True)
    assert t is not None and t.counts() == {"hear_you": 1, "strength": 1}
    t = await store.react(room, "m1", 1, "s-c", "same_here", undo=True)  # never given
    assert t is not None and t.counts() == {"hear_you": 1, "strength": 1}


async def test_muted_reactors_are_hidden_from_the_viewer_only(twin: Twin) -> None:
    store, room = twin.store, new_room()
    for reactor in ("s-a", "s-b", "s-c"):
        await store.react(room, "m1", 7, reactor, "same_here")
    (t,) = await store.tallies(room)
    assert t.counts() == {"same_here": 3}
    assert t.counts(hidden={"s-b"}) == {"same_here": 2}
    assert t.counts(hidden={"s-a", "s-b", "s-c"}) == {}


async def test_taking_everything_back_leaves_nothing(twin: Twin) -> None:
    store, room = twin.store, new_room()
    await store.react(room, "m1", 1, "s-a", "thanks_for_sharing")
    t = await store.react(room, "m1", 1, "s-a", "thanks_for_sharing", undo=True)
    assert t == Tally("m1", 1, {})
    assert await store.tallies(room) == []
    await no_key_without_ttl(twin)


async def test_a_message_keeps_at_most_max_reactors(twin: Twin) -> None:
    store, room = twin.store, new_room()
    for i in range(MAX_REACTORS):
        assert await store.react(room, "m1", 1, f"s-{i}", "hear_you") is not None
    assert await store.react(room, "m1", 1, "s-late", "hear_you") is None
    # one already counted can still change theirs
    t = await store.react(room, "m1", 1, "s-0", "strength")
    assert t is not None and t.counts() == {"hear_you": MAX_REACTORS, "strength": 1}


async def test_a_room_keeps_the_newest_messages(twin: Twin) -> None:
    store, room = twin.store, new_room()
    for seq in range(10, 10 + MAX_MESSAGES + 2):
        await store.react(room, f"m{seq}", seq, "s-a", "hear_you")
    kept = await store.tallies(room)
    assert [t.seq for t in kept] == list(range(12, 12 + MAX_MESSAGES))
    assert [t.message for t in kept] == [f"m{s}" for s in range(12, 12 + MAX_MESSAGES)]
    # a reaction to a message older than every kept one is refused, and changes nothing
    assert await store.react(room, "m3", 3, "s-b", "hear_you") is None
    assert await store.tallies(room) == kept
    await no_key_without_ttl(twin)


async def test_rooms_are_apart_and_forget_drops_one(twin: Twin) -> None:
    store, one, two = twin.store, new_room(), new_room()
    await store.react(one, "m1", 1, "s-a", "hear_you")
    await store.react(two, "m1", 1, "s-a", "strength")
    await store.forget(one)
    assert await store.tallies(one) == []
    assert [t.counts() for t in await store.tallies(two)] == [{"strength": 1}]


async def test_concurrent_reactions_are_all_counted(twin: Twin) -> None:
    store, room = twin.store, new_room()
    await asyncio.gather(
        *(store.react(room, "m1", 1, f"s-{i}", REACTIONS[i % 4]) for i in range(40))
    )
    (t,) = await store.tallies(room)
    assert t.counts() == dict.fromkeys(REACTIONS, 10)


@pytest.mark.parametrize("kind", ["memory", "redis", "cluster"])
async def test_reactions_expire_with_the_history(kind: str, request: pytest.FixtureRequest) -> None:
    made = make(kind, request, ttl=0.05)
    try:
        room = new_room()
        await made.store.react(room, "m1", 1, "s-a", "hear_you")
        made.advance(1.0)
        if made.real_time:  # Redis checks a key's TTL on access, to the millisecond
            await asyncio.sleep(0.15)
        assert await made.store.tallies(room) == []
        await made.store.react(room, "m2", 2, "s-a", "strength")
        assert [t.message for t in await made.store.tallies(room)] == ["m2"]
    finally:
        await made.store.close()


async def no_key_without_ttl(twin: Twin) -> None:
    if twin.redis is None:
        return
    client = twin.redis._redis
    keys = [k async for k in client.scan_iter(match="cs:*:rx*")]
    for key in keys:
        assert await client.pttl(key) > 0, key


# --------------------------------------------------------------------------- model check


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["m1", "m2", "m3", "m4", "m5", "m6"]),
            st.sampled_from(["s-a", "s-b", "s-c"]),
            st.sampled_from(REACTIONS),
            st.booleans(),
        ),
        max_size=40,
    )
)
@settings(max_examples=200)
def test_memory_twin_matches_a_model(ops: list[tuple[str, str, str, bool]]) -> None:
    """Random gives and undos against a plain model: sets per (message, reactor), the
    newest MAX_MESSAGES messages (by seq) kept."""
    store = MemoryReactionStore(max_messages=MAX_MESSAGES, ttl=60, clock=Clock())
    model: dict[str, dict[str, set[str]]] = {}

    async def run() -> None:
        for message, reactor, reaction, undo in ops:
            seq = int(message[1:])
            got = await store.react("room", message, seq, reactor, reaction, undo=undo)
            trial = {m: {r: set(g) for r, g in v.items()} for m, v in model.items()}
            mine = trial.setdefault(message, {}).setdefault(reactor, set())
            (mine.discard if undo else mine.add)(reaction)
            trial = {m: {r: g for r, g in v.items() if g} for m, v in trial.items()}
            trial = {m: v for m, v in trial.items() if v}
            newest = sorted(trial, key=lambda m: int(m[1:]))[-MAX_MESSAGES:]
            trial = {m: trial[m] for m in newest}
            if trial.get(message) is None and mine:
                assert got is None  # too old for a full room: nothing changed
                continue
            model.clear()
            model.update(trial)
            assert got is not None
            assert got.counts() == Tally(message, seq, {}).counts() | {
                r: sum(1 for g in model.get(message, {}).values() if r in g)
                for r in REACTIONS
                if any(r in g for g in model.get(message, {}).values())
            }
        tallies = await store.tallies("room")
        assert [t.message for t in tallies] == sorted(model, key=lambda m: int(m[1:]))
        for t in tallies:
            assert {r: set(g) for r, g in t.given.items()} == model[t.message]

    asyncio.run(run())
