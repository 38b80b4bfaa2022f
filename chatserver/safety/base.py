"""The filter contract: what a message filter sees, what it answers, and nothing else.

A filter is a small, pure object: ``check(FilterInput) -> Verdict``. It never touches the
socket, the room or the database, so it can be tested with plain strings, benchmarked without
an event loop and run in a worker thread when ``cpu_heavy`` says so. The pipeline
(``chatserver.safety.pipeline``) owns ordering, time budgets and failure policy; the server
owns what an action *means* on the wire.

Actions, from least to most intrusive for the sender:

- ``ALLOW``: deliver as is.
- ``CONTENT_WARNING``: deliver collapsed behind a warning (``Verdict.category``).
- ``REDACT``: deliver ``Verdict.text`` instead of the original.
- ``ESCALATE``: deliver, show the sender crisis resources and alert the listener.
- ``HOLD``: do not deliver yet; ask the sender to add a warning or edit, then re-send.
- ``BLOCK``: do not deliver.

Reason codes are stable snake_case strings: they go into logs and metrics, so they must
never contain message text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["ALLOW_VERDICT", "Action", "Filter", "FilterInput", "Verdict"]


class Action(enum.StrEnum):
    """What the server should do with a message (see the module docstring)."""

    ALLOW = "allow"
    CONTENT_WARNING = "content_warning"
    HOLD = "hold"
    ESCALATE = "escalate"
    REDACT = "redact"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class FilterInput:
    """One message as a filter sees it: the text plus the little context that changes meaning.

    ``recent`` lets a filter read a goodbye in the light of the despair that came before it;
    ``role`` lets it tell a listener's careful question from a seeker's disclosure.
    """

    text: str
    role: str = "seeker"  # "seeker" | "listener" | "moderator"
    recent: tuple[str, ...] = ()  # the sender's previous few messages in this room, oldest first
    lang: str | None = None  # hint, may be wrong
    room_consent: bool = False  # the room recorded "I'm ready to hear it" (relaxes trauma hold)
    confirmed_warning: str | None = None  # sender re-sent a held message with this CW category


@dataclass(frozen=True, slots=True)
class Verdict:
    """A filter's answer. ``reason`` is a stable code for logs and metrics, never text.

    ``score`` is a confidence in [0, 1] for the filter's own label (1.0 at or above its
    firing threshold); the classify command reports it and tuning uses it to rank misses.
    """

    labels: frozenset[str]
    action: Action
    reason: str  # stable snake_case reason code
    notice: str | None = None  # kind, plain sentence for the sender
    text: str | None = None  # replacement text (for REDACT)
    category: str | None = None  # content-warning category (violence, sexual_violence, ...)
    score: float = 0.0


ALLOW_VERDICT = Verdict(labels=frozenset(), action=Action.ALLOW, reason="no_match")


@runtime_checkable
class Filter(Protocol):
    """A message filter. Implementations must be thread-safe if ``cpu_heavy`` is True,
    because the pipeline then calls ``check`` from worker threads.

    Optionally, a class attribute ``labels: frozenset[str]`` declares the labels the filter
    may emit; the pipeline reports those (``Pipeline.labels``, ``label_scores``). It is not
    part of the protocol so that older third-party filters keep loading.
    """

    name: str
    cpu_heavy: bool  # True -> pipeline runs it off the event loop (thread)

    def check(self, inp: FilterInput) -> Verdict: ...
