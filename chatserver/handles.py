"""Friendly, gentle handles ("Calm Heron") so nobody has to pick or reveal a name."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

ADJECTIVES = (
    "Calm",
    "Gentle",
    "Quiet",
    "Kind",
    "Bright",
    "Warm",
    "Steady",
    "Soft",
    "Brave",
    "Patient",
    "Hopeful",
    "Peaceful",
    "Tender",
    "Serene",
    "Easy",
    "Clear",
    "Golden",
    "Silver",
    "Misty",
    "Sunny",
    "Cosy",
    "Mellow",
    "Honest",
    "Humble",
    "Lucky",
    "Merry",
    "Nimble",
    "Wise",
    "Bold",
    "Cheerful",
    "Faithful",
    "Friendly",
    "Glad",
    "Graceful",
    "Jolly",
    "Lively",
    "Loyal",
    "Noble",
    "Polite",
    "Proud",
    "Sincere",
    "Sweet",
    "Thankful",
    "Trusty",
    "Vivid",
    "Willing",
    "Young",
)
ANIMALS = (
    "Heron",
    "Otter",
    "Sparrow",
    "Fox",
    "Deer",
    "Robin",
    "Badger",
    "Dolphin",
    "Owl",
    "Panda",
    "Hare",
    "Finch",
    "Swan",
    "Seal",
    "Wren",
    "Koala",
    "Lark",
    "Moth",
    "Puffin",
    "Turtle",
    "Beaver",
    "Crane",
    "Dove",
    "Gecko",
    "Hedgehog",
    "Ibis",
    "Kestrel",
    "Lynx",
    "Marten",
    "Newt",
    "Orca",
    "Pelican",
    "Quail",
    "Raven",
    "Salmon",
    "Tern",
    "Vole",
    "Walrus",
    "Yak",
    "Zebra",
    "Bison",
    "Camel",
    "Egret",
    "Falcon",
    "Gull",
    "Ibex",
    "Jay",
    "Kiwi",
    "Lemur",
)


def random_handle() -> str:
    return f"{secrets.choice(ADJECTIVES)} {secrets.choice(ANIMALS)}"


def candidates(first: str, tries: int = 8) -> Iterator[str]:
    """Handles to try in order when claiming a seat: the session's own, then fresh ones,
    then numbered ones, so a claim always ends in a free handle. Lazy: the usual claim
    takes the first and draws nothing."""
    yield first
    for _ in range(tries):
        yield random_handle()
    for _ in range(tries):
        yield f"{first} {secrets.randbelow(9000) + 1000}"
