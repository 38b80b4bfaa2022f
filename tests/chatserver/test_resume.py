"""A dropped connection resumes: same handle and rooms, missed messages exactly once."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from chatserver.app import ChatServer
from clients.client import ChatClient, ChatError
from protocol import JSON, encode
from protocol.messages import Join, Message, Presence, Resume
from tests.conftest import running, url_of


async def test_client_resumes_after_a_drop_and_gets_missed_messages(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a, ChatClient(url_of(server)) as b:
        joined_a = await a.join("anxiety")
        await b.join("anxiety")
        await b.say("anxiety", "m1")
        assert (await a.recv_until(Message)).text == "m1"
        assert a._ws is not None
        a._ws.transport.abort()  # the phone lost its network
        for text in ("m2", "m3", "m4"):
            await b.say("anxiety", text)
        got = [(await a.recv_until(Message)) for _ in range(3)]
        assert [m.text for m in got] == ["m2", "m3", "m4"]
        assert [m.seq for m in got] == [2, 3, 4]
        assert a.resumes == 1
        await a.say("anxiety", "back")
        seen_by_b = [await b.recv_until(Message) for _ in range(5)]
        assert [m.text for m in seen_by_b] == ["m1", "m2", "m3", "m4", "back"]
        assert seen_by_b[-1].handle == joined_a.handle
        # b saw no leave/join flicker for a: only messages came
        while not b._incoming.empty():
            frame = b._incoming.get_nowait()
            assert not (isinstance(frame, Presence) and frame.handle == joined_a.handle)


async def test_resume_with_unknown_token_fails_kindly(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a:
        with pytest.raises(ChatError) as info:
            await a.request(Resume(token="nope", last_seq={}, ref="r"))
        assert info.value.code == "resume_failed"


async def test_resume_token_rotates_and_old_one_dies(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a:
        await a.join("grief")
        token = a.resume_token
        assert token is not None
        async with connect(url_of(server)) as ws:
            await ws.recv()
            await ws.send(encode(Resume(token=token, last_seq={}, ref="1"), JSON).decode())
            resumed = await ws.recv()
            assert '"resumed"' in str(resumed) and token not in str(resumed)
        async with connect(url_of(server)) as ws:
            await ws.recv()
            await ws.send(encode(Resume(token=token, last_seq={}, ref="2"), JSON).decode())
            assert "resume_failed" in str(await ws.recv())


async def test_a_dropped_seat_makes_way_and_counts_again_after_a_local_resume() -> None:
    """A seat kept for a dropped connection is held in the broker: a newcomer gets into
    the full room; the person who comes back (to the same node) has the seat again, and
    from then on it counts: once the newcomer left, the room of two is full again."""
    async with running(room_capacity=2) as srv:
        url = url_of(srv)
        people = [ChatClient(url, auto_resume=False) for _ in range(4)]
        a, b, newcomer, later = people
        try:
            for person in people:
                await person.connect()
            await a.join("general-2")
            await b.join("general-2")
            token = a.resume_token
            assert a._ws is not None and token is not None
            a._ws.transport.abort()  # dropped: the seat is kept for the grace, held
            for _ in range(100):  # until the node has seen the drop
                try:
                    await newcomer.request(Join(room="general-2", ref="n"))
                    break
                except ChatError as refused:
                    assert refused.code == "room_full"
                    await asyncio.sleep(0.05)
            else:
                pytest.fail("the held seat never made way")
            async with connect(url) as ws:
                await ws.recv()
                await ws.send(encode(Resume(token=token, last_seq={}, ref="r"), JSON).decode())
                resumed = json.loads(await ws.recv())
                assert resumed["type"] == "resumed" and "general-2" in resumed["rooms"]
                await newcomer.leave("general-2")  # two seats taken: the room is full again
                with pytest.raises(ChatError) as full:
                    await later.request(Join(room="general-2", ref="l"))
                assert full.value.code == "room_full"
        finally:
            for person in people:
                await person.close()
