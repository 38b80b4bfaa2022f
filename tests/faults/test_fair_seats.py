"""Issue 15, case 6: fair seats. A connection holds at most a few group seats (setting
``--seats-per-connection``, default 3); one address holds at most a share of a topic's
seats (``--address-topic-share``); a seat held for a dropped connection's grace does not
lock a room; a topic has room for a newcomer unless the node is at its global limit.
Addresses are told apart by X-Forwarded-For behind ``--trust-forwarded-for``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest

from tests.faults.kit import Peer, close_all, nodes, resume
from tests.helpers.procs import RedisProcess, ServerProcess

SQUATTER = {"X-Forwarded-For": "203.0.113.7"}
NEWCOMER = {"X-Forwarded-For": "198.51.100.9"}


@contextlib.contextmanager
def two_nodes(backend: str, redis: RedisProcess, *extra: str
              ) -> Iterator[tuple[ServerProcess, ServerProcess]]:  # fmt: skip
    if backend == "redis":
        with nodes(2, *extra, redis=redis) as (a, b):
            yield a, b
    else:
        with nodes(1, *extra) as (a,):
            yield a, a


async def _grab(peer: Peer, topic: str, tries: int) -> int:
    """Join ``topic`` again and again (each lands in its next room); seats held."""
    held = 0
    for _ in range(tries):
        reply = await peer.request({"type": "join", "room": topic}, timeout=20)
        if reply["type"] != "joined":
            break
        held += 1
    return held


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_connection_holds_at_most_three_group_seats(
    backend: str, redis: RedisProcess
) -> None:
    with two_nodes(backend, redis) as (a, _):
        peer = await Peer.open(a.url)
        try:
            for topic in ("anxiety", "grief", "depression"):
                await peer.join(topic)
            refused = await peer.request({"type": "join", "room": "loneliness"})
            assert refused["type"] == "error" and refused["code"] == "too_many_rooms", refused
            assert refused["message"]
            await peer.request({"type": "leave", "room": "grief"})
            await peer.join("loneliness")  # a seat given back can be used again
        finally:
            await peer.close()


async def test_one_address_cannot_squat_a_topic_a_newcomer_always_finds_a_seat() -> None:
    """25 connections from one address try to take every seat of a topic (room capacity 1:
    1,000 seats); a person from another address then still gets in."""
    extra = ("--trust-forwarded-for", "true", "--room-capacity", "1")
    with nodes(1, *extra) as (node,):
        squatters = await asyncio.gather(*(Peer.open(node.url, headers=SQUATTER)
                                           for _ in range(25)))  # fmt: skip
        peers = list(squatters)
        try:
            held = await asyncio.gather(*(_grab(p, "anxiety", 40) for p in squatters))
            assert max(held) <= 3, held
            newcomer = await Peer.open(node.url, headers=NEWCOMER)
            peers.append(newcomer)
            joined = await newcomer.request({"type": "join", "room": "anxiety"}, timeout=20)
            assert joined["type"] == "joined", joined
        finally:
            await close_all(*peers)


async def test_one_address_holds_at_most_its_share_of_a_topic() -> None:
    """20 seats in the topic (10 rooms of 2), a quarter for any one address: 5."""
    extra = ("--trust-forwarded-for", "true", "--room-capacity", "2",
             "--max-group-rooms", "10", "--address-topic-share", "0.25")  # fmt: skip
    with nodes(1, *extra) as (node,):
        squatters = [await Peer.open(node.url, headers=SQUATTER) for _ in range(4)]
        peers = list(squatters)
        try:
            held = [await _grab(p, "anxiety", 3) for p in squatters]
            assert sum(held) == 5, held
            other = await squatters[-1].request({"type": "join", "room": "grief"})
            assert other["type"] == "joined", other  # the share is per topic
            newcomer = await Peer.open(node.url, headers=NEWCOMER)
            peers.append(newcomer)
            assert (await newcomer.join("anxiety"))["type"] == "joined"
        finally:
            await close_all(*peers)


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_a_seat_held_for_a_dropped_connection_does_not_lock_the_room(
    backend: str, redis: RedisProcess
) -> None:
    """A room of two whose members both dropped (seats kept for their grace) still lets a
    newcomer in; a dropped member who comes back within the grace keeps their seat."""
    with two_nodes(backend, redis, "--room-capacity", "2") as (a, b):
        one, two = await Peer.open(a.url), await Peer.open(a.url)
        peers = [one, two]
        try:
            await one.join("anxiety-2")
            await two.join("anxiety-2")
            await asyncio.sleep(0.3)
            one.drop()
            two.drop()
            await asyncio.sleep(0.3)
            newcomer = await Peer.open(b.url)
            peers.append(newcomer)
            joined = await newcomer.request({"type": "join", "room": "anxiety-2"})
            assert joined["type"] == "joined", joined
            back_peer, back = await resume(b.url, one.token, {})
            peers.append(back_peer)
            assert back["type"] == "resumed" and "anxiety-2" in back["rooms"], back
        finally:
            await close_all(*peers)
