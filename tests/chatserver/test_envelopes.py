"""The typed envelopes between nodes: every control message survives encode -> decode,
room payloads keep their private keys away from clients, member records are tolerant."""

from __future__ import annotations

import msgpack
from hypothesis import given
from hypothesis import strategies as st

from chatserver.envelopes import (
    AcceptFailed,
    ChatOver,
    Control,
    MemberRecord,
    Moved,
    PairListener,
    PairSeeker,
    QueueChanged,
    ReactionsChanged,
    RemoveMember,
    ReplayReactions,
    RoomEnded,
    SignedIn,
    Suspend,
    decode_control,
    encode_control,
    marker_bytes,
    pack,
    pack_signal,
    sender_of,
    signal_of,
    unpack,
    unpack_raw,
)
from chatserver.pairing.base import Pair
from protocol.messages import Message

ids = st.text(min_size=1, max_size=12)
maybe = st.none() | ids
times = st.floats(min_value=0, max_value=1e10, allow_nan=False)
pairs = st.builds(
    Pair,
    room=ids, topic=ids, seeker=ids, seeker_node=ids, seeker_handle=ids, listener=ids,
    listener_node=ids, listener_name=ids, at_risk=st.booleans(), waited=times,
    language=st.sampled_from(["en", "es", "fil"]), need=st.sampled_from([None, "listen", "ideas"]),
    shared=st.booleans(),
)  # fmt: skip
controls: st.SearchStrategy[Control] = st.one_of(
    st.builds(PairSeeker, pairs, maybe),
    st.builds(PairListener, pairs, maybe),
    st.builds(ChatOver, ids, ids, maybe, maybe, maybe, st.none() | pairs),
    st.builds(AcceptFailed, ids, ids),
    st.builds(Moved, ids),
    st.builds(RemoveMember, ids, ids, times),
    st.builds(Suspend, ids, times),
    st.builds(SignedIn, ids, ids, times),
    st.builds(QueueChanged, ids, st.integers(min_value=0, max_value=1000)),
    st.builds(RoomEnded, ids),
    st.builds(ReactionsChanged, ids, ids),
    st.builds(ReplayReactions, ids),
)


@given(controls)
def test_every_control_message_round_trips(message: Control) -> None:
    assert decode_control(encode_control(message)) == message


def test_an_unknown_control_kind_is_ignored() -> None:
    assert decode_control(msgpack.packb({"k": "from_the_future", "x": 1})) is None


def test_a_requeue_keeps_the_room_that_ended() -> None:
    pair = Pair("p-1", "grief", "s", "n1", "Kim", "l", "n2", "Sam", False, 3.0)
    over = ChatOver("p-1", "listener_left", listener="l", requeue=pair)
    assert decode_control(encode_control(over)) == over
    assert over.lane() == "s:l"


def test_a_pair_from_an_older_node_has_the_one_language_defaults() -> None:
    """A node that does not know languages yet sends pairs without them."""
    pair = Pair("p-1", "grief", "s", "n1", "Kim", "l", "n2", "Sam", False, 3.0, "es", "listen")
    data = msgpack.unpackb(encode_control(PairSeeker(pair, None)))
    for key in ("language", "need", "shared"):
        del data[key]
    got = decode_control(msgpack.packb(data))
    assert isinstance(got, PairSeeker)
    assert got.pair == Pair("p-1", "grief", "s", "n1", "Kim", "l", "n2", "Sam", False, 3.0)


@given(st.text(max_size=50), maybe, maybe, st.integers(min_value=0, max_value=2**40))
def test_room_payload_hides_sender_and_marker_from_clients(
    text: str, sender: str | None, marker: str | None, seq: int
) -> None:
    message = Message("r", "id", 0, "H", "seeker", text, 1)
    payload = pack(message, sender, marker)
    frame, got_sender = unpack(payload, seq)
    assert got_sender == sender
    assert frame["text"] == text and frame["type"] == "message"
    assert all(not key.startswith("_") for key in frame)
    if seq:
        assert frame["seq"] == seq
    raw = unpack_raw(payload)
    assert sender_of(raw) == sender
    if marker is not None:
        assert marker_bytes(marker) in payload


def test_member_record_round_trips_and_tolerates_garbage() -> None:
    record = MemberRecord("listener", "node-1", "abc")
    assert MemberRecord.decode(record.encode()) == record
    assert MemberRecord.decode(b"\xc1 not msgpack") == MemberRecord("seeker", "")


def test_room_signals_are_for_features_never_for_clients() -> None:
    frame, sender = unpack(pack_signal("reactions", "m-5"), 0)
    assert signal_of(frame) == ("reactions", "m-5") and sender is None
    message, _ = unpack(pack(Message("grief", "m1", 0, "Calm Heron", "seeker", "hi", 1)), 3)
    assert signal_of(message) is None
