"""Issue 15, case 8: logs an operator can debug. An unexpected exception is logged with
its type and where it happened (file:line of the frames), never with message text or the
exception's message (which can quote data, as here)."""

from __future__ import annotations

import asyncio
import hashlib
import re

import msgpack

from tests.faults.kit import Peer, admin, close_all, nodes, resume
from tests.helpers.procs import RedisProcess

PRIVATE = "my private words 4711"
LOCATION = re.compile(r"[\w/.-]+\.py:\d+")


async def test_an_unexpected_exception_is_logged_with_type_and_location_only(
    redis: RedisProcess,
) -> None:
    """A session snapshot that cannot be read (damaged in Redis) makes ``resume`` fail
    inside the server with a ValueError whose message quotes the damaged value."""
    with nodes(2, redis=redis) as (a, b):
        person = await Peer.open(a.url)
        peers = [person]
        client = await admin(redis)
        try:
            await person.join("anxiety")
            await asyncio.sleep(0.3)
            assert (await person.say("anxiety", PRIVATE))["type"] == "ack"
            key = "sess:" + hashlib.sha256(person.token.encode()).hexdigest()[:40]
            assert await client.exists(key)
            damaged = {"id": "x", "handle": "h", "role": "seeker", "susp": PRIVATE}
            await client.set(key, msgpack.packb(damaged), px=30_000)
            back_peer, back = await resume(b.url, person.token, {})
            peers.append(back_peer)
            assert back["type"] == "error" and back["code"] == "internal", back
            await asyncio.sleep(0.3)
        finally:
            await client.aclose()
            await close_all(*peers)
        logs = b.lines + a.lines
    assert not [line for line in logs if PRIVATE in line]
    failures = [e for e in b.events() if e.get("level") in ("error", "critical")]
    assert failures, "the failure was not logged"
    line = str(failures[0])
    assert "ValueError" in line, line
    assert LOCATION.search(line), line
