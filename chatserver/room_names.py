"""Group room names: a topic's rooms, by language, with overflow.

The rooms of a topic in the default language keep their names (``grief``, ``grief-2``,
...); a language with rooms of its own (``--room-languages``) has ``grief@es``,
``grief@es-2``, ... (SPEC 2.3, "Group rooms by topic and language"). Pure: the names a
``join`` may try, in order, and the language a room is held in.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass

from chatserver.room_ids import GROUP_ROOM


@dataclass(frozen=True, slots=True)
class RoomNames:
    topics: Collection[str]
    #: the language of the rooms without ``@``
    default: str
    #: the other languages with rooms of their own
    languages: Collection[str]
    #: the most rooms of one topic in one language
    last: int = 1000

    def base(self, topic: str, language: str | None) -> str:
        """The first room of ``topic`` in ``language``: its own where it has one, else the
        default language's (the kind fallback: never an error)."""
        if language and language != self.default and language in self.languages:
            return f"{topic}@{language}"
        return topic

    def candidates(self, requested: str, language: str | None, seeker: bool) -> list[str] | None:
        """Room ids to try for a ``join`` of ``requested``, in order; None when it names no
        group room. A topic (with no ``-n``) means its rooms in order for a seeker, who
        fills the first with space; anyone else gets exactly the first."""
        match = GROUP_ROOM.match(requested)
        if match is None or match["topic"] not in self.topics:
            return None
        lang = match["lang"]
        if lang is not None and (lang == self.default or lang not in self.languages):
            return None
        if match["n"] is not None:
            return [requested]
        base = requested if lang is not None else self.base(match["topic"], language)
        if not seeker:
            return [base]
        return list(_series_of(base, self.last))

    def language(self, room: str) -> str | None:
        """The language a group room is held in; None for any other room."""
        match = GROUP_ROOM.match(room)
        if match is None or match["topic"] not in self.topics:
            return None
        lang = match["lang"]
        if lang is None:
            return self.default
        return lang if lang != self.default and lang in self.languages else None


def series(room: str) -> str:
    """The rooms ``room`` overflows with: its name without ``-n`` (``grief@es-2`` ->
    ``grief@es``)."""
    match = GROUP_ROOM.match(room)
    if match is None:
        return room
    return match["topic"] + (f"@{match['lang']}" if match["lang"] else "")


@functools.lru_cache(maxsize=1024)
def _series_of(base: str, last: int) -> tuple[str, ...]:
    """A room series' names, built once: a join must not build a thousand names."""
    return (base, *(f"{base}-{n}" for n in range(2, last + 1)))
