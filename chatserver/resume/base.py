"""The session store: snapshots of sessions, keyed by a hash of their resume token, so a
client that reconnects to *any* node within the grace gets its session back.

Only a hash of the token is stored (a leaked key cannot be replayed as a token), and a
snapshot holds no message text: handle, role, rooms and seats. ``take`` is atomic and
leaves a marker in the snapshot's place until it would have expired: two resumes of one
token (on two nodes, or one) have exactly one winner, the node that still holds the
session learns that it was resumed elsewhere (its ``take`` answers :data:`TAKEN`), and its
``save`` can never bring the used token back. Twins: :mod:`.memory`, :mod:`.redis`.
"""

from __future__ import annotations

import enum
import hashlib
from typing import Final, Protocol


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:40]


class Taken(enum.Enum):
    TAKEN = "taken"


#: What ``take`` answers when an earlier ``take`` got the snapshot.
TAKEN: Final = Taken.TAKEN
#: The value a taken snapshot leaves behind (a snapshot is a MessagePack map: never this).
MARKER: Final = b"taken"


class SessionStore(Protocol):
    async def save(self, key: str, snapshot: bytes, ttl: float) -> bool:
        """Store or refresh a snapshot for ``ttl`` seconds. False (nothing stored) when
        the key was taken: its session was resumed, so this snapshot is stale."""

    async def take(self, key: str) -> bytes | Taken | None:
        """Remove and return a snapshot, atomically, leaving the marker: None if there
        is none (never saved, expired, deleted), TAKEN if an earlier take got it."""

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...
