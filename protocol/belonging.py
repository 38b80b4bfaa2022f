"""Frames of belonging: the language choice a waiting seeker is offered, and supportive
reactions. They live beside :mod:`protocol.messages` (which registers them) to keep each
module short; the fields the feature adds to older frames (a seeker's language and need,
a listener's languages, a room's language) are in :mod:`protocol.messages` itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from protocol.fields import Choice, Language, Reaction

# --------------------------------------------------------------------------- client -> server


@dataclass(frozen=True, slots=True)
class SupportChoice:
    """A waiting seeker's answer to ``language_unavailable``: ``wait`` for a listener who
    speaks their language, or talk with ``any`` listener now (keeping their place)."""

    TYPE: ClassVar[str] = "support_choice"
    choice: Choice
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class React:
    """Give (or with ``undo``, take back) one supportive reaction to message ``id`` of
    ``room``. One of each reaction per person and message."""

    TYPE: ClassVar[str] = "react"
    room: str
    id: str
    reaction: Reaction
    undo: bool | None = None
    ref: str | None = None


# --------------------------------------------------------------------------- server -> client


@dataclass(frozen=True, slots=True)
class LanguageUnavailable:
    """To a waiting seeker: no listener who speaks ``language`` is on duty for ``topic``
    now; ``available`` are the languages of those who are (may be empty). Answer with
    ``support_choice``; while you keep waiting, this comes again after a while."""

    TYPE: ClassVar[str] = "language_unavailable"
    topic: str
    language: Language
    available: tuple[Language, ...]


@dataclass(frozen=True, slots=True)
class Reactions:
    """How many people gave each reaction to message ``id`` (only reactions with a count
    of at least one; an empty map when none are left). ``mine``: the ones you gave.
    Sent to the room when they change, after the replay on resume, and as the answer to
    ``react`` (with its ``ref``)."""

    TYPE: ClassVar[str] = "reactions"
    room: str
    id: str
    counts: dict[Reaction, int]
    mine: tuple[Reaction, ...] | None = None
    ref: str | None = None
