"""The node's chat rules, frozen at start-up, and reading a socket's language."""

from __future__ import annotations

from dataclasses import dataclass

from protocol.messages import Limits


@dataclass(frozen=True, slots=True)
class ChatConfig:
    node_id: str
    topics: tuple[str, ...]
    max_text: int = 4000
    room_capacity: int = 8
    resume_grace: float = 60.0
    listener_secret: str = ""
    revoked_listeners_file: str = ""
    #: told to every client in ``welcome.limits`` (the connection enforces them)
    limits: Limits | None = None


def locale_of(ws: object) -> str | None:
    """The first language of the socket's Accept-Language header ("en-GB"), if any."""
    request = getattr(ws, "request", None)
    header = request.headers.get("Accept-Language") if request is not None else None
    if not header:
        return None
    first = header.split(",", 1)[0].split(";", 1)[0].strip()
    return first[:35] or None
