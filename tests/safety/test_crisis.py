"""Crisis filter: the sender's risk now, not the words."""

from __future__ import annotations

import pytest

from chatserver.safety.base import Action, FilterInput
from chatserver.safety.crisis import CrisisFilter, assess
from tests.safety.cases import CRISIS_NEGATIVE, CRISIS_POSITIVE

POSITIVE = [(kind, text) for kind, texts in CRISIS_POSITIVE.items() for text in texts]
NEGATIVE = [(kind, text) for kind, texts in CRISIS_NEGATIVE.items() for text in texts]
FILTER = CrisisFilter(rules_only=True)  # the rules alone; the model: test_learned.py


@pytest.mark.parametrize(("kind", "text"), POSITIVE)
def test_escalates(kind: str, text: str) -> None:
    v = FILTER.check(FilterInput(text))
    assert v.action is Action.ESCALATE, kind
    assert v.labels == frozenset({"crisis"})
    assert v.notice and v.reason
    assert v.score == 1.0


@pytest.mark.parametrize(("kind", "text"), NEGATIVE)
def test_allows(kind: str, text: str) -> None:
    v = FILTER.check(FilterInput(text))
    assert v.action is Action.ALLOW, kind
    assert not v.labels


@pytest.mark.parametrize("role", ["listener", "moderator"])
def test_listeners_never_trigger(role: str) -> None:
    v = FILTER.check(FilterInput("i want to kill myself", role=role))
    assert v.action is Action.ALLOW


def test_goodbye_after_hopelessness_escalates() -> None:
    recent = ("there's no point in any of this", "i can't go on")
    v = FILTER.check(FilterInput("thank you for everything. bye", recent=recent))
    assert v.action is Action.ESCALATE
    assert v.reason == "goodbye_after_hopelessness"


def test_plain_goodbye_with_calm_history_allows() -> None:
    recent = ("had a nice walk today", "made soup")
    v = FILTER.check(FilterInput("thank you for everything. bye", recent=recent))
    assert v.action is Action.ALLOW


def test_danger_has_its_own_reason_and_notice() -> None:
    v = FILTER.check(FilterInput("he's threatening to kill me and i'm hiding in the bathroom"))
    assert v.reason == "danger_from_others"
    assert v.notice is not None and "emergency" in v.notice


@pytest.mark.parametrize(("kind", "text"), POSITIVE + NEGATIVE)
def test_anchor_index_hides_no_match(kind: str, text: str) -> None:
    """Gated evaluation (the fast path) must agree with running every rule."""
    gated, full = assess(text), assess(text, gated=False)
    assert (gated.score >= 1.0) == (full.score >= 1.0), kind


@pytest.mark.parametrize("text", ["", " ", "🙂", "\u200b", "?" * 500, "a" * 10_000])
def test_odd_input_does_not_crash(text: str) -> None:
    assert FILTER.check(FilterInput(text)).action is Action.ALLOW
