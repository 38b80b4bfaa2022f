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
    listener_token_ttl: int = 8 * 3600  # tokens.SHIFT_SECONDS
    max_group_rooms: int = 1000
    seats_per_connection: int = 3
    address_topic_share: float = 0.05
    max_seats: int = 0


def locale_of(ws: object) -> str | None:
    """A socket's locale: its ``?lang=`` (the widget's language, which a site may set
    apart from the browser's), else the first language of Accept-Language ("en-GB")."""
    request = getattr(ws, "request", None)
    if request is None:
        return None
    return locale_from(request.path, request.headers.get("Accept-Language"))
