"""One-to-one support and group rooms through a real server: queues, pairing, ending,
requeue, handover, priority for seekers at risk, listener sign-in."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import pytest

from chatserver.app import ChatServer
from chatserver.tokens import Claims, issue, verify
from clients.client import ChatClient, ChatError
from protocol.messages import (
    Accept,
    Auth,
    Authed,
    CancelSupport,
    ChatEnded,
    EndChat,
    Handover,
    Joined,
    Listen,
    Listening,
    Message,
    Notice,
    Paired,
    QueueLeft,
    QueuePosition,
    QueueStatus,
    RequestSupport,
)
from tests.conftest import running, url_of

SECRET = "test-secret-for-listener-tokens"


def token(
    lid: str = "l-1",
    name: str = "Sam",
    topics: tuple[str, ...] = ("grief", "anxiety"),
    ttl: int = 3600,
    role: str = "listener",
) -> str:
    return issue(Claims(lid, name, topics, int(time.time()) + ttl, role), SECRET)


@pytest.fixture
async def srv() -> AsyncIterator[ChatServer]:
    async with running(listener_secret=SECRET, resume_grace=0.5) as server:
        yield server


async def listener(
    server: ChatServer, name: str = "Sam", capacity: int = 1, auto: bool = True, lid: str = "l-1"
) -> ChatClient:
    client = ChatClient(url_of(server), auto_resume=False)
    await client.connect()
    authed = await client.request(Auth(token=token(lid, name), ref=client.ref()))
    assert isinstance(authed, Authed) and authed.display_name == name
    listening = await client.request(Listen(capacity=capacity, auto=auto, ref=client.ref()))
    assert isinstance(listening, Listening)
    return client


async def seeker(server: ChatServer, topic: str = "grief") -> tuple[ChatClient, QueuePosition]:
    client = ChatClient(url_of(server), auto_resume=False)
    await client.connect()
    position = await client.request(RequestSupport(topic=topic, ref=client.ref()))
    assert isinstance(position, QueuePosition)
    return client, position


async def test_seeker_and_listener_are_paired_and_talk(srv: ChatServer) -> None:
    s, position = await seeker(srv)
    assert position.position == 1
    sam = await listener(srv)
    try:
        paired_s = await s.recv_until(Paired)
        paired_l = await sam.recv_until(Paired)
        assert paired_s.room == paired_l.room and paired_s.room.startswith("p-")
        assert (paired_s.peer.handle, paired_s.peer.role) == ("Sam", "listener")
        assert paired_l.peer.role == "seeker"
        joined = await s.recv_until(Joined)
        await sam.recv_until(Joined)
        await s.say(joined.room, "thank you for being here")
        message = await sam.recv_until(Message)
        assert (message.text, message.role) == ("thank you for being here", "seeker")
        await sam.say(joined.room, "I'm here. Take your time.")
        reply = await s.recv_until(Message)
        while reply.role != "listener":
            reply = await s.recv_until(Message)
        assert (reply.handle, reply.text) == ("Sam", "I'm here. Take your time.")
        mine = await s.request(EndChat(room=joined.room, ref="end"))
        assert isinstance(mine, ChatEnded) and mine.reason == "ended_by_seeker"
        ended = await sam.recv_until(ChatEnded)
        assert ended.reason == "ended_by_seeker"
        assert await srv.broker.last_seq(joined.room) == 0  # room and history deleted
    finally:
        await s.close()
        await sam.close()


async def test_positions_update_and_cancel(srv: ChatServer) -> None:
    first, p1 = await seeker(srv)
    second, p2 = await seeker(srv)
    try:
        assert (p1.position, p2.position) == (1, 2)
        left = await first.request(CancelSupport(ref="c"))
        assert isinstance(left, QueueLeft) and left.reason == "cancelled"
        update = await second.recv_until(QueuePosition)
        assert update.position == 1
        with pytest.raises(ChatError) as info:
            await first.request(CancelSupport(ref="c2"))
        assert info.value.code == "not_waiting"
    finally:
        await first.close()
        await second.close()


async def test_fifo_and_listener_capacity(srv: ChatServer) -> None:
    seekers = [await seeker(srv) for _ in range(3)]
    sam = await listener(srv, capacity=2)
    try:
        rooms = [(await sam.recv_until(Paired)).room for _ in range(2)]
        got = [await c.recv_until(Paired, timeout=2) for c, _ in seekers[:2]]
        assert sorted(p.room for p in got) == sorted(rooms)
        status = await sam.recv_until(QueueStatus)
        assert any(q.topic == "grief" for q in status.queues)
        with pytest.raises(TimeoutError):  # the third waits: Sam is at capacity
            await seekers[2][0].recv_until(Paired, timeout=0.5)
        assert isinstance(await sam.request(EndChat(room=rooms[0], ref="e")), ChatEnded)
        third = await seekers[2][0].recv_until(Paired, timeout=5)
        assert third.peer.handle == "Sam"
    finally:
        for c, _ in seekers:
            await c.close()
        await sam.close()


async def test_listener_drop_requeues_seeker_first(srv: ChatServer) -> None:
    s, _ = await seeker(srv)
    other, _ = await seeker(srv)
    sam = await listener(srv)
    try:
        await s.recv_until(Paired)
        assert sam._ws is not None
        sam._ws.transport.abort()  # the listener's connection drops and does not come back
        ended = await s.recv_until(ChatEnded, timeout=10)
        assert ended.reason == "listener_left"
        notice = await s.recv_until(Notice)
        assert notice.code == "requeued"
        position = await s.recv_until(QueuePosition)
        assert position.position == 1  # ahead of the seeker who was already waiting
        kim = await listener(srv, name="Kim", lid="l-2")
        paired = await s.recv_until(Paired, timeout=5)
        assert paired.peer.handle == "Kim"
        await kim.close()
    finally:
        for c in (s, other, sam):
            await c.close()


async def test_handover_moves_the_chat(srv: ChatServer) -> None:
    s, _ = await seeker(srv)
    sam = await listener(srv)
    kim = await listener(srv, name="Kim", lid="l-2")
    try:
        paired = await s.recv_until(Paired)
        assert paired.peer.handle in ("Sam", "Kim")
        first, second = (sam, kim) if paired.peer.handle == "Sam" else (kim, sam)
        await first.recv_until(Paired)
        ended = await first.request(Handover(room=paired.room, ref="h"))
        assert isinstance(ended, ChatEnded) and ended.reason == "handed_over"
        taken = await second.recv_until(Paired, timeout=5)
        assert taken.room == paired.room
        notice = await s.recv_until(Notice)
        assert notice.code == "handover"
        await second.say(paired.room, "hello, I'm taking over")
        message = await s.recv_until(Message)
        assert message.text == "hello, I'm taking over"
    finally:
        for c in (s, sam, kim):
            await c.close()


async def test_manual_accept(srv: ChatServer) -> None:
    sam = await listener(srv, auto=False)
    try:
        with pytest.raises(ChatError) as info:
            await sam.request(Accept(ref="a0"))
        assert info.value.code == "queue_empty"
        s, _ = await seeker(srv)
        with pytest.raises(TimeoutError):
            await s.recv_until(Paired, timeout=0.3)
        paired = await sam.request(Accept(topic="grief", ref="a1"))
        assert isinstance(paired, Paired) and paired.ref == "a1"
        await s.recv_until(Paired, timeout=5)
        await s.close()
    finally:
        await sam.close()


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: token(ttl=-10), "expired"),
        (lambda: token()[:-2] + "xx", "signature"),
        (lambda: "not-a-token", "garbage"),
    ],
)
async def test_bad_tokens_are_refused_and_connection_stays_seeker(
    srv: ChatServer, make: object, reason: str
) -> None:
    async with ChatClient(url_of(srv)) as c:
        with pytest.raises(ChatError) as info:
            await c.request(Auth(token=make(), ref="t"))  # type: ignore[operator]
        assert info.value.code == "auth_failed"
        with pytest.raises(ChatError) as info:
            await c.request(Listen(capacity=1, ref="l"))
        assert info.value.code == "forbidden"
        assert (await c.join("grief")).role == "seeker"


async def test_revocation_takes_effect_without_restart(tmp_path: object) -> None:
    from pathlib import Path

    revoked = Path(str(tmp_path)) / "revoked.txt"
    revoked.write_text("# revoked listeners\n")
    async with running(listener_secret=SECRET, revoked_listeners_file=str(revoked)) as server:
        async with ChatClient(url_of(server)) as c:
            await c.request(Auth(token=token(lid="l-9"), ref="1"))
        revoked.write_text("l-9\n")
        async with ChatClient(url_of(server)) as c:
            with pytest.raises(ChatError) as info:
                await c.request(Auth(token=token(lid="l-9"), ref="2"))
            assert "no longer active" in info.value.frame.message


async def test_group_rooms_overflow_at_capacity() -> None:
    async with running(room_capacity=2, listener_secret=SECRET) as server:
        clients = [ChatClient(url_of(server)) for _ in range(5)]
        try:
            rooms = []
            for c in clients:
                await c.connect()
                rooms.append((await c.join("anxiety")).room)
            assert rooms == ["anxiety", "anxiety", "anxiety-2", "anxiety-2", "anxiety-3"]
            with pytest.raises(ChatError) as info:
                await clients[4].join("anxiety-2")
            assert info.value.code == "room_full"
            sam = ChatClient(url_of(server))
            await sam.connect()
            await sam.request(Auth(token=token(), ref="a"))
            assert (await sam.join("anxiety")).role == "listener"  # listeners don't count
            await sam.close()
        finally:
            for c in clients:
                await c.close()


def test_listener_token_command_issues_a_verifiable_token() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "chatserver",
            "listener-token",
            "--id",
            "l-7",
            "--name",
            "Ana",
            "--topics",
            "grief,trauma",
            "--ttl",
            "60",
            "--secret",
            SECRET,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.strip()
    claims = verify(out, SECRET)
    assert (claims.lid, claims.name, claims.topics, claims.role) == (
        "l-7",
        "Ana",
        ("grief", "trauma"),
        "listener",
    )
    assert asyncio.iscoroutinefunction(ChatClient.connect)
