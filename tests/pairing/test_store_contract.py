"""One stateful suite for every PairingStore twin: random arrivals, cancels, seekers
stepping away and coming back, listeners offering, withdrawing and changing capacity,
matches, accepts, confirmations and undos, ends and handovers; the invariants are checked
after every step. Nodes dying and the store losing its data: tests/pairing/test_nodes.py."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chatserver.pairing.base import (
    MATCH_SCAN,
    AlreadyWaiting,
    Pair,
    PairingStore,
    Tier,
    Waiting,
)
from chatserver.pairing.memory import MemoryPairingStore
from chatserver.pairing.redis import RedisPairingStore

TOPICS = ("grief", "anxiety")
LISTENERS = ("L1", "L2", "L3")
StoreFactory = Callable[[], PairingStore]


def make_machine(factory: StoreFactory) -> type[RuleBasedStateMachine]:
    class PairingMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.loop = asyncio.new_event_loop()
            self.store = factory()
            self.clock = itertools.count(1)
            self.seekers = itertools.count()
            self.rooms = itertools.count()
            self.waiting: dict[str, Waiting] = {}  # model: who should be waiting
            self.paired_seekers: set[str] = set()
            self.pairs: dict[str, Pair] = {}
            self.listeners: dict[str, int] = {}  # listener -> capacity
            self.offers: dict[str, tuple[tuple[str, ...], bool]] = {}  # -> (topics, auto)
            self.avoided: dict[str, tuple[str, ...]] = {}  # pair room -> seeker's avoid
            self.away: set[str] = set()  # waiting seekers whose connection is down
            self.offered: dict[str, Waiting] = {}  # unconfirmed pair room -> seeker's place

        def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
            return self.loop.run_until_complete(coro)

        def teardown(self) -> None:
            close = getattr(self.store, "aclose", None)
            if close is not None:
                self.run(close())
            self.loop.close()

        def now(self) -> float:
            return float(next(self.clock))

        @rule(
            topic=st.sampled_from(TOPICS),
            at_risk=st.booleans(),
            avoid=st.lists(st.sampled_from(LISTENERS), max_size=2, unique=True) | st.just([]),
        )
        def arrive(self, topic: str, at_risk: bool, avoid: list[str]) -> None:
            seeker = f"s{next(self.seekers)}"
            tier = Tier.AT_RISK if at_risk else Tier.NORMAL
            waiting = Waiting(seeker, topic, "n1", seeker.upper(), self.now(), tier, tuple(avoid))
            position = self.run(self.store.enqueue(waiting))
            assert position >= 1
            self.waiting[seeker] = waiting
            with pytest.raises(AlreadyWaiting):
                self.run(self.store.enqueue(waiting))

        @precondition(lambda self: self.waiting)
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            seeker = data.draw(st.sampled_from(sorted(self.waiting)))
            removed = self.run(self.store.cancel(seeker))
            assert removed is not None and removed.seeker == seeker
            assert removed.avoid == self.waiting[seeker].avoid
            del self.waiting[seeker]
            self.away.discard(seeker)
            assert self.run(self.store.cancel(seeker)) is None
            assert self.run(self.store.set_away(seeker, True)) is None  # not waiting

        @precondition(lambda self: self.waiting)
        @rule(data=st.data(), away=st.booleans())
        def step_away(self, data: st.DataObject, away: bool) -> None:
            """A waiting seeker's connection drops (or comes back): they keep their place
            but are absent."""
            seeker = data.draw(st.sampled_from(sorted(self.waiting)))
            assert self.run(self.store.set_away(seeker, away)) == self.waiting[seeker].topic
            (self.away.add if away else self.away.discard)(seeker)

        @precondition(lambda self: self.waiting)
        @rule(data=st.data())
        def mark_at_risk(self, data: st.DataObject) -> None:
            seeker = data.draw(st.sampled_from(sorted(self.waiting)))
            self.run(self.store.mark_at_risk(seeker))
            w = self.waiting[seeker]
            if w.tier == Tier.NORMAL:
                self.waiting[seeker] = Waiting(
                    w.seeker, w.topic, w.node, w.handle, w.since, Tier.AT_RISK, w.avoid
                )

        @rule(
            listener=st.sampled_from(LISTENERS),
            capacity=st.integers(0, 3),
            topics=st.lists(st.sampled_from(TOPICS), min_size=1, unique=True),
            auto=st.booleans(),
        )
        def offer(self, listener: str, capacity: int, topics: list[str], auto: bool) -> None:
            seat = self.run(
                self.store.offer(
                    listener, node="n2", name=listener, topics=topics, capacity=capacity, auto=auto
                )
            )
            assert seat.capacity == capacity
            self.listeners[listener] = capacity
            self.offers[listener] = (tuple(topics), auto)

        @precondition(lambda self: self.listeners)
        @rule(data=st.data())
        def withdraw(self, data: st.DataObject) -> None:
            listener = data.draw(st.sampled_from(sorted(self.listeners)))
            gone = self.run(self.store.withdraw(listener))
            for pair in gone:
                assert pair.listener == listener
                del self.pairs[pair.room]
                self.offered.pop(pair.room, None)
            assert not any(p.listener == listener for p in self.pairs.values())
            del self.listeners[listener]
            del self.offers[listener]

        def _took(self, pair: Pair | None) -> None:
            if pair is None:
                return
            assert pair.seeker in self.waiting, "paired a seeker that was not waiting"
            assert pair.seeker not in self.paired_seekers, "seeker paired twice"
            assert pair.listener not in self.waiting[pair.seeker].avoid, "paired with avoided"
            assert pair.at_risk == (self.waiting[pair.seeker].tier == Tier.AT_RISK)
            assert pair.seeker not in self.away, "paired an absent seeker"
            self.avoided[pair.room] = self.waiting[pair.seeker].avoid
            self.offered[pair.room] = self.waiting[pair.seeker]
            del self.waiting[pair.seeker]
            self.paired_seekers.add(pair.seeker)
            self.pairs[pair.room] = pair
            self.assert_within_capacity(pair.listener)

        def assert_within_capacity(self, listener: str) -> None:
            """A new pair never takes a listener past its capacity at that moment."""
            held = sum(1 for p in self.pairs.values() if p.listener == listener)
            assert held <= self.listeners[listener], "listener pushed over capacity"

        def queue(self, topic: str) -> list[Waiting]:
            """Everyone waiting on ``topic``, absent ones included, first in line first."""
            waiting = [w for w in self.waiting.values() if w.topic == topic]
            return sorted(waiting, key=lambda w: (w.tier, w.since))

        def line(self, topic: str) -> list[Waiting]:
            """The first MATCH_SCAN present seekers of ``topic``, first in line first."""
            return [w for w in self.queue(topic) if w.seeker not in self.away][:MATCH_SCAN]

        def free(self, listener: str, topic: str) -> bool:
            topics, auto = self.offers[listener]
            held = sum(1 for p in self.pairs.values() if p.listener == listener)
            return auto and topic in topics and held < self.listeners[listener]

        @rule(topic=st.sampled_from(TOPICS))
        def match(self, topic: str) -> None:
            room = f"p{next(self.rooms)}"
            expected = None
            for w in self.line(topic):
                if any(self.free(x, topic) for x in self.listeners if x not in w.avoid):
                    expected = w
                    break
                if not w.avoid:
                    break
            pair = self.run(self.store.match(topic, room, self.now()))
            assert (pair and pair.seeker) == (expected and expected.seeker), "wrong seeker"
            self._took(pair)

        @precondition(lambda self: self.listeners)
        @rule(data=st.data(), topic=st.none() | st.sampled_from(TOPICS))
        def accept(self, data: st.DataObject, topic: str | None) -> None:
            listener = data.draw(st.sampled_from(sorted(self.listeners)))
            seat = self.run(self.store.seat(listener))
            assert seat is not None
            topics = [topic] if topic is not None and topic in seat.topics else list(seat.topics)
            heads = [
                next((w for w in self.line(t) if listener not in w.avoid), None) for t in topics
            ]
            willing = [w for w in heads if w is not None]
            expected = min(willing, key=lambda w: (w.tier, w.since), default=None)
            if seat.active >= seat.capacity:
                expected = None
            pair = self.run(self.store.accept(listener, topic, f"p{next(self.rooms)}", self.now()))
            assert (pair and pair.seeker) == (expected and expected.seeker), "wrong seeker"
            if pair is not None:
                assert pair.listener == listener
                self._took(pair)

        @precondition(lambda self: self.pairs)
        @rule(data=st.data())
        def end(self, data: st.DataObject) -> None:
            room = data.draw(st.sampled_from(sorted(self.pairs)))
            pair = self.run(self.store.end(room))
            assert pair is not None and pair.seeker == self.pairs[room].seeker
            del self.pairs[room]
            self.offered.pop(room, None)
            assert self.run(self.store.end(room)) is None  # only the first caller gets it
            assert self.run(self.store.confirm(room)) is False  # ended: never seated

        @precondition(lambda self: self.pairs)
        @rule(data=st.data())
        def confirm(self, data: st.DataObject) -> None:
            """The seeker's node seated the seeker: the pair can no longer be undone."""
            room = data.draw(st.sampled_from(sorted(self.pairs)))
            assert self.run(self.store.confirm(room)) is True
            self.offered.pop(room, None)
            assert self.run(self.store.undo(room)) is None

        @precondition(lambda self: self.pairs)
        @rule(data=st.data())
        def undo(self, data: st.DataObject) -> None:
            """The seeker's connection was down when the pair reached their node: the
            seat is free again and they are back at their place, absent."""
            room = data.draw(st.sampled_from(sorted(self.pairs)))
            place = self.offered.pop(room, None)
            back = self.run(self.store.undo(room))
            if place is None:
                assert back is None, "undid a confirmed pair"
                return
            assert back == place, "the seeker lost their place"
            del self.pairs[room]
            self.paired_seekers.discard(place.seeker)
            self.waiting[place.seeker] = place
            self.away.add(place.seeker)
            assert self.run(self.store.pair_of(room)) is None

        @precondition(lambda self: self.pairs)
        @rule(data=st.data())
        def handover(self, data: st.DataObject) -> None:
            room = data.draw(st.sampled_from(sorted(self.pairs)))
            before = self.pairs[room]
            moved = self.run(self.store.handover(room))
            if moved is not None:
                self.offered.pop(room, None)  # only a seated listener hands over
                self.run(self.store.confirm(room))
                assert moved.listener != before.listener and moved.seeker == before.seeker
                assert moved.listener not in self.avoided[room], "handed to an avoided one"
                self.pairs[room] = moved
                self.assert_within_capacity(moved.listener)

        @invariant()
        def seats_agree_with_pairs(self) -> None:
            for listener, capacity in self.listeners.items():
                seat = self.run(self.store.seat(listener))
                assert seat is not None
                held = sum(1 for p in self.pairs.values() if p.listener == listener)
                assert seat.active == held, "seat count disagrees with pairs"
                assert seat.capacity == capacity

        @invariant()
        def no_seeker_lost_and_order_kept(self) -> None:
            for topic in TOPICS:
                queue = self.run(self.store.waiting(topic))
                expected = self.queue(topic)
                assert [w.seeker for w in queue] == [w.seeker for w in expected]
                present = [w.seeker for w in expected if w.seeker not in self.away]
                assert self.run(self.store.order(topic)) == present
                for w in queue:  # 1 + the present seekers ahead
                    ahead = sum(1 for x in expected[: expected.index(w)] if x.seeker in present)
                    assert self.run(self.store.position(w.seeker)) == (topic, ahead + 1)
                (info,) = self.run(self.store.queues([topic]))
                assert (info.waiting, info.away) == (len(present), len(queue) - len(present))
                oldest = min((w.since for w in expected if w.seeker in present), default=None)
                assert info.oldest_since == oldest

        @invariant()
        def pairs_visible(self) -> None:
            for room, pair in self.pairs.items():
                assert self.run(self.store.pair_of(room)) == pair

    return PairingMachine


SETTINGS = settings(max_examples=150, stateful_step_count=40, deadline=None)
REDIS_SETTINGS = settings(max_examples=25, stateful_step_count=30, deadline=None)

MemoryMachine = make_machine(MemoryPairingStore)
MemoryMachine.TestCase.settings = SETTINGS
TestMemoryPairingStore = MemoryMachine.TestCase

URLS: dict[str, str] = {}


def redis_store(kind: str) -> StoreFactory:
    """A fresh Redis store per example: the pairing keys are deleted first."""

    def factory() -> PairingStore:
        store = RedisPairingStore(URLS[kind])

        async def wipe() -> None:
            # a script routed by the tag runs on the shard that holds every pairing key
            wipe_all = (
                "for _, k in ipairs(redis.call('KEYS', '{pairing}*')) do redis.call('DEL', k) end"
            )
            await store._redis.eval(wipe_all, 1, "{pairing}:route")

        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(wipe())
            loop.run_until_complete(store.aclose())
        finally:
            loop.close()
        return RedisPairingStore(URLS[kind])

    return factory


@pytest.fixture(autouse=True)
def _redis_urls(request: pytest.FixtureRequest) -> None:
    name = request.node.nodeid
    if "Standalone" in name:
        URLS["standalone"] = request.getfixturevalue("redis_server").url
    elif "Cluster" in name:
        URLS["cluster"] = request.getfixturevalue("redis_cluster").url


StandaloneMachine = make_machine(redis_store("standalone"))
StandaloneMachine.TestCase.settings = REDIS_SETTINGS
TestRedisStandalonePairingStore = StandaloneMachine.TestCase

ClusterMachine = make_machine(redis_store("cluster"))
ClusterMachine.TestCase.settings = REDIS_SETTINGS
TestRedisClusterPairingStore = ClusterMachine.TestCase
