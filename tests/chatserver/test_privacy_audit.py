"""Privacy audit: a full scenario on two nodes and Redis, logs at debug level. No message
text, client address or token may appear in any log line, nor anywhere in Redis once the
rooms have closed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis

from chatserver.tokens import Claims, issue
from clients.client import ChatClient
from protocol.messages import (
    Auth,
    ChatEnded,
    Crisis,
    EndChat,
    Joined,
    Listen,
    Message,
    Notice,
    Paired,
    RequestSupport,
)
from tests.helpers.procs import RedisProcess, chatserver

SECRET = "privacy-audit-secret"
CRISIS = "i have the pills in front of me and i want to die tonight"
PII = "my number is +44 7700 900123 and i live at 12 Rosemary Lane"
SECRET_WORDS = ("pills in front of me", "7700 900123", "Rosemary", "quiet evening thought")


async def redis_dump(url: str) -> tuple[list[bytes], list[str]]:
    """Every key and every value in the Redis instance, as bytes."""
    client: Any = aioredis.from_url(url)
    dump: list[bytes] = []
    keys: list[str] = []
    try:
        async for key in client.scan_iter(count=500):
            keys.append(key.decode())
            dump.append(key)
            kind = (await client.type(key)).decode()
            if kind == "string":
                dump.append(await client.get(key) or b"")
            elif kind == "hash":
                for field, value in (await client.hgetall(key)).items():
                    dump += [field, value]
            elif kind == "list":
                dump += await client.lrange(key, 0, -1)
            elif kind == "set":
                dump += list(await client.smembers(key))
            elif kind == "zset":
                dump += await client.zrange(key, 0, -1)
    finally:
        await client.aclose()
    return dump, keys


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A Redis of this test's own: the audit scans every key, so no other test's."""
    server = RedisProcess().start()
    try:
        yield server
    finally:
        server.cleanup()


async def test_nothing_identifying_in_logs_or_redis(own_redis: RedisProcess) -> None:
    redis_server = own_redis
    args = ("--redis-url", redis_server.url, "--listener-secret", SECRET, "--log-level", "debug")
    token = issue(Claims("l-77", "Sam", ("grief",), int(time.time()) + 600), SECRET)
    with chatserver(*args) as node_a, chatserver(*args) as node_b:
        seeker = ChatClient(node_a.url, fallback_urls=(node_b.url,))
        sam = ChatClient(node_b.url)
        group = ChatClient(node_b.url)
        for c in (seeker, sam, group):
            await c.connect()
        resume_tokens = [seeker.resume_token, sam.resume_token, group.resume_token]
        try:
            await sam.request(Auth(token=token, ref="a"))
            await sam.request(Listen(capacity=1, ref="l"))
            await seeker.request(RequestSupport(topic="grief", ref="r"))
            paired = await seeker.recv_until(Paired, timeout=10)
            await seeker.recv_until(Joined, timeout=10)
            await seeker.say(paired.room, CRISIS)
            await seeker.recv_until(Crisis, timeout=10)
            await seeker.say(paired.room, PII)
            await seeker.recv_until(Notice, timeout=10)
            assert seeker._ws is not None
            seeker._ws.transport.abort()  # resume on another connection
            await sam.say(paired.room, "a quiet evening thought")
            # the seeker's own last message may still be queued ahead of sam's (its echo
            # and the redaction notice race): wait for sam's, which needs the resume
            while (await seeker.recv_until(Message, timeout=10)).text != "a quiet evening thought":
                pass
            assert seeker.resumes == 1
            resume_tokens.append(seeker.resume_token)
            await group.join("grief")
            await group.say("grief", "a quiet evening thought, shared")
            await sam.request(EndChat(room=paired.room, ref="e"))
            await seeker.recv_until(ChatEnded, timeout=10)
        finally:
            for c in (seeker, sam, group):
                await c.close()
        # the nodes finish their leave bookkeeping asynchronously: poll, with a deadline
        async with asyncio.timeout(15):
            while True:
                dump, keys = await redis_dump(redis_server.url)
                left = [k for k in keys if k.startswith("sess:") or "grief" in k or "p-" in k]
                if not left:
                    break
                await asyncio.sleep(0.1)
        node_a.stop()
        node_b.stop()
    logs = "".join(node_a.lines + node_b.lines)
    assert '"debug"' in logs and "paired" in logs  # the audit really saw debug logs
    redis_text = b"\n".join(dump).decode("utf-8", "replace")
    for needle in (*SECRET_WORDS, token, *(t for t in resume_tokens if t), "127.0.0.1"):
        assert needle not in logs, needle
        assert needle not in redis_text, needle
    assert not any(k.startswith("sess:") for k in keys), "a session outlived its end"
    assert not [k for k in keys if "grief" in k or "p-" in k], "a closed room left state"
