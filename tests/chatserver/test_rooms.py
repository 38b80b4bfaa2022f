"""Rooms through a real server on a real socket: join, say, presence, typing, leave."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from chatserver.app import ChatServer
from clients.client import ChatClient, ChatError
from protocol import JSON_SUBPROTOCOL
from protocol.messages import Ack, Message, Presence, Say, TypingEvent
from tests.conftest import running, url_of


async def test_two_participants_exchange_messages_in_one_order(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a, ChatClient(url_of(server)) as b:
        await a.join("anxiety")
        joined_b = await b.join("anxiety")
        assert {m.handle for m in joined_b.members} >= {joined_b.handle}
        for i in range(5):
            await a.say("anxiety", f"a{i}")
            await b.say("anxiety", f"b{i}")
        got_a = [await a.recv_until(Message) for _ in range(10)]
        got_b = [await b.recv_until(Message) for _ in range(10)]
        assert [m.seq for m in got_a] == list(range(1, 11))
        assert [(m.seq, m.text, m.handle) for m in got_a] == [
            (m.seq, m.text, m.handle) for m in got_b
        ]
        assert sorted(m.text for m in got_a) == sorted(
            [f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)]
        )


async def test_say_is_acked_with_id_and_seq(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a:
        await a.join("grief")
        ack = await a.say("grief", "hello")
        assert isinstance(ack, Ack)
        assert ack.seq == 1
        message = await a.recv_until(Message)
        assert (message.id, message.seq, message.text) == (ack.id, 1, "hello")


async def test_json_and_msgpack_clients_share_a_room(server: ChatServer) -> None:
    async with (
        ChatClient(url_of(server), encoding="json") as j,
        ChatClient(url_of(server), encoding="msgpack") as m,
    ):
        await j.join("loneliness")
        await m.join("loneliness")
        await j.say("loneliness", "from json ✨")
        await m.say("loneliness", "from msgpack")
        for client in (j, m):
            texts = [(await client.recv_until(Message)).text for _ in range(2)]
            assert texts == ["from json ✨", "from msgpack"]


async def test_presence_join_and_leave_on_close(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a:
        await a.join("anxiety")
        b = ChatClient(url_of(server))
        await b.connect()
        joined = await b.join("anxiety")
        event = await a.recv_until(Presence)
        assert event.event == "join"  # a's own join comes first: every member sees every join
        event = await a.recv_until(Presence)
        assert (event.event, event.handle, event.role) == ("join", joined.handle, "seeker")
        await b.close()  # a clean close: the person left
        event = await a.recv_until(Presence)
        assert (event.event, event.handle) == ("leave", joined.handle)


async def test_handles_are_unique_within_a_room(server: ChatServer) -> None:
    clients = [ChatClient(url_of(server)) for _ in range(12)]
    try:
        handles = []
        for c in clients:
            await c.connect()
            handles.append((await c.join("general")).handle)
        assert len(set(handles)) == len(handles)
    finally:
        for c in clients:
            await c.close()


async def test_typing_reaches_the_room(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a, ChatClient(url_of(server)) as b:
        await a.join("anxiety")
        joined = await b.join("anxiety")
        await b.typing("anxiety", True)
        event = await a.recv_until(TypingEvent)
        assert (event.handle, event.active) == (joined.handle, True)


async def test_leave_then_say_is_refused(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a:
        await a.join("anxiety")
        await a.leave("anxiety")
        with pytest.raises(ChatError) as info:
            await a.say("anxiety", "anyone?")
        assert info.value.code == "not_in_room"


@pytest.mark.parametrize(
    ("room", "code"), [("nowhere", "unknown_room"), ("anxiety", "already_joined")]
)
async def test_join_errors(server: ChatServer, room: str, code: str) -> None:
    async with ChatClient(url_of(server)) as a:
        await a.join("anxiety")
        with pytest.raises(ChatError) as info:
            await a.join(room)
        assert info.value.code == code


async def test_room_is_deleted_when_last_member_leaves(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a:
        await a.join("trauma")
        await a.say("trauma", "one")
        assert await server.broker.last_seq("trauma") == 1
        await a.leave("trauma")
        assert await server.broker.last_seq("trauma") == 0
        assert await server.broker.history("trauma", 0) == []
        assert server.hub.room_count == 0


async def test_too_long_text_is_refused_kindly(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a:
        await a.join("anxiety")
        with pytest.raises(ChatError) as info:
            await a.say("anxiety", "x" * (server.settings.max_text + 1))
        assert info.value.code == "too_large"
        ok = await a.say("anxiety", "shorter now")
        assert isinstance(ok, Ack)


async def test_many_concurrent_senders_keep_gap_free_sequence(server: ChatServer) -> None:
    clients = [ChatClient(url_of(server)) for _ in range(5)]
    for c in clients:
        await c.connect()
        await c.join("general")
    try:
        await asyncio.gather(
            *(c.say("general", f"{i}-{n}") for i, c in enumerate(clients) for n in range(4))
        )
        seqs = [(await clients[0].recv_until(Message)).seq for _ in range(20)]
        assert seqs == list(range(1, 21))
    finally:
        for c in clients:
            await c.close()


async def test_joining_a_busy_room_gets_joined_first_and_then_every_later_message() -> None:
    """No message of the room reaches a joiner before its ``joined``, and the first one
    after it follows the announced ``seq`` with no gap, whatever is said meanwhile."""
    async with (
        running(rate_per_second=100_000, rate_burst=100_000) as server,
        ChatClient(url_of(server)) as talker,
    ):
        await talker.join("general")
        stop = asyncio.Event()

        async def talk() -> None:
            for i in range(2000):  # bounded; stopped once the joins are done
                if stop.is_set():
                    return
                await talker.send(Say(room="general", text=f"m{i}"))
                await asyncio.sleep(0)

        chatter = asyncio.get_running_loop().create_task(talk())
        try:
            for _ in range(10):
                async with connect(
                    url_of(server), subprotocols=[Subprotocol(JSON_SUBPROTOCOL)]
                ) as ws:
                    await ws.recv()  # welcome
                    await ws.send('{"type":"join","room":"general","ref":"j"}')
                    frames: list[dict[str, object]] = []
                    async with asyncio.timeout(10):
                        while len([f for f in frames if f["type"] == "message"]) < 3:
                            frames.append(orjson.loads(await ws.recv()))
                    kinds = [f["type"] for f in frames if f["type"] in ("joined", "message")]
                    assert kinds[0] == "joined", kinds
                    joined = next(f for f in frames if f["type"] == "joined")
                    seqs = [f["seq"] for f in frames if f["type"] == "message"]
                    assert seqs[0] == joined["seq"] + 1  # type: ignore[operator]
                    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        finally:
            stop.set()
            await chatter
