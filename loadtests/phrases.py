"""Message texts for load: a marker the harness reads back, neutral filler, and phrases
written for this harness to trip each safety filter.

The marker carries the sender's client number, its message counter and the send time in
microseconds, in letters only (hex digits mapped to a..p, fields split by ``q``), so the
PII filter never mistakes it for a phone number and it survives redaction::

    qq<client>q<n>q<time_us>q rest of the text

``parse_marker`` is on the receive path of every delivery: keep it cheap.
"""

from __future__ import annotations

import random

_TO_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")
_FROM_LETTERS = str.maketrans("abcdefghijklmnop", "0123456789abcdef")

_FILLER = (
    "tea", "rain", "walk", "evening", "window", "garden", "quiet", "morning", "music", "book",
    "friend", "kitchen", "bus", "weekend", "coffee", "dog", "cat", "bread", "sunlight",
    "river", "thanks", "listening", "today", "slowly", "better", "breathing", "work", "sleep",
    "maybe", "tomorrow", "little", "honestly", "felt", "calm", "again", "nice", "kind",
)

#: Written for the harness (not taken from any evaluation set): first person, present tense,
#: plainly meant, so a working filter should act on them.
TRIP_PHRASES: dict[str, tuple[str, ...]] = {
    "crisis": (
        "I want to kill myself tonight and I have decided how.",
        "I am going to end my life tonight, I have the pills next to me.",
        "I can't go on anymore, I'm planning to kill myself after everyone sleeps.",
    ),
    "trauma": (
        "I need to tell someone what I saw at the crash last night. The driver was thrown "
        "out onto the road and his leg was snapped so the bone stuck out through the skin, "
        "blood was pouring out of the wound and pooling under him, his skull was cracked open "
        "and there was blood soaked into everything, his eyes were open and he was not "
        "breathing, I held his hand while the blood kept spreading across the road.",
        "When he attacked me he smashed my face into the wall until my jaw was fractured and "
        "my nose was bleeding everywhere, blood was dripping down my neck and soaked my "
        "shirt, there was a deep gash over my eye that needed stitches and my ribs were "
        "crushed, I could see the bone in my finger where the skin was torn open and the "
        "wound kept bleeding for hours while I lay on the floor.",
    ),
    "pii": (
        "you can text me on 0612345678 any time",
        "write to me at someone.lonely@example.org if you want",
        "add me on snapchat my username is quietriver221",
    ),
}


def _letters(value: int) -> str:
    return format(value, "x").translate(_TO_LETTERS)


def marker(client: int, n: int, t_us: int) -> str:
    return f"qq{_letters(client)}q{_letters(n)}q{_letters(t_us)}q"


def parse_marker(text: str) -> tuple[int, int, int] | None:
    """(client, n, time_us) from a text that starts with a marker, else None."""
    if not text.startswith("qq"):
        return None
    end = text.find("q", 2)
    mid = text.find("q", end + 1)
    last = text.find("q", mid + 1)
    if end < 0 or mid < 0 or last < 0:
        return None
    try:
        return (
            int(text[2:end].translate(_FROM_LETTERS), 16),
            int(text[end + 1 : mid].translate(_FROM_LETTERS), 16),
            int(text[mid + 1 : last].translate(_FROM_LETTERS), 16),
        )
    except ValueError:
        return None


class TextMaker:
    """Texts of a size drawn from ``size``; a share of them written to trip each filter."""

    def __init__(
        self,
        rng: random.Random,
        size: tuple[int, int],
        trip: tuple[tuple[str, float], ...] = (),
    ) -> None:
        self.rng = rng
        self.size = size
        self.trip = trip

    def kind(self) -> str:
        """Which filter the next message is meant to trip ('' for none)."""
        roll = self.rng.random()
        for name, share in self.trip:
            if roll < share:
                return name
            roll -= share
        return ""

    def text(self, head: str, kind: str = "") -> str:
        target = self.rng.randint(self.size[0], self.size[1])
        parts = [head]
        length = len(head)
        if kind:
            phrase = self.rng.choice(TRIP_PHRASES[kind])
            parts.append(phrase)
            length += len(phrase) + 1
        words = _FILLER
        while length < target:
            word = words[self.rng.randrange(len(words))]
            parts.append(word)
            length += len(word) + 1
        return " ".join(parts)
