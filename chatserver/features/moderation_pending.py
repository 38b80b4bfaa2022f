"""Moderation that waits for its person: a removal or suspension for a session that no
living node holds right now (its node died while its connection was down) is kept in the
session store, beside the snapshots and with their lifetime, and carried out when the
session is resumed, on whatever node.

Every action is written before it is announced on ``@mod``; a node that holds the session
carries it out and deletes the note, so a note only outlives the announcement when
nobody heard it. Notes are control messages (:mod:`chatserver.envelopes`), keyed by
session id: ``mod:s:<session>`` for a suspension, ``mod:r:<session>:<room>`` for a
removal (``*``: every room). They hold no text.
"""

from __future__ import annotations

import asyncio
import contextlib

from chatserver.broker.base import BrokerUnavailable
from chatserver.envelopes import RemoveMember, Suspend, decode_control, encode_control
from chatserver.sessions import SessionRegistry

Action = RemoveMember | Suspend


def note_key(message: Action) -> str:
    if isinstance(message, Suspend):
        return f"mod:s:{message.session}"
    return f"mod:r:{message.session}:{message.room}"


class PendingActions:
    def __init__(self, sessions: SessionRegistry) -> None:
        self.sessions = sessions

    async def keep(self, message: Action) -> None:
        """Write the note (before the action is announced)."""
        await self.sessions.keep_note(note_key(message), encode_control(message))

    async def done(self, message: Action) -> None:
        """A node that holds the session carried it out: the note goes."""
        # on failure it expires with the snapshots; carrying it out again changes nothing
        with contextlib.suppress(BrokerUnavailable):
            await self.sessions.drop_note(note_key(message))

    async def waiting_for(self, session_id: str, rooms: list[str]) -> list[Action]:
        """The actions noted for a session resumed here (taken: each is carried out once)."""
        keys = [f"mod:s:{session_id}", f"mod:r:{session_id}:*"]
        keys += [f"mod:r:{session_id}:{room}" for room in rooms]
        found = await asyncio.gather(*(self.sessions.take_note(key) for key in keys))
        actions: list[Action] = []
        for raw in found:
            message = decode_control(raw) if raw is not None else None
            if isinstance(message, RemoveMember | Suspend):
                actions.append(message)
        return actions
