"""One stateful suite for every PairingStore twin: random arrivals in two languages,
cancels, "any listener now" choices, seekers stepping away and coming back, listeners
offering (with their languages), withdrawing and changing capacity, matches, accepts,
confirmations and undos, ends and handovers; the invariants are checked after every
step. The model's rules are written here independently of the stores: who may take whom,
who goes first (present seekers only), which listener is chosen. Nodes dying and the
store losing its data: tests/pairing/test_nodes.py."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from dataclasses import replace
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from chatserver.pairing.base import (
    ANY,
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
LANGUAGES = ("en", "es")
StoreFactory = Callable[[], PairingStore]


def rank(w: Waiting) -> tuple[int, float]:
    """Queue order: tier, then arrival."""
    return int(w.tier), w.since


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
            self.speaks: dict[str, tuple[str, ...]] = {}  # listener -> languages
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
            """Wall-clock-sized times (scores near 2**48 catch lost digits in Lua), in
            eighths of a second: exact in binary and in milliseconds."""
            return 1_700_000_000 + next(self.clock) / 8

        @rule(
            topic=st.sampled_from(TOPICS),
            at_risk=st.booleans(),
            avoid=st.lists(st.sampled_from(LISTENERS), max_size=2, unique=True) | st.just([]),
            language=st.sampled_from(LANGUAGES),
            need=st.sampled_from([None, "listen", "ideas"]),
            any_language=st.booleans(),
        )
        def arrive(
            self,
            topic: str,
            at_risk: bool,
            avoid: list[str],
            language: str,
            need: str | None,
            any_language: bool,
        ) -> None:
            seeker = f"s{next(self.seekers)}"
            tier = Tier.AT_RISK if at_risk else Tier.NORMAL
            waiting = Waiting(
                seeker, topic, "n1", seeker.upper(), self.now(), tier, tuple(avoid),
                language=language, need=need, any_language=any_language,
            )  # fmt: skip
            position = self.run(self.store.enqueue(waiting))
            ahead = [w for w in self.present() if w.topic == topic]
            assert position == 1 + sum(1 for w in ahead if rank(w) < rank(waiting))
            self.waiting[seeker] = waiting
            with pytest.raises(AlreadyWaiting):
                self.run(self.store.enqueue(waiting))

        @precondition(lambda self: self.waiting)
        @rule(data=st.data())
        def choose_any(self, data: st.DataObject) -> None:
            seeker = data.draw(st.sampled_from(sorted(self.waiting)))
            changed = self.run(self.store.choose_any(seeker))
            assert changed == (not self.waiting[seeker].any_language)
            self.waiting[seeker] = replace(self.waiting[seeker], any_language=True)
            assert not self.run(self.store.choose_any(seeker))

        @precondition(lambda self: self.waiting)
        @rule(data=st.data())
        def cancel(self, data: st.DataObject) -> None:
            seeker = data.draw(st.sampled_from(sorted(self.waiting)))
            removed = self.run(self.store.cancel(seeker))
            assert removed == self.waiting[seeker]
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
                self.waiting[seeker] = replace(w, tier=Tier.AT_RISK)

        @rule(
            listener=st.sampled_from(LISTENERS),
            capacity=st.integers(0, 3),
            topics=st.lists(st.sampled_from(TOPICS), min_size=1, unique=True),
            auto=st.booleans(),
            languages=st.lists(st.sampled_from(LANGUAGES), min_size=1, unique=True),
        )
        def offer(
            self, listener: str, capacity: int, topics: list[str], auto: bool, languages: list[str]
        ) -> None:
            seat = self.run(
                self.store.offer(
                    listener,
                    node="n2",
                    name=listener,
                    topics=topics,
                    capacity=capacity,
                    auto=auto,
                    languages=languages,
                )
            )
            assert seat.capacity == capacity and seat.languages == tuple(languages)
            self.listeners[listener] = capacity
            self.offers[listener] = (tuple(topics), auto)
            self.speaks[listener] = tuple(languages)

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
            del self.speaks[listener]

        def _took(self, pair: Pair | None) -> None:
            if pair is None:
                return
            assert pair.seeker in self.waiting, "paired a seeker that was not waiting"
            assert pair.seeker not in self.paired_seekers, "seeker paired twice"
            assert pair.seeker not in self.away, "paired an absent seeker"
            w = self.waiting[pair.seeker]
            assert self.eligible(pair.listener, w), "paired with avoided or another language"
            assert pair.at_risk == (w.tier == Tier.AT_RISK)
            assert (pair.language, pair.need) == (w.language, w.need)
            assert pair.shared == (w.language in self.speaks[pair.listener])
            self.assert_nobody_passed_over(pair.listener, w)
            self.avoided[pair.room] = w.avoid
            self.offered[pair.room] = w
            del self.waiting[pair.seeker]
            self.paired_seekers.add(pair.seeker)
            self.pairs[pair.room] = pair
            self.assert_within_capacity(pair.listener)

        def assert_within_capacity(self, listener: str) -> None:
            """A new pair never takes a listener past its capacity at that moment."""
            held = sum(1 for p in self.pairs.values() if p.listener == listener)
            assert held <= self.listeners[listener], "listener pushed over capacity"

        def assert_nobody_passed_over(self, listener: str, taken: Waiting) -> None:
            """Nobody within reach (the scanned head of their line) who writes in the same
            language and comes first in queue order could have had this listener."""
            for w in self.window(taken.topic):
                if w.language == taken.language and rank(w) < rank(taken):
                    assert not self.eligible(listener, w), f"{w.seeker} passed over"

        def present(self) -> list[Waiting]:
            """The waiting seekers whose connection is up."""
            return [w for w in self.waiting.values() if w.seeker not in self.away]

        def queue(self, topic: str) -> list[Waiting]:
            """Everyone waiting on ``topic``, absent ones included, first in line first."""
            return sorted((w for w in self.waiting.values() if w.topic == topic), key=rank)

        def lines(self, topic: str) -> dict[str, list[Waiting]]:
            """The first MATCH_SCAN present seekers of each line of ``topic``, first in
            line first."""
            out: dict[str, list[Waiting]] = {}
            for w in self.present():
                if w.topic == topic:
                    out.setdefault(ANY if w.any_language else w.language, []).append(w)
            return {k: sorted(v, key=rank)[:MATCH_SCAN] for k, v in out.items()}

        def window(self, topic: str) -> list[Waiting]:
            return [w for line in self.lines(topic).values() for w in line]

        def eligible(self, listener: str, w: Waiting) -> bool:
            """May ``w`` talk with ``listener`` (capacity aside)?"""
            if listener in w.avoid or w.topic not in self.offers[listener][0]:
                return False
            return w.any_language or w.language in self.speaks[listener]

        def held(self, listener: str) -> int:
            return sum(1 for p in self.pairs.values() if p.listener == listener)

        def free(self, listener: str, topic: str) -> bool:
            topics, auto = self.offers[listener]
            return auto and topic in topics and self.held(listener) < self.listeners[listener]

        def best_listener(self, candidates: list[str], language: str) -> str:
            """A speaker of ``language`` first, then the least loaded, then the smallest id."""
            return min(
                candidates,
                key=lambda x: (
                    language not in self.speaks[x],
                    Fraction(self.held(x), self.listeners[x]),
                    x,
                ),
            )

        @rule(topic=st.sampled_from(TOPICS))
        def match(self, topic: str) -> None:
            room = f"p{next(self.rooms)}"
            heads = []
            for line in self.lines(topic).values():
                for w in line:
                    if any(self.free(x, topic) and self.eligible(x, w) for x in self.listeners):
                        heads.append(w)
                        break
                    if not w.avoid:
                        break
            expected = min(heads, key=rank, default=None)
            listener = None
            if expected is not None:
                able = [
                    x for x in self.listeners if self.free(x, topic) and self.eligible(x, expected)
                ]
                listener = self.best_listener(able, expected.language)
            pair = self.run(self.store.match(topic, room, self.now()))
            assert (pair and pair.seeker) == (expected and expected.seeker), "wrong seeker"
            assert (pair and pair.listener) == listener, "wrong listener"
            if pair is None:
                self.assert_nobody_starved(topic)
            self._took(pair)

        def assert_nobody_starved(self, topic: str) -> None:
            """After a match found nobody, no seeker within reach could have been paired:
            in particular one who chose "any listener" waits only while no listener of the
            topic (that they do not avoid) has a free seat."""
            for w in self.window(topic):
                for x in self.listeners:
                    assert not (self.free(x, topic) and self.eligible(x, w)), f"{w.seeker} starved"

        @precondition(lambda self: self.listeners)
        @rule(data=st.data(), topic=st.none() | st.sampled_from(TOPICS))
        def accept(self, data: st.DataObject, topic: str | None) -> None:
            listener = data.draw(st.sampled_from(sorted(self.listeners)))
            seat = self.run(self.store.seat(listener))
            assert seat is not None
            topics = [topic] if topic is not None and topic in seat.topics else list(seat.topics)
            heads = [
                next((w for w in line if self.eligible(listener, w)), None)
                for t in topics
                for line in self.lines(t).values()
            ]
            willing = [w for w in heads if w is not None]
            expected = min(willing, key=rank, default=None)
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
            seat is free again and they are back at their place (their line, tier and
            arrival, language, need and choice), absent."""
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
            able = [
                x
                for x in self.listeners
                if x != before.listener
                and self.free(x, before.topic)
                and x not in self.avoided[room]
                and (before.language in self.speaks[x] or not before.shared)
            ]
            moved = self.run(self.store.handover(room))
            if not able:
                assert moved is None
                return
            assert moved is not None and moved.seeker == before.seeker
            self.offered.pop(room, None)  # only a seated listener hands over
            assert self.run(self.store.confirm(room)) is True
            assert moved.listener == self.best_listener(able, before.language)
            assert moved.shared == (before.language in self.speaks[moved.listener])
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
                assert queue == expected
                present = [w.seeker for w in expected if w.seeker not in self.away]
                assert self.run(self.store.order(topic)) == present
                for w in queue:  # 1 + the present seekers ahead
                    ahead = sum(1 for x in expected[: expected.index(w)] if x.seeker in present)
                    assert self.run(self.store.position(w.seeker)) == (topic, ahead + 1)

        @invariant()
        def queue_status_per_topic_and_language(self) -> None:
            for q in self.run(self.store.queues(TOPICS)):
                mine = [w for w in self.present() if w.topic == q.topic]
                risky = [w for w in mine if w.tier == Tier.AT_RISK]
                assert (q.waiting, q.at_risk) == (len(mine), len(risky))
                assert q.away == len(self.queue(q.topic)) - len(mine)
                assert q.oldest_since == min((w.since for w in mine), default=None)
                expected = []
                for language in sorted({w.language for w in mine}):
                    some = [w for w in mine if w.language == language]
                    expected.append(
                        (
                            language,
                            len(some),
                            min(w.since for w in some),
                            sum(1 for w in some if w.tier == Tier.AT_RISK),
                        )
                    )
                got = [(x.language, x.waiting, x.oldest_since, x.at_risk) for x in q.languages]
                assert got == expected

        @invariant()
        def languages_on_duty(self) -> None:
            for topic in TOPICS:
                spoken = {
                    language
                    for x, capacity in self.listeners.items()
                    if capacity > 0 and topic in self.offers[x][0]
                    for language in self.speaks[x]
                }
                assert self.run(self.store.languages_on_duty(topic)) == tuple(sorted(spoken))

        @invariant()
        def every_key_expires(self) -> None:
            if isinstance(self.store, RedisPairingStore):
                assert self.run(keys_without_ttl(self.store)) == []

        @invariant()
        def pairs_visible(self) -> None:
            for room, pair in self.pairs.items():
                assert self.run(self.store.pair_of(room)) == pair

    return PairingMachine


async def keys_without_ttl(store: RedisPairingStore) -> list[bytes]:
    """The pairing keys with no TTL (on the shard that holds them all)."""
    script = (
        "local out = {} for _, k in ipairs(redis.call('KEYS', '{pairing}*')) do "
        "if redis.call('PTTL', k) < 0 then out[#out + 1] = k end end return out"
    )
    found: list[bytes] = await store._redis.eval(script, 1, "{pairing}:route")
    return found


SETTINGS = settings(max_examples=150, stateful_step_count=40, deadline=None)
REDIS_SETTINGS = settings(max_examples=60, stateful_step_count=30, deadline=None)

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
