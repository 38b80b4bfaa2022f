"""protocol/SPEC.md answers what outside client writers asked (issue 16, item 9); each answer
is pinned here to what the server does, so the contract and the code cannot drift apart."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chatserver.app import ChatServer
from chatserver.tokens import Claims, issue, verify
from clients.client import ChatClient, ChatError
from protocol import CloseCode
from protocol.messages import (
    Auth,
    Authed,
    Done,
    Error,
    Join,
    Joined,
    Listen,
    Message,
    Paired,
    Presence,
    Report,
    RequestSupport,
    Resume,
    Resumed,
)
from tests.conftest import running, url_of

SECRET = "spec-answers-secret"


@pytest.fixture
async def srv() -> AsyncIterator[ChatServer]:
    async with running(listener_secret=SECRET, room_capacity=2) as server:
        yield server


async def test_join_by_topic_means_a_room_of_the_topic_the_first_one_named_after_it(
    srv: ChatServer,
) -> None:
    """A seeker's ``join "general"`` lands in the topic's first room with space: the first
    room's id is the topic itself, so it cannot be named apart from the topic; the others
    are named topic-2, topic-3 and can be (``room_full`` when full)."""
    clients = [ChatClient(url_of(srv), auto_resume=False) for _ in range(5)]
    try:
        for c in clients:
            await c.connect()
        rooms = [(await c.join("general")).room for c in clients[:3]]
        assert rooms == ["general", "general", "general-2"]
        assert (await clients[3].join("general-2")).room == "general-2"
        with pytest.raises(ChatError) as full:
            await clients[4].request(Join(room="general-2", ref="x"))
        assert full.value.code == "room_full"
    finally:
        for c in clients:
            await c.close()


async def test_joining_a_private_room_is_unknown_room(srv: ChatServer) -> None:
    async with ChatClient(url_of(srv), auto_resume=False) as c:
        for room in ("p-7d1f0a9c3b2e", "p-123456789012", "anxiety-10000", "anxiety-0"):
            with pytest.raises(ChatError) as refused:
                await c.request(Join(room=room, ref="j"))
            assert refused.value.code == "unknown_room", room


async def test_numbered_rooms_from_1_to_9999_are_taken_as_named(srv: ChatServer) -> None:
    """``anxiety-1`` is a room of its own, apart from ``anxiety`` (the first room)."""
    async with ChatClient(url_of(srv), auto_resume=False) as c:
        assert (await c.join("anxiety-1")).room == "anxiety-1"
        assert (await c.join("anxiety-9999")).room == "anxiety-9999"
        assert (await c.join("anxiety")).room == "anxiety"


async def test_a_report_is_done_with_action_report(srv: ChatServer) -> None:
    async with (
        ChatClient(url_of(srv), auto_resume=False) as a,
        ChatClient(url_of(srv), auto_resume=False) as b,
    ):
        await a.join("anxiety")
        joined = await b.join("anxiety")
        await b.say(joined.room, "something unkind")
        message = await a.recv_until(Message)
        done = await a.request(
            Report(room=joined.room, reason="harassment", id=message.id, ref="r")
        )
        assert isinstance(done, Done) and done.action == "report"


async def test_both_sides_of_a_new_pair_get_joined_and_the_room_history(srv: ChatServer) -> None:
    """Each side gets ``paired`` then ``joined``; ``joined.members`` lists whoever was seated
    already (the other side may come by ``presence``); after ``joined`` the one-to-one
    room's history follows, messages at or below ``joined.seq`` included."""
    seeker = ChatClient(url_of(srv), auto_resume=False)
    listener = ChatClient(url_of(srv), auto_resume=False)
    await seeker.connect()
    await listener.connect()
    try:
        await seeker.request(RequestSupport(topic="grief", ref="s"))
        assert isinstance(await listener.request(Auth(token=token(), ref="a")), Authed)
        await listener.request(Listen(capacity=1, auto=True, ref="l"))
        await seeker.recv_until(Paired)
        s_joined = await seeker.recv_until(Joined)
        await seeker.say(s_joined.room, "are you there?")
        await listener.recv_until(Paired)
        l_joined = await listener.recv_until(Joined)
        assert l_joined.room == s_joined.room
        both = {m.handle for m in l_joined.members} | {m.handle for m in s_joined.members}
        assert "Sam" in both and len(both) == 2
        heard = await listener.recv_until(Message)
        assert heard.text == "are you there?" and heard.seq <= max(l_joined.seq, heard.seq)
        # whoever was seated second reaches the other as presence, if not in its members
        if "Sam" not in {m.handle for m in s_joined.members}:
            seen = await seeker.recv_until(Presence)
            while seen.role != "listener":  # its own join comes too
                seen = await seeker.recv_until(Presence)
            assert (seen.event, seen.handle) == ("join", "Sam")
    finally:
        await seeker.close()
        await listener.close()


def token(lid: str = "l-1", name: str = "Sam") -> str:
    return issue(Claims(lid, name, ("grief",), int(time.time()) + 600, "listener"), SECRET)


def test_the_token_signature_is_unpadded_base64url_of_hmac_sha256() -> None:
    """``v1.`` + base64url(claims JSON) + ``.`` + base64url(HMAC-SHA256(secret, "v1." +
    claims part)), both without ``=`` padding; the signature compared as text."""
    made = token()
    version, claims, signature = made.split(".")
    digest = hmac.new(SECRET.encode(), f"{version}.{claims}".encode(), hashlib.sha256).digest()
    assert signature == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert "=" not in made
    assert json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["lid"] == "l-1"
    assert verify(made, SECRET).name == "Sam"
    padded = f"{version}.{claims}.{signature}="
    with pytest.raises(Exception, match="bad"):
        verify(padded, SECRET)


async def test_the_tenth_bad_frame_gets_its_error_then_4400(srv: ChatServer) -> None:
    async with connect(url_of(srv), subprotocols=["chat.v1.json"]) as ws:  # type: ignore[list-item]
        await ws.recv()  # welcome
        for i in range(10):
            await ws.send(json.dumps({"type": "fly", "ref": str(i)}))
        errors: list[dict[str, str]] = []
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(5):
                async for data in ws:
                    errors.append(json.loads(data))
        assert [e["ref"] for e in errors] == [str(i) for i in range(10)]
        assert {e["code"] for e in errors} == {"unknown_type"}
        assert ws.protocol.close_rcvd is not None
        assert ws.protocol.close_rcvd.code == CloseCode.TOO_MANY_ERRORS


async def test_last_seq_zero_or_absent_means_everything_still_in_history(
    srv: ChatServer,
) -> None:
    async with ChatClient(url_of(srv), auto_resume=False) as other:
        await other.join("grief")
        a = ChatClient(url_of(srv), auto_resume=False)
        welcome = await a.connect()
        joined = await a.join("grief")
        for text in ("one", "two"):
            await other.say(joined.room, text)
        await a.recv_until(Message)
        await a.recv_until(Message)
        token_ = welcome.resume_token
        await a._ws.close(4000)  # type: ignore[union-attr]  # a drop, not a normal close
        for last_seq in ({}, {joined.room: 0}):
            b = ChatClient(url_of(srv), auto_resume=False)
            await b.connect()
            resumed = await b.request(Resume(token=token_, last_seq=last_seq, ref="r"))
            assert isinstance(resumed, Resumed) and joined.room in resumed.rooms
            texts = [(await b.recv_until(Message)).text for _ in range(2)]
            assert texts == ["one", "two"]
            token_ = resumed.resume_token
            await b._ws.close(4000)  # type: ignore[union-attr]


async def test_a_typing_frame_takes_no_ref(srv: ChatServer) -> None:
    async with ChatClient(url_of(srv), auto_resume=False) as c:
        joined = await c.join("anxiety")
        await c.send_raw(
            json.dumps({"type": "typing", "room": joined.room, "active": False, "ref": "t"})
        )
        error = await c.recv_until(Error)
        assert (error.code, error.ref) == ("invalid_frame", "t")


async def test_a_refused_origin_is_http_403_before_the_upgrade() -> None:
    async with running(allowed_origins=("https://support.example",)) as server:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url_of(server), origin="https://evil.example"):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
        async with connect(url_of(server), origin="https://support.example") as ws:  # type: ignore[arg-type]
            assert json.loads(await ws.recv())["type"] == "welcome"


async def test_too_many_connections_from_one_address_is_http_429() -> None:
    async with running(max_connections_per_address=1) as server, connect(url_of(server)) as first:
        await first.recv()
        with pytest.raises(InvalidStatus) as refused:
            async with connect(url_of(server)):
                pass
        assert refused.value.response.status_code == 429
