"""Moderation through real servers: mute (kept across resume), block, report with context
and expiry, listener remove with cool-down, slow mode, end room, moderator suspension."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from chatserver.app import ChatServer
from chatserver.tokens import Claims, issue
from clients.client import ChatClient, ChatError
from protocol.messages import (
    Ack,
    Auth,
    Block,
    ChatEnded,
    Done,
    EndRoom,
    Listen,
    Message,
    Moderate,
    Mute,
    NextReport,
    Notice,
    Paired,
    Remove,
    Report,
    ReportItem,
    RequestSupport,
    RoomMode,
    Say,
    SlowMode,
)
from tests.conftest import running, url_of
from tests.helpers.procs import RedisProcess, chatserver

SECRET = "moderation-secret"


def token(role: str = "listener", lid: str = "l-1", name: str = "Sam") -> str:
    return issue(Claims(lid, name, ("grief", "anxiety"), int(time.time()) + 600, role), SECRET)


@pytest.fixture
async def srv() -> AsyncIterator[ChatServer]:
    async with running(listener_secret=SECRET, removal_cooldown=60, report_retention=60) as s:
        yield s


async def staff(url: str, role: str = "listener") -> ChatClient:
    client = ChatClient(url)
    await client.connect()
    await client.request(Auth(token=token(role, lid=role), ref="a"))
    return client


async def texts_until(client: ChatClient, last: str) -> list[str]:
    seen: list[str] = []
    async with asyncio.timeout(10):
        while last not in seen:
            seen.append((await client.recv_until(Message)).text)
    return seen


async def test_mute_hides_messages_even_after_resume(srv: ChatServer) -> None:
    async with ChatClient(url_of(srv)) as me, ChatClient(url_of(srv)) as rude:
        await me.join("grief")
        rude_handle = (await rude.join("grief")).handle
        done = await me.request(Mute(room="grief", handle=rude_handle, ref="m"))
        assert isinstance(done, Done) and done.action == "mute"
        await rude.say("grief", "something unkind")
        await me.say("grief", "mine")
        assert await texts_until(me, "mine") == ["mine"]
        assert me._ws is not None
        me._ws.transport.abort()  # I drop and resume: the mute stays
        await me.wait_resumed(1)
        await rude.say("grief", "more unkind words")
        await rude.say("grief", "and more")
        await me.say("grief", "back")
        assert await texts_until(me, "back") == ["back"]
        assert me.resumes == 1
        assert rude._ws is not None
        rude._ws.transport.abort()  # they drop and resume: still muted
        await rude.wait_resumed(1)
        await rude.say("grief", "after their resume")
        await me.say("grief", "still fine")
        assert await texts_until(me, "still fine") == ["still fine"]


async def test_report_carries_context_without_the_reporter_and_expires() -> None:
    async with running(listener_secret=SECRET, report_retention=1) as srv:
        mod = await staff(url_of(srv), "moderator")
        async with ChatClient(url_of(srv)) as me, ChatClient(url_of(srv)) as rude:
            mine = (await me.join("grief")).handle
            rude_handle = (await rude.join("grief")).handle
            await me.say("grief", "i'm having a hard night")
            await rude.say("grief", "nobody cares")
            bad = await rude.say("grief", "just go away")
            await me.say("grief", "after")
            assert isinstance(
                await me.request(
                    Report(
                        room="grief",
                        reason="harassment",
                        id=bad.id,  # type: ignore[union-attr]
                        note="this hurt",
                        ref="r",
                    )
                ),
                Done,
            )
            item = await mod.request(NextReport(ref="n"))
            assert isinstance(item, ReportItem)
            assert item.message is not None and item.message.text == "just go away"
            assert item.handle == rude_handle and item.note == "this hurt"
            assert [m.text for m in item.context] == ["i'm having a hard night", "nobody cares"]
            assert item.context[0].handle == "(reporter)"
            assert all(m.handle != mine for m in item.context)
            await me.request(Report(room="grief", reason="spam", handle=rude_handle, ref="r2"))
            await asyncio.sleep(1.2)  # the retention is one second in this test
            with pytest.raises(ChatError) as info:
                await mod.request(NextReport(ref="n2"))
            assert info.value.code == "queue_empty"
        await mod.close()


async def test_listener_removes_with_cooldown(srv: ChatServer) -> None:
    sam = await staff(url_of(srv))
    async with ChatClient(url_of(srv)) as troll, ChatClient(url_of(srv)) as other:
        await sam.join("anxiety")
        handle = (await troll.join("anxiety")).handle
        await other.join("anxiety")
        with pytest.raises(ChatError) as info:  # seekers cannot remove
            await other.request(Remove(room="anxiety", handle=handle, ref="x"))
        assert info.value.code == "forbidden"
        assert isinstance(await sam.request(Remove(room="anxiety", handle=handle, ref="r")), Done)
        ended = await troll.recv_until(ChatEnded)
        assert ended.reason == "removed"
        with pytest.raises(ChatError) as info:
            await troll.join("anxiety")
        assert info.value.code == "cooldown" and (info.value.frame.retry_after or 0) > 0
        assert (await troll.join("grief")).room == "grief"  # other topics stay open
    await sam.close()


async def test_slow_mode_and_end_room(srv: ChatServer) -> None:
    sam = await staff(url_of(srv))
    async with ChatClient(url_of(srv)) as a:
        await sam.join("grief")
        await a.join("grief")
        await sam.request(SlowMode(room="grief", seconds=30, ref="s"))
        mode = await a.recv_until(RoomMode)
        assert mode.slow == 30
        first = await a.request(Say(room="grief", text="first", ref="f", cid="c1"))
        again = await a.request(Say(room="grief", text="first", ref="g", cid="c1", resend=True))
        assert isinstance(again, Ack) and isinstance(first, Ack) and again.seq == first.seq
        with pytest.raises(ChatError) as info:
            await a.say("grief", "second, too soon")
        assert info.value.code == "slow_mode" and info.value.frame.retry_after
        await sam.say("grief", "listeners are not slowed")
        await sam.request(EndRoom(room="grief", ref="e"))
        ended = await a.recv_until(ChatEnded)
        assert ended.reason == "room_ended"
        with pytest.raises(ChatError) as info:
            await a.say("grief", "anyone?")
        assert info.value.code == "not_in_room"
    await sam.close()


async def test_block_ends_the_chat_kindly(srv: ChatServer) -> None:
    sam = await staff(url_of(srv))
    await sam.request(Listen(capacity=1, ref="l"))
    async with ChatClient(url_of(srv)) as seeker:
        await seeker.request(RequestSupport(topic="grief", ref="q"))
        paired = await seeker.recv_until(Paired)
        ended = await seeker.request(Block(room=paired.room, ref="b"))
        assert isinstance(ended, ChatEnded) and ended.reason == "blocked"
        other = await sam.recv_until(ChatEnded)
        assert other.reason == "ended_by_seeker"  # the listener is not told of a block
        # asking again: Sam has a free seat, but is never the one the seeker gets
        await seeker.request(RequestSupport(topic="grief", ref="q2"))
        kim = ChatClient(url_of(srv))
        await kim.connect()
        try:
            await kim.request(Auth(token=token(lid="l-2", name="Kim"), ref="a"))
            await kim.request(Listen(capacity=1, ref="l"))
            again = await seeker.recv_until(Paired)
            assert again.peer.handle == "Kim"
        finally:
            await kim.close()
    await sam.close()


async def test_moderator_suspends_across_nodes(redis_server: RedisProcess) -> None:
    args = ("--redis-url", redis_server.url, "--listener-secret", SECRET)
    with chatserver(*args) as node_a, chatserver(*args) as node_b:
        mod = await staff(node_b.url, "moderator")
        me = ChatClient(node_a.url)
        rude = ChatClient(node_b.url, fallback_urls=(node_a.url,))
        await me.connect()
        await rude.connect()
        try:
            await me.join("grief")
            rude_handle = (await rude.join("grief")).handle
            await me.request(Mute(room="grief", handle=rude_handle, ref="m"))
            await rude.say("grief", "mean")
            await me.say("grief", "ok")
            assert await texts_until(me, "ok") == ["ok"]  # mute across nodes
            await me.request(Report(room="grief", reason="harassment", handle=rude_handle, ref="r"))
            item = await mod.request(NextReport(ref="n"))
            assert isinstance(item, ReportItem)
            await mod.request(Moderate(report=item.id, action="suspend", minutes=5, ref="s"))
            notice = await rude.recv_until(Notice, timeout=10)
            assert notice.code == "suspended"
            with pytest.raises(ChatError) as info:
                await rude.say("grief", "let me speak")
            assert info.value.code == "suspended"
            assert rude._ws is not None
            rude._ws.transport.abort()  # resume (perhaps on the other node): still suspended
            await rude.wait_resumed(1)
            with pytest.raises(ChatError) as info:
                await rude.say("grief", "and now?")
            assert info.value.code == "suspended"
        finally:
            for c in (me, rude, mod):
                await c.close()


async def test_slow_mode_reaches_newcomers_on_a_node_that_had_nobody_there(
    redis_server: RedisProcess,
) -> None:
    """Slow mode is set while node B has no member in the room: B never hears the event,
    and learns the mode from the room's state when a seeker joins through it."""
    args = ("--redis-url", redis_server.url, "--listener-secret", SECRET)
    with chatserver(*args) as node_a, chatserver(*args) as node_b:
        sam = await staff(node_a.url)
        late = ChatClient(node_b.url)
        try:
            await sam.join("grief")
            await sam.request(SlowMode(room="grief", seconds=30, ref="s"))
            await late.connect()
            await late.join("grief")
            mode = await late.recv_until(RoomMode)
            assert mode.slow == 30
            await late.say("grief", "hello")
            with pytest.raises(ChatError) as info:
                await late.say("grief", "hello again, too soon")
            assert info.value.code == "slow_mode"
            await sam.request(SlowMode(room="grief", seconds=0, ref="off"))
            assert (await late.recv_until(RoomMode)).slow == 0
            await late.say("grief", "free again")
        finally:
            await sam.close()
            await late.close()
