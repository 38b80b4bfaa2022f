"""The reaction store interface: per room, per message, the reactions each participant
gave. Twins: :mod:`.memory` (one process) and :mod:`.redis` (one Lua script per change);
both pass ``tests/contracts/test_reaction_store_contract.py``.

Why the store keeps *who* reacted, not only counts: one of each reaction per person and
message (a tap twice is an undo, never a second count), and a muted person's reactions
are hidden from whoever muted them, so counts are per viewer
(:meth:`Tally.counts` with the viewer's muted set). A reactor is an opaque id (the
feature passes a session id); nothing else about anyone is kept.

Bounds, as the replay history: at most ``max_messages`` messages per room (the lowest
``seq`` is dropped first), at most :data:`MAX_REACTORS` people per message, and a
message's reactions expire ``ttl`` seconds (the history's ``history_seconds``) after
their last change.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

from protocol.fields import REACTIONS

#: Most people whose reactions one message keeps (group rooms hold a handful).
MAX_REACTORS = 64


class ReactionError(Exception):
    """Base of reaction store failures."""


@dataclass(frozen=True, slots=True)
class Tally:
    """The reactions to one message: reactor id -> the reactions they gave, in
    :data:`~protocol.fields.REACTIONS` order."""

    message: str
    seq: int
    given: dict[str, tuple[str, ...]]

    def counts(self, hidden: Collection[str] = ()) -> dict[str, int]:
        """Reaction -> how many people gave it, leaving out ``hidden`` reactors (those the
        viewer muted); only reactions with a count of at least one."""
        out: dict[str, int] = {}
        for reactor, reactions in self.given.items():
            if reactor not in hidden:
                for reaction in reactions:
                    out[reaction] = out.get(reaction, 0) + 1
        return {r: out[r] for r in REACTIONS if r in out}

    def mine(self, reactor: str) -> tuple[str, ...]:
        return self.given.get(reactor, ())


def ordered(reactions: Collection[str]) -> tuple[str, ...]:
    return tuple(r for r in REACTIONS if r in reactions)


class ReactionStore(Protocol):
    async def react(
        self, room: str, message: str, seq: int, reactor: str, reaction: str, *, undo: bool = False
    ) -> Tally | None:
        """Give (or with ``undo`` take back) ``reaction`` to message ``message`` (at
        ``seq`` in ``room``), atomically; the message's tally after it. Giving twice or
        taking back what was not given changes nothing. None, changing nothing, when the
        message already has :data:`MAX_REACTORS` other reactors, or when the room is full
        and the message is older than every one kept."""

    async def tallies(self, room: str) -> list[Tally]:
        """Every message of ``room`` with reactions, by ``seq`` (for the replay on resume)."""

    async def forget(self, room: str) -> None:
        """The room is gone: drop its reactions now rather than at expiry."""

    async def close(self) -> None: ...
