"""The node's chat rules, frozen at start-up, and reading a socket's language."""

from __future__ import annotations

from dataclasses import dataclass

from chatserver.texts import locale_from
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
    #: a seeker's language when they say none; the language of the topics' first rooms
    default_language: str = "en"
    #: other languages with their own group rooms per topic (``grief@es``)
    room_languages: tuple[str, ...] = ()


def locale_of(ws: object) -> str | None:
    """The socket's locale: its ``lang`` query parameter (``/?lang=es-MX``, which the web
    widget sends: the language it is shown in), else the first language of its
    Accept-Language header ("en-GB"), if any."""
    request = getattr(ws, "request", None)
    if request is None:
        return None
    return locale_from(str(getattr(request, "path", "")), request.headers.get("Accept-Language"))
