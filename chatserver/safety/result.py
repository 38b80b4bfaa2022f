"""What the pipeline answers for one message: ``PipelineResult`` and its statistics.

Kept apart from the runner (``pipeline``) so the result's shape, the one thing the server
reads, is in one short file. ``combine`` folds the filters' verdicts into a result; the
common case (every filter allowed, no label) takes a shortcut, because it is most messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from chatserver.safety.base import Action, Verdict

__all__ = ["PipelineResult", "PipelineStatistics", "combine"]

_SEVERITY = (Action.BLOCK, Action.HOLD, Action.ESCALATE, Action.CONTENT_WARNING, Action.REDACT)


class PipelineResult(NamedTuple):
    """Everything the server needs to act on one message; no field repeats removed text.

    Immutable (a NamedTuple rather than a frozen dataclass: it is built for every message
    and a tuple is several times cheaper to construct).
    """

    text: str  # the text to deliver (redacted if a filter redacted)
    labels: frozenset[str]
    actions: frozenset[Action]
    verdicts: tuple[Verdict, ...]
    notices: tuple[str, ...]
    escalate: bool
    hold: bool
    block: bool
    content_warning: str | None  # category when the message goes out behind a warning
    at_risk: bool  # a filter escalated: show resources, alert the listener (== escalate)
    filter_names: tuple[str, ...] = ()  # the filter behind each verdict, same order
    degraded: tuple[str, ...] = ()  # filters that failed or overran their budget

    @property
    def scores(self) -> Mapping[str, float]:
        """Filter name -> that filter's score in [0, 1], below-threshold scores included."""
        return MappingProxyType(
            dict(zip(self.filter_names, (v.score for v in self.verdicts), strict=True))
        )

    @property
    def action(self) -> Action:
        """The most intrusive action (BLOCK > HOLD > ESCALATE > CONTENT_WARNING > REDACT)."""
        if not self.actions:
            return Action.ALLOW
        for a in _SEVERITY:
            if a in self.actions:
                return a
        return Action.ALLOW


@dataclass(frozen=True, slots=True)
class PipelineStatistics:
    """A snapshot of decision counters, for metrics and logs (never text)."""

    messages: int
    decisions: Mapping[tuple[str, str], int]  # (label or "none", action) -> count
    failures: Mapping[tuple[str, str], int]  # (filter name, reason code) -> count


_NO_ACTIONS: frozenset[Action] = frozenset()
_NO_LABELS: frozenset[str] = frozenset()


def combine(
    text: str, verdicts: list[Verdict], names: tuple[str, ...], degraded: list[str], plain: bool
) -> PipelineResult:
    if plain:  # the common case: every filter allowed without a label
        return PipelineResult(
            text,
            _NO_LABELS,
            _NO_ACTIONS,
            tuple(verdicts),
            (),
            False,
            False,
            False,
            None,
            False,
            names,
            tuple(degraded) if degraded else (),
        )
    labels = frozenset(lab for v in verdicts for lab in v.labels)
    actions = frozenset(v.action for v in verdicts if v.action is not Action.ALLOW)
    cw = next((v.category for v in verdicts if v.action is Action.CONTENT_WARNING), None)
    return PipelineResult(
        text=text,
        labels=labels,
        actions=actions,
        verdicts=tuple(verdicts),
        notices=tuple(v.notice for v in verdicts if v.notice),
        escalate=Action.ESCALATE in actions,
        hold=Action.HOLD in actions,
        block=Action.BLOCK in actions,
        content_warning=cw,
        at_risk=Action.ESCALATE in actions,
        filter_names=names,
        degraded=tuple(degraded),
    )
