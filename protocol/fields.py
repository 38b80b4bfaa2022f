"""Constrained field types of the frames: the codec reads the constraint from the
annotation, so a frame declares ``language: Language`` and never validates by hand.

* ``Annotated[str, Pattern(...)]``: a string that must match a regular expression whole;
* ``Literal[...]``: one of a fixed set of strings (the allowed values are the contract).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal, get_args


@dataclass(frozen=True, slots=True)
class Pattern:
    """A string field must match ``regex`` whole; ``expected`` completes "must be ..."
    in the error a client gets."""

    regex: str
    expected: str

    def matches(self, value: str) -> bool:
        return re.fullmatch(self.regex, value) is not None


#: A language, by its primary subtag only (BCP 47 / ISO 639): "en", "es", "fil". Regions
#: and scripts ("es-MX") are the client's to drop: people talk across them.
LANGUAGE = Pattern(r"[a-z]{2,3}", 'a language code such as "en" or "es"')
Language = Annotated[str, LANGUAGE]

#: What a seeker would like from a one-to-one chat: "just listen" or "ideas welcome".
Need = Literal["listen", "ideas"]

#: A waiting seeker's answer when no listener who speaks their language is on duty.
Choice = Literal["wait", "any"]

#: The supportive reactions, and only these: no free text, no emoji, nothing negative.
Reaction = Literal["hear_you", "strength", "same_here", "thanks_for_sharing"]

NEEDS: tuple[str, ...] = get_args(Need)
CHOICES: tuple[str, ...] = get_args(Choice)
REACTIONS: tuple[str, ...] = get_args(Reaction)
