"""Presence gathered per room and window: the first change at once, the rest of the
window in one frame, nothing of the room overtaking it; a room filling through the hub
costs each member a bounded number of presence frames; big rooms' ``joined`` lists."""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
from hypothesis import given
from hypothesis import strategies as st

from chatserver.broker.memory import MemoryBroker
from chatserver.envelopes import MemberRecord, pack
from chatserver.hub import Hub
from chatserver.presence import LISTED, MAX_WINDOW, NAMED, WINDOW, Gather, batch, listing, window
from chatserver.session import Session
from protocol import MSGPACK
from protocol.messages import Member, Message, Presence, PresenceBatch


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def event(handle: str, kind: str = "join", role: str = "seeker") -> dict[str, Any]:
    return {"type": "presence", "room": "r", "event": kind, "handle": handle, "role": role}


async def test_first_change_goes_at_once_the_rest_of_the_window_together() -> None:
    due: list[str] = []
    clock = Clock()
    gather = Gather(due.append, clock)
    assert gather.take("r", event("A"), 8) is False  # quiet room: send it now
    assert gather.take("r", event("B"), 8) is True
    assert gather.take("r", event("A", "leave"), 8) is True
    assert gather.pending("r")
    await asyncio.sleep(WINDOW * 1.5)
    assert due == ["r"]  # the window ended: the hub is told, and asks for the frame
    assert gather.flush("r") == PresenceBatch(
        "r", (Member("B", "seeker"),), (Member("A", "seeker"),), 1, 1
    )
    assert gather.flush("r") is None
    clock.now += WINDOW  # quiet for a window again: at once
    assert gather.take("r", event("C"), 8) is False and not gather.pending("r")


async def test_one_event_in_a_window_stays_a_plain_presence() -> None:
    gather = Gather(lambda room: None, Clock())
    gather.take("r", event("A"), 2)
    gather.take("r", event("B", role="listener"), 2)
    assert gather.flush("r") == Presence("r", "join", "B", "listener")


async def test_dropped_room_sends_nothing() -> None:
    due: list[str] = []
    gather = Gather(due.append, Clock())
    gather.take("r", event("A"), 2)
    gather.take("r", event("B"), 2)
    gather.drop("r")
    await asyncio.sleep(WINDOW * 1.5)
    assert due == [] and gather.flush("r") is None and not gather.pending("r")


@given(st.lists(st.booleans(), min_size=2, max_size=80))
def test_a_batch_counts_everyone_and_names_staff_first(changes: list[bool]) -> None:
    # handles repeat (people come and go again); a handle keeps one role
    events = [
        Presence(
            "r", "join" if joins else "leave", f"h{i % 30}", "listener" if i % 30 < 5 else "seeker"
        )
        for i, joins in enumerate(changes)
    ]
    frame = batch("r", events)
    final = {e.handle: e.event for e in events}
    if len(events) == 1:
        return
    assert isinstance(frame, PresenceBatch)
    assert frame.joined == sum(1 for v in final.values() if v == "join")
    assert frame.left == len(final) - frame.joined
    named = frame.joins + frame.leaves
    assert len(named) == min(NAMED, len(final)) == len({m.handle for m in named})
    assert all(final[m.handle] == "join" for m in frame.joins)
    assert all(final[m.handle] == "leave" for m in frame.leaves)
    staff = sum(1 for h in final if int(h[1:]) < 5)
    assert sum(1 for m in named if m.role == "listener") == min(staff, NAMED)
    order = [e.handle for e in events]
    assert [m.handle for m in frame.joins] == sorted(
        (m.handle for m in frame.joins), key=order.index
    )


def test_window_grows_with_the_room_up_to_a_bound() -> None:
    assert window(1) == window(100) == WINDOW
    assert window(400) == 4 * WINDOW
    assert window(100_000) == MAX_WINDOW


class Socket:
    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.transport = self

    def get_write_buffer_size(self) -> int:
        return 0


def fanout(sockets: list[Socket], data: bytes, *, text: bool) -> None:
    for ws in sockets:
        ws.frames.append(msgpack.unpackb(data))


async def test_a_room_filling_costs_each_member_a_bounded_number_of_frames() -> None:
    hub = Hub(MemoryBroker(), fanout=fanout)
    members = [Session(f"s{i}", f"H{i}", "seeker", MSGPACK, "t", ws=Socket()) for i in range(300)]
    for i, session in enumerate(members):  # everyone joins within one window
        await hub.attach("r", session)
        hub.deliver("r", 0, pack(Presence("r", "join", f"H{i}", "seeker")))
    message = Message("r", "m", 0, "H0", "seeker", "hi", 1)
    hub.deliver("r", 1, pack(message))  # flushes the pending batch first
    first: Any = members[0].ws
    kinds = [f["type"] for f in first.frames]
    assert kinds == ["presence", "presence_batch", "message"]
    hub.deliver("r", 0, pack(Presence("r", "leave", "H7", "seeker")))
    await asyncio.sleep(window(300) * 1.5)  # a change of the next window, when it ends
    assert first.frames[-1] == {**event("H7", "leave"), "room": "r"}
    assert first.frames[1]["joined"] == 299 and len(first.frames[1]["joins"]) == NAMED
    presence = sum(
        1
        for s in members
        for f in s.ws.frames
        if f["type"].startswith("presence") and f.get("event") != "leave"
    )
    assert presence == 1 + len(members)  # O(n): one frame per join would be n²/2 (45,000)


def record(role: str) -> bytes:
    return MemberRecord(role, "n1").encode()


def test_joined_lists_everyone_in_a_small_room_and_you_and_staff_first_in_a_big_one() -> None:
    small = {"b": record("seeker"), "a": record("listener")}
    assert listing(small, "b") == (Member("a", "listener"), Member("b", "seeker"))
    big = {f"h{i:03}": record("seeker") for i in range(200)}
    big["zz staff"] = record("moderator")
    listed = listing(big, "h150")
    assert len(listed) == LISTED
    assert listed[:2] == (Member("h150", "seeker"), Member("zz staff", "moderator"))
    assert len({m.handle for m in listed}) == LISTED and all(m.role == "seeker" for m in listed[2:])
