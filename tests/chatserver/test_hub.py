"""The hub with fakes: encode once per encoding, same bytes to every member, slow
consumers cut off without slowing the room, staff-only events, resume parking."""

from __future__ import annotations

from typing import Any

import msgpack

from chatserver.broker.base import Claim
from chatserver.broker.memory import MemoryBroker
from chatserver.envelopes import pack
from chatserver.hub import Hub
from chatserver.session import Session
from protocol import JSON, MSGPACK, Codec
from protocol.messages import Escalation, Message


class FakeTransport:
    def __init__(self, buffered: int = 0) -> None:
        self.buffered = buffered

    def get_write_buffer_size(self) -> int:
        return self.buffered


class FakeSocket:
    def __init__(self, buffered: int = 0) -> None:
        self.transport = FakeTransport(buffered)
        self.frames: list[tuple[bytes, bool]] = []


def fanout(sockets: list[FakeSocket], data: bytes, *, text: bool) -> None:
    for ws in sockets:
        ws.frames.append((data, text))


def member(codec: Codec, role: str = "seeker", buffered: int = 0) -> Session:
    return Session(
        id=role + str(id(codec)) + str(buffered),
        handle="H",
        role=role,
        codec=codec,
        resume_token="t",
        ws=FakeSocket(buffered),
    )


def message(seq: int = 0) -> bytes:
    return pack(Message(room="r", id="m", seq=seq, handle="H", role="seeker", text="hi", ts=1))


async def hub_with(*sessions: Session, limit: int = 1000) -> tuple[Hub, list[Session]]:
    slow: list[Session] = []
    hub = Hub(MemoryBroker(), send_limit=limit, on_slow=slow.append, fanout=fanout)
    for s in sessions:
        await hub.attach("r", s)
    return hub, slow


def frames(session: Session) -> list[tuple[bytes, bool]]:
    ws: Any = session.ws
    return list(ws.frames)


async def test_one_encoding_per_codec_same_bytes_for_all() -> None:
    a, b, c = member(JSON), member(JSON), member(MSGPACK)
    hub, _ = await hub_with(a, b, c)
    hub.deliver("r", 7, message())
    assert frames(a) == frames(b)
    data, text = frames(a)[0]
    assert text is True and b'"seq":7' in data
    packed, text = frames(c)[0]
    assert text is False and msgpack.unpackb(packed)["seq"] == 7


async def test_slow_consumer_is_cut_off_and_others_still_get_it() -> None:
    fast, slow_one = member(JSON), member(JSON, buffered=5000)
    hub, slow = await hub_with(fast, slow_one, limit=1000)
    hub.deliver("r", 1, message())
    assert slow == [slow_one] and slow_one.closing
    assert len(frames(fast)) == 1 and frames(slow_one) == []
    hub.deliver("r", 2, message())
    assert len(frames(fast)) == 2 and slow == [slow_one]  # reported once, then skipped


async def test_escalations_reach_only_staff() -> None:
    seeker, listener = member(JSON), member(JSON, role="listener")
    hub, _ = await hub_with(seeker, listener)
    hub.deliver("r", 0, pack(Escalation(room="r", handle="H", reason="crisis")))
    assert frames(seeker) == [] and len(frames(listener)) == 1


async def test_deliveries_park_while_resuming() -> None:
    s = member(JSON)
    hub, _ = await hub_with(s)
    s.pending = []
    hub.deliver("r", 3, message())
    assert frames(s) == [] and s.pending == [("r", 3, message())]


async def test_settings_are_read_back_after_a_reconnect_and_put_back_if_lost() -> None:
    broker = MemoryBroker()
    hub = Hub(broker, fanout=fanout)
    assert await broker.claim("r", "Kim", b"m") is Claim.OK
    await hub.attach("r", member(JSON))
    # changed while this node was cut off: it never heard the events
    await broker.set_flag("r", "slow", 30)
    await broker.set_flag("r", "consent:Kim", 1)
    await hub.refresh_settings()
    assert hub.slow == {"r": 30} and hub.consented == {"r": {"Kim"}}
    await broker.set_flag("r", "slow", 0)
    await broker.set_flag("r", "consent:Kim", 0)
    await hub.refresh_settings()
    assert hub.slow == {} and hub.consented == {"r": set()}
    # Redis restarted empty: what this node knows goes back
    hub.slow["r"] = 20
    hub.consented["r"] = {"Kim"}
    broker._rooms["r"].flags.clear()
    await hub.refresh_settings()
    assert dict(await broker.flags("r")) == {"slow": 20, "consent:Kim": 1}
