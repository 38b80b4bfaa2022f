"""Issue 16, item 5: absent seekers in the queue. A seeker whose connection dropped while
waiting keeps their place for the resume grace, but is not there: they are not counted
in others' positions nor in the console's "waiting" (shown as reconnecting), and
"accept next" skips them, until they come back. On one node (memory) and across two
nodes sharing Redis (the dropped seeker on another node than the listener)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.faults.kit import Frame, Peer, close_all, listener, nodes, resume
from tests.helpers.procs import RedisProcess


def _grief(frame: Frame, waiting: int, reconnecting: int | None) -> bool:
    """A ``queue_status`` whose grief queue shows these counts."""
    return frame["type"] == "queue_status" and any(
        q["topic"] == "grief" and q["waiting"] == waiting and q.get("reconnecting") == reconnecting
        for q in frame["queues"]
    )


@pytest.fixture(params=["memory", "redis"])
def two_urls(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """Where the first seeker waits, and where everyone else is (the same node on memory)."""
    if request.param == "memory":
        with nodes(1) as (node,):
            yield node.url, node.url
        return
    redis: RedisProcess = request.getfixturevalue("redis")
    with nodes(2, redis=redis) as started:
        a, b = started
        yield a.url, b.url


async def test_a_dropped_seeker_keeps_their_place_but_is_skipped_until_back(
    two_urls: tuple[str, str],
) -> None:
    url_a, url_b = two_urls
    first = await Peer.open(url_a)
    second = await Peer.open(url_b)
    peers: list[Peer] = [first, second]
    try:
        assert (await first.request_support("grief"))["position"] == 1
        assert (await second.request_support("grief"))["position"] == 2
        sam = await listener(url_b, capacity=0)  # watching the queues, not yet taking chats
        peers.append(sam)
        await sam.expect(lambda f: _grief(f, 2, None), timeout=3)
        first.drop()  # their phone lost its connection
        moved_up = await second.expect("queue_position", timeout=3)
        assert moved_up["position"] == 1
        await sam.expect(lambda f: _grief(f, 1, 1), timeout=3)
        newcomer = await Peer.open(url_b)
        peers.append(newcomer)
        assert (await newcomer.request_support("grief"))["position"] == 2  # not 3
        listening = await sam.request({"type": "listen", "capacity": 1, "auto": False})
        assert listening["type"] == "listening", listening
        got = await sam.request({"type": "accept", "topic": "grief"})
        assert got["type"] == "paired" and got["peer"]["handle"] == second.handle, got
        await second.expect("paired", timeout=3)
        back_peer, back = await resume(url_a, first.token)
        peers.append(back_peer)
        assert back["type"] == "resumed", back
        position = await back_peer.expect("queue_position", timeout=3)
        assert position["position"] == 1  # still first in line
        await newcomer.expect("queue_position", position=2, timeout=3)  # behind them again
        await sam.expect(lambda f: _grief(f, 2, None), timeout=3)
    finally:
        await close_all(*peers)


async def test_accept_answers_when_the_only_seeker_is_reconnecting(
    two_urls: tuple[str, str],
) -> None:
    url_a, url_b = two_urls
    first = await Peer.open(url_a)
    peers: list[Peer] = [first]
    try:
        await first.request_support("grief")
        sam = await listener(url_b, capacity=0)
        peers.append(sam)
        first.drop()
        await sam.expect(lambda f: _grief(f, 0, 1), timeout=3)
        await sam.listen(capacity=1)  # auto: takes the next present seeker
        refused = await sam.request({"type": "accept", "topic": "grief"})
        assert refused["type"] == "error" and refused["code"] == "queue_empty", refused
        await sam.nothing("paired", within=1.0)  # auto matching skips them too
        back_peer, back = await resume(url_a, first.token)
        peers.append(back_peer)
        assert back["type"] == "resumed", back
        assert (await sam.expect("paired", timeout=3))["peer"]["handle"] == first.handle
        await back_peer.expect("paired", timeout=3)
    finally:
        await close_all(*peers)
