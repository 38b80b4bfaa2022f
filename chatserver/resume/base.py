"""The session store: snapshots of sessions, keyed by a hash of their resume token, so a
client that reconnects to *any* node within the grace gets its session back.

Only a hash of the token is stored (a leaked key cannot be replayed as a token), and a
snapshot holds no message text: handle, role, rooms and seats. ``take`` is atomic, so two
nodes can never resume the same session. Twins: :mod:`.memory`, :mod:`.redis`.
"""

from __future__ import annotations

import hashlib
from typing import Protocol


def token_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:40]


class SessionStore(Protocol):
    async def save(self, key: str, snapshot: bytes, ttl: float) -> None:
        """Store or refresh a snapshot for ``ttl`` seconds."""

    async def take(self, key: str) -> bytes | None:
        """Remove and return a snapshot, atomically; None if absent or expired."""

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...
