"""Trauma-dump filter: graphic detail gets a content warning; topics and length do not."""

from __future__ import annotations

import pytest

from chatserver.safety.base import Action, FilterInput
from chatserver.safety.trauma import TraumaDumpFilter
from tests.safety.cases import TRAUMA_NEGATIVE, TRAUMA_POSITIVE

FILTER = TraumaDumpFilter(rules_only=True)  # the rules alone; the model: test_learned.py


@pytest.mark.parametrize("text", TRAUMA_POSITIVE)
def test_graphic_long_disclosure_is_held(text: str) -> None:
    v = FILTER.check(FilterInput(text))
    assert v.action is Action.HOLD
    assert v.labels == frozenset({"trauma_dump"})
    assert v.category in {"violence", "sexual_violence", "self_harm", "gore"}
    assert v.notice and "content warning" in v.notice


@pytest.mark.parametrize("text", TRAUMA_NEGATIVE)
def test_non_graphic_long_message_passes(text: str) -> None:
    assert FILTER.check(FilterInput(text)).action is Action.ALLOW


def test_short_graphic_message_is_not_a_dump() -> None:
    assert FILTER.check(FilterInput("there was blood everywhere and a gash")).action is Action.ALLOW


def test_violence_category() -> None:
    v = FILTER.check(FilterInput(TRAUMA_POSITIVE[0]))
    assert v.category == "violence"


def test_room_consent_turns_hold_into_content_warning() -> None:
    v = FILTER.check(FilterInput(TRAUMA_POSITIVE[1], room_consent=True))
    assert v.action is Action.CONTENT_WARNING
    assert v.category == "gore"
    assert v.labels == frozenset({"trauma_dump"})


def test_confirmed_warning_keeps_the_senders_category() -> None:
    v = FILTER.check(FilterInput(TRAUMA_POSITIVE[1], confirmed_warning="injury"))
    assert v.action is Action.CONTENT_WARNING
    assert v.category == "injury"


def test_declining_to_describe_lowers_the_score() -> None:
    text = ("i'm not going to describe it. " + TRAUMA_NEGATIVE[1])
    assert FILTER.check(FilterInput(text)).action is Action.ALLOW
