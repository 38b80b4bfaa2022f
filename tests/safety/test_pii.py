"""PII filter: contact details are replaced, numbers that are not contacts stay."""

from __future__ import annotations

import pytest

from chatserver.safety.base import Action, FilterInput
from chatserver.safety.pii import PiiFilter
from chatserver.safety.resources import resources_for

FILTER = PiiFilter()


@pytest.mark.parametrize(
    ("text", "placeholder"),
    [
        ("call me on +44 7700 900123 tonight", "[phone removed]"),
        ("my number is (555) 010-4477", "[phone removed]"),
        ("ring 0612 34 56 78", "[phone removed]"),
        ("write to jo.bloggs+chat@example.org please", "[email removed]"),
        ("i live at 221 Baker Street", "[address removed]"),
        ("j'habite au 12 rue des Lilas", "[address removed]"),
        ("vivo en calle Mayor 5", "[address removed]"),
        ("ich wohne in der Hauptstraße 12", "[address removed]"),
        ("moro na rua das Flores 80", "[address removed]"),
        ("my insta is sunny.days99", "[handle removed]"),
        ("add me on snap: quietfox", "[handle removed]"),
        ("my discord is nightowl#1234", "[handle removed]"),
        ("dm me @moonlight_girl", "[handle removed]"),
    ],
)
def test_redacts(text: str, placeholder: str) -> None:
    v = FILTER.check(FilterInput(text))
    assert v.action is Action.REDACT
    assert v.labels == frozenset({"pii"})
    assert v.text is not None and placeholder in v.text
    assert v.notice and "anonymity" in v.notice


@pytest.mark.parametrize(
    "text",
    [
        "see you at 10:30",
        "my birthday is 12/05/1998",
        "i'm 24 and i have 3 cats",
        "it happened in 2019",
        "i slept 6 hours",
        "the score was 3-2",
        "i'm at the gym",
        "room 101 was scary",
    ],
)
def test_leaves_ordinary_numbers(text: str) -> None:
    assert FILTER.check(FilterInput(text)).action is Action.ALLOW


def test_hotline_numbers_from_resources_are_kept() -> None:
    lines = [r.phone for loc in ("en-US", "en-GB", "de-DE", "fr-FR") for r in resources_for(loc)
             if r.phone]
    text = "you can call " + " or ".join(lines)
    v = FILTER.check(FilterInput(text))
    assert v.action is Action.ALLOW


def test_only_the_detail_is_removed() -> None:
    v = FILTER.check(FilterInput("hi! text me on 07700 900123 if you want"))
    assert v.text == "hi! text me on [phone removed] if you want"
