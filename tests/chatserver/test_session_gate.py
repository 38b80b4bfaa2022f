"""The delivery gate (nothing of a room before `joined`), as a state machine: whatever
order history and live deliveries come in, what reaches the client is each message once,
in seq order, above the floor, without the dropped room or muted senders."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from chatserver.envelopes import pack
from chatserver.session import Session
from protocol import JSON
from protocol.messages import Message


class Socket:
    transport = None


class Recording(Session):
    def send_bytes(self, data: bytes) -> None:
        self.__dict__.setdefault("out", []).append(orjson.loads(data))


def member() -> Recording:
    return Recording(id="me", handle="H", role="seeker", codec=JSON, resume_token="t", ws=Socket())


def payload(seq: int, sender: str = "other") -> bytes:
    return pack(Message("r", f"m{seq}", 0, "X", "seeker", f"t{seq}", 1), sender)


def delivered(session: Session) -> list[dict[str, Any]]:
    return list(session.__dict__.get("out", []))


@given(
    history=st.integers(min_value=0, max_value=20),
    live=st.integers(min_value=0, max_value=20),
    overlap=st.integers(min_value=0, max_value=20),
)
def test_history_then_parked_each_once_in_order(history: int, live: int, overlap: int) -> None:
    session = member()
    assert session.park() and not session.park()  # an inner park leaves the outer one
    first_live = max(1, history - overlap + 1)
    for seq in range(first_live, first_live + live):
        session.hold("r", seq, payload(seq))
    assert delivered(session) == []
    session.release([("r", seq, payload(seq)) for seq in range(1, history + 1)])
    seqs = [f["seq"] for f in delivered(session)]
    assert seqs == sorted(set(seqs))
    assert set(seqs) == set(range(1, history + 1)) | set(range(first_live, first_live + live))
    assert session.pending is None


def test_floor_drop_and_mutes() -> None:
    session = member()
    session.mute("pest")
    session.park()
    session.hold("r", 1, payload(1))
    session.hold("r", 2, payload(2, sender="pest"))
    session.hold("r", 3, payload(3))
    session.hold("gone", 9, payload(9))
    session.release([], floor={"r": 1}, drop="gone")
    assert [f["seq"] for f in delivered(session)] == [3]


def test_unpark_sends_nothing() -> None:
    session = member()
    session.park()
    session.hold("r", 1, payload(1))
    session.unpark()
    assert delivered(session) == [] and session.pending is None
    session.hold("r", 2, payload(2))  # not parked: the hub sends directly, hold ignores it
    assert session.pending is None
