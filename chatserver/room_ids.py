"""Room ids. A topic's group rooms are the topic itself, then ``topic-2``, ``topic-3``,
...; in a language with rooms of its own, ``topic@es``, ``topic@es-2``, ...
(:mod:`chatserver.room_names`); anything else (a private one-to-one room, ``p-<hex>``) is
not a group room."""

from __future__ import annotations

import re
from collections.abc import Container

GROUP_ROOM = re.compile(
    r"^(?P<topic>[a-z0-9_]+)(?:@(?P<lang>[a-z]{2,3}))?(?:-(?P<n>[1-9][0-9]{0,3}))?$"
)


def group_topic(room: str, topics: Container[str]) -> str | None:
    """The topic of a group room (``anxiety-2``, ``anxiety@es-2`` -> ``anxiety``); None
    for other rooms."""
    match = GROUP_ROOM.match(room)
    if match is None or match["topic"] not in topics:
        return None
    return match["topic"]
