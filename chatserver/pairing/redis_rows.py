"""What the Lua scripts of the Redis pairing store answer, read into the store's types,
and what the write-back sends them (:func:`holdings_blob`). Apart from :mod:`.redis` so
that the store reads as its calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgpack

from chatserver.pairing.base import DEFAULT_LANGUAGE, MAX_AVOID, Holdings, Pair, Tier, Waiting


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def split(joined: str) -> tuple[str, ...]:
    return tuple(x for x in joined.split(",") if x)


def pair(values: Sequence[Any] | None) -> Pair | None:
    """A Pair from the script's PAIR_FIELDS, in their order (None: no pair)."""
    if not values:
        return None
    v = [text(x) if x else "" for x in values]
    return Pair(
        room=v[0],
        topic=v[1],
        seeker=v[2],
        seeker_node=v[3],
        seeker_handle=v[4],
        listener=v[5],
        listener_node=v[6],
        listener_name=v[7],
        at_risk=v[8] == "1",
        waited=float(v[9]),
        language=v[10] or DEFAULT_LANGUAGE,
        need=v[11] or None,
        shared=v[12] != "0",
    )


def pairs(rows: Sequence[Any] | None) -> tuple[Pair, ...]:
    return tuple(p for p in (pair(row) for row in rows or ()) if p is not None)


def waiting(seeker: str, fields: Sequence[Any]) -> Waiting:
    """A Waiting from the hash fields (topic, node, handle, since, tier, avoid, lang, need,
    any), in that order."""
    topic, node, handle, since, tier, avoid, lang, need, any_ = (
        text(x) if x else "" for x in fields
    )
    return Waiting(
        seeker,
        topic,
        node,
        handle,
        float(since),
        Tier(int(tier)),
        split(avoid),
        language=lang or DEFAULT_LANGUAGE,
        need=need or None,
        any_language=any_ == "1",
    )


def holdings_blob(h: Holdings) -> bytes:
    """What :data:`~.redis_nodes_lua.RESTORE` reads: every field a string."""
    seekers = [
        [w.seeker, w.topic, w.node, w.handle, repr(w.since), str(int(w.tier)),
         ",".join(w.avoid[-MAX_AVOID:]), "1" if w.seeker in h.away else "0", w.language,
         w.need or "", "1" if w.any_language else "0"]
        for w in h.waiting
    ]  # fmt: skip
    seats = [
        [s.listener, s.node, s.name, ",".join(s.topics), str(s.capacity), str(s.active),
         "1" if s.auto else "0", ",".join(s.languages)]
        for s in h.seats
    ]  # fmt: skip
    chats = [
        [p.room, p.topic, p.seeker, p.seeker_node, p.seeker_handle, p.listener,
         p.listener_node, p.listener_name, "1" if p.at_risk else "0", repr(p.waited),
         p.language, p.need or "", "1" if p.shared else "0"]
        for p in h.pairs
    ]  # fmt: skip
    blob: bytes = msgpack.packb([seekers, seats, chats])
    return blob
