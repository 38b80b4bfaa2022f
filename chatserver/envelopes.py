"""What nodes send each other, typed: the room payload, the member record, control messages.

The wire between clients and nodes is :mod:`protocol`; this module is the wire between
nodes, and the only place that knows its keys. Everything else builds and reads these
frozen dataclasses.

- **Room payload**: a server frame's wire map as MessagePack, plus two private keys the
  hub strips before any client sees the frame: the sender's session id (for mutes) and the
  marker of a client-named message (to recognise a copy sent again). :func:`pack` builds
  it, :func:`unpack` reads it back; :func:`marker_bytes` is the byte string a payload
  carrying a marker contains, so history can be searched without decoding each entry.
- **Room signal**: "something of this room changed" for a feature on each node with
  members there (:func:`pack_signal`); never shown to a client.
- **Member record**: what a room's member table holds for a handle (:class:`MemberRecord`).
- **Control messages**: a tagged union (:data:`Control`) sent on ``@node:<id>``,
  ``@queues`` and ``@mod``; :func:`encode_control` / :func:`decode_control`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import msgpack

from chatserver.pairing.base import Pair
from protocol import frame_to_dict

#: Payload key for the sender's session id; removed before any frame reaches a client.
_SENDER = "_s"
#: Payload key for the marker of a message the client named (``cid``).
_MARKER = "_c"


# ---------------------------------------------------------------------- room payload


def pack(frame: Any, sender: str | None = None, marker: str | None = None) -> bytes:
    """A room payload for the broker: the frame's wire map with the private keys."""
    data = frame_to_dict(frame)
    if sender is not None:
        data[_SENDER] = sender
    if marker is not None:
        data[_MARKER] = marker
    packed: bytes = msgpack.packb(data)
    return packed


def unpack(payload: bytes, seq: int) -> tuple[dict[str, Any], str | None]:
    """A room payload as the client-facing wire map (``seq`` set when sequenced, private
    keys removed) and the sender's session id (None for events nobody sent)."""
    frame: dict[str, Any] = msgpack.unpackb(payload, raw=False)
    if seq:
        frame["seq"] = seq
    sender = frame.pop(_SENDER, None)
    frame.pop(_MARKER, None)
    return frame, sender


def unpack_raw(payload: bytes) -> dict[str, Any]:
    """A room payload as stored (private keys kept), for reading history entries."""
    data: dict[str, Any] = msgpack.unpackb(payload, raw=False)
    return data


def sender_of(data: dict[str, Any]) -> str | None:
    """The sender's session id in a map from :func:`unpack_raw`."""
    sender = data.get(_SENDER)
    return str(sender) if sender is not None else None


def marker_bytes(marker: str) -> bytes:
    """The marker as it appears inside a payload: key, then value (a byte search for it
    finds the first copy in history without decoding every entry)."""
    return bytes(msgpack.packb(_MARKER)) + bytes(msgpack.packb(marker))


def field_bytes(name: str, value: str) -> bytes:
    """A string field as it appears inside a payload, key then value (a byte search for a
    message's ``id`` in history without decoding every entry)."""
    return bytes(msgpack.packb(name)) + bytes(msgpack.packb(value))


# ---------------------------------------------------------------------- room signals

#: The type of a room signal starts with this, which no client frame type does.
_SIGNAL = "@"


def pack_signal(kind: str, key: str) -> bytes:
    """A room payload for the features of the nodes with members in the room, never for
    a client: "``kind`` changed for ``key``" (reactions to a message, say). The hub hands
    it to the feature that listens for ``kind`` (:func:`signal_of`)."""
    packed: bytes = msgpack.packb({"type": _SIGNAL + kind, "k": key})
    return packed


def signal_of(frame: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, key) when an unpacked room payload is a signal, else None."""
    kind = frame.get("type")
    if isinstance(kind, str) and kind.startswith(_SIGNAL):
        return kind[len(_SIGNAL) :], str(frame.get("k", ""))
    return None


# ---------------------------------------------------------------------- member record


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A room member as the broker's member table stores it. Whether the seat is held
    for a dropped connection is the broker's own record (``Broker.hold``), not this."""

    role: str
    node: str
    session: str | None = None

    def encode(self) -> bytes:
        record = {"role": self.role, "node": self.node, "s": self.session}
        data: bytes = msgpack.packb(record)
        return data

    @staticmethod
    def is_seeker(raw: bytes) -> bool:
        """Whether ``raw`` is a seeker's record, read without decoding it (the role is its
        first field): a big room's ``joined`` looks for its few staff among many."""
        return raw.startswith(_SEEKER_RECORD)

    @classmethod
    def decode(cls, raw: bytes) -> MemberRecord:
        """Tolerant: a record this node cannot read is an anonymous seeker."""
        try:
            data = msgpack.unpackb(raw, raw=False)
            session = data.get("s")
            return cls(
                str(data.get("role", "seeker")),
                str(data.get("node", "")),
                str(session) if session is not None else None,
            )
        except Exception:
            return cls("seeker", "")


#: How every seeker's record begins: a map of three entries, ``role`` first.
_SEEKER_RECORD = b"\x83" + bytes(msgpack.packb({"role": "seeker"}))[1:]


# ---------------------------------------------------------------------- control messages


@dataclass(frozen=True, slots=True)
class PairSeeker:
    """To the seeker's node: seat the seeker in the private room (step 1 of pairing)."""

    KIND: ClassVar[str] = "pair"
    pair: Pair
    ref: str | None = None

    def lane(self) -> str:
        return "s:" + self.pair.seeker


@dataclass(frozen=True, slots=True)
class PairListener:
    """To the listener's node: seat the listener (step 2 of pairing)."""

    KIND: ClassVar[str] = "pair_listener"
    pair: Pair
    ref: str | None = None

    def lane(self) -> str:
        return "s:" + self.pair.listener


@dataclass(frozen=True, slots=True)
class ChatOver:
    """A one-to-one chat ended: tell its local members, and requeue the seeker if
    ``requeue`` carries the pair."""

    KIND: ClassVar[str] = "ended"
    room: str
    reason: str
    listener: str | None = None
    by: str | None = None
    ref: str | None = None
    requeue: Pair | None = None

    def lane(self) -> str:
        # after the listener's pairings: a seat freed here may already be taken again
        return "s:" + self.listener if self.listener else "r:" + self.room


@dataclass(frozen=True, slots=True)
class AcceptFailed:
    """To a listener's node: the seeker they accepted lost their connection as the pair
    was made (they keep their place), and nobody else waits: answer the ``accept``."""

    KIND: ClassVar[str] = "accept_failed"
    listener: str
    ref: str

    def lane(self) -> str:
        return "s:" + self.listener


@dataclass(frozen=True, slots=True)
class Moved:
    """Another node resumed this session: forget it here, keep its seats."""

    KIND: ClassVar[str] = "moved"
    session: str

    def lane(self) -> str:
        return "s:" + self.session


@dataclass(frozen=True, slots=True)
class RemoveMember:
    """Moderation, heard by every node: take ``session`` out of ``room`` ("*": all)."""

    KIND: ClassVar[str] = "remove"
    session: str
    room: str
    cooldown: float

    def lane(self) -> str:
        return "s:" + self.session


@dataclass(frozen=True, slots=True)
class Suspend:
    """Moderation, heard by every node: pause ``session``'s messages until ``until``."""

    KIND: ClassVar[str] = "suspend"
    session: str
    until: float

    def lane(self) -> str:
        return "s:" + self.session


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Heard by every node: the listener whose id hashes to ``listener`` signed in as
    ``session`` at ``at`` (wall clock); its older consoles, wherever they are, close."""

    KIND: ClassVar[str] = "signed_in"
    listener: str
    session: str
    at: float

    def lane(self) -> str:
        return "l:" + self.listener


@dataclass(frozen=True, slots=True)
class QueueChanged:
    """A topic's queue changed, ``matches`` times by a pairing. Coalesced per topic."""

    KIND: ClassVar[str] = "queue"
    topic: str
    matches: int = 0

    def lane(self) -> str:
        return "q:" + self.topic


@dataclass(frozen=True, slots=True)
class RoomEnded:
    """A room was closed by its staff (local only: raised by the hub after fan-out)."""

    KIND: ClassVar[str] = "room_ended"
    room: str

    def lane(self) -> str:
        return "r:" + self.room


@dataclass(frozen=True, slots=True)
class ReactionsChanged:
    """The reactions to ``message`` of ``room`` changed (local: raised from a room signal),
    so this node shows its members the new counts."""

    KIND: ClassVar[str] = "reactions"
    room: str
    message: str

    def lane(self) -> str:
        return "r:" + self.room


@dataclass(frozen=True, slots=True)
class ReplayReactions:
    """A session resumed here (local): send it the reactions of its rooms."""

    KIND: ClassVar[str] = "replay_reactions"
    session: str

    def lane(self) -> str:
        return "s:" + self.session


Control = (
    PairSeeker | PairListener | ChatOver | AcceptFailed | Moved | RemoveMember | Suspend
    | SignedIn | QueueChanged | RoomEnded | ReactionsChanged | ReplayReactions
)  # fmt: skip

_PAIR_KEYS = (
    "room", "topic", "seeker", "seeker_node", "seeker_handle", "listener", "listener_node",
    "listener_name", "at_risk", "waited",
)  # fmt: skip
#: the pair's language, need and shared: absent from an older node's message (the
#: one-language defaults then)
_PAIR_OPTIONAL = ("language", "need", "shared")


def _pair_fields(pair: Pair) -> dict[str, Any]:
    return {k: getattr(pair, k) for k in (*_PAIR_KEYS, *_PAIR_OPTIONAL)}


def _pair_from(data: dict[str, Any]) -> Pair:
    optional = {k: data[k] for k in _PAIR_OPTIONAL if k in data}
    return Pair(**{k: data[k] for k in _PAIR_KEYS}, **optional)


def _to_map(message: Control) -> dict[str, Any]:  # noqa: PLR0911 - one case per kind
    match message:
        case PairSeeker(pair, ref) | PairListener(pair, ref):
            return {"k": message.KIND, **_pair_fields(pair), "ref": ref}
        case ChatOver():
            requeue = _pair_fields(message.requeue) if message.requeue is not None else None
            return {
                "k": "ended", "room": message.room, "reason": message.reason,
                "listener": message.listener, "by": message.by, "ref": message.ref,
                "requeue": requeue,
            }  # fmt: skip
        case AcceptFailed(listener, ref):
            return {"k": "accept_failed", "l": listener, "ref": ref}
        case Moved(session):
            return {"k": "moved", "s": session}
        case RemoveMember(session, room, cooldown):
            return {"k": "mod", "a": "remove", "s": session, "room": room, "cool": cooldown}
        case Suspend(session, until):
            return {"k": "mod", "a": "suspend", "s": session, "until": until}
        case SignedIn(listener, session, at):
            return {"k": "signed_in", "l": listener, "s": session, "at": at}
        case QueueChanged(topic, matches):
            return {"k": "queue", "topic": topic, "m": matches}
        case RoomEnded(room):
            return {"k": "room_ended", "room": room}
        case ReactionsChanged(room, key):
            return {"k": "reactions", "room": room, "id": key}
        case ReplayReactions(session):
            return {"k": "replay_reactions", "s": session}


def encode_control(message: Control) -> bytes:
    data: bytes = msgpack.packb(_to_map(message))
    return data


def decode_control(payload: bytes) -> Control | None:
    """The control message in ``payload``; None for a kind this node does not know."""
    return _from_map(msgpack.unpackb(payload, raw=False))


def _from_map(data: dict[str, Any]) -> Control | None:  # noqa: PLR0911 - one case per kind
    kind = data.get("k")
    if kind in ("pair", "pair_listener"):
        cls = PairSeeker if kind == "pair" else PairListener
        return cls(_pair_from(data), data.get("ref"))
    if kind == "ended":
        requeue = _pair_from(data["requeue"]) if data.get("requeue") else None
        return ChatOver(
            data["room"], data["reason"], data.get("listener"), data.get("by"),
            data.get("ref"), requeue,
        )  # fmt: skip
    if kind == "accept_failed":
        return AcceptFailed(str(data["l"]), str(data["ref"]))
    if kind == "moved":
        return Moved(str(data["s"]))
    if kind == "mod" and data.get("a") == "remove":
        return RemoveMember(str(data["s"]), data["room"], float(data["cool"]))
    if kind == "mod" and data.get("a") == "suspend":
        return Suspend(str(data["s"]), float(data["until"]))
    if kind == "signed_in":
        return SignedIn(str(data["l"]), str(data["s"]), float(data["at"]))
    if kind == "queue":
        return QueueChanged(data["topic"], int(data.get("m") or 0))
    if kind == "room_ended":
        return RoomEnded(data["room"])
    if kind == "reactions":
        return ReactionsChanged(data["room"], data["id"])
    if kind == "replay_reactions":
        return ReplayReactions(str(data["s"]))
    return None
