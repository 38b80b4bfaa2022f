"""A tiny rule engine: anchored regex rules, indexed by the words they need.

Most chat messages contain none of the words any risk rule needs, so the cheapest correct
thing is to not run the regexes at all. Each rule names its *anchors*: words (or 4-letter
prefixes written ``"suic*"``) of which at least one must occur in the folded text for the
rule to be able to match. ``RuleSet.candidates`` turns a message's token set into the rules
worth running, in declaration order, with a couple of set operations.

An anchor list that misses a spelling the regex accepts silently loses recall, so the test
suite checks gated and ungated evaluation agree on a corpus (``RuleSet.all_rules``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

__all__ = ["Rule", "RuleSet", "keys_for"]

PREFIX_LEN = 4


@dataclass(frozen=True, slots=True)
class Rule:
    """One pattern with its weight and the context checks that may veto it."""

    name: str  # stable snake_case reason code of this rule
    family: str  # rules of one family add up to the family's cap
    weight: float
    anchors: frozenset[str]
    pattern: re.Pattern[str]
    self_anchored: bool = False  # the match itself names the sender ("myself", "my life")
    requires: frozenset[str] = frozenset()  # if set, one of these words must occur too
    negation: bool = True  # vetoed by a negator just before it
    past: bool = True  # vetoed by a long-ago marker in its sentence / recovery talk
    humor: bool = False  # vetoed by "lol", "jk", laughing emoji in its sentence
    subject: bool = True  # vetoed when the nearest person before it is "you"/"he"/...
    order: int = field(default=0, compare=False)


def rule(
    name: str,
    family: str,
    weight: float,
    anchors: str,
    pattern: str,
    requires: str = "",
    **checks: bool,
) -> Rule:
    """Build a rule; ``anchors`` and ``requires`` are space-separated word lists (a rule runs
    when the text has one anchor and, if ``requires`` is given, one required word too)."""
    return Rule(
        name=name,
        family=family,
        weight=weight,
        anchors=frozenset(anchors.split()),
        pattern=re.compile(pattern),
        requires=frozenset(requires.split()),
        **checks,
    )


def keys_for(tokens: Iterable[str]) -> set[str]:
    """Index keys of a token set: the tokens plus ``prefix*`` for longer tokens."""
    keys = set(tokens)
    keys.update(t[:PREFIX_LEN] + "*" for t in tokens if len(t) > PREFIX_LEN)
    return keys


class RuleSet:
    """Rules indexed by anchor; ``candidates`` keeps declaration order."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        ordered = [replace(r, order=i) for i, r in enumerate(rules)]
        self.all_rules: tuple[Rule, ...] = tuple(ordered)
        index: dict[str, list[Rule]] = {}
        for r in ordered:
            if not r.anchors:
                raise ValueError(f"rule {r.name} has no anchors")
            for a in r.anchors:
                if a.endswith("*") and len(a) != PREFIX_LEN + 1:
                    raise ValueError(f"rule {r.name}: prefix anchor {a!r} must be 4 letters")
                index.setdefault(a, []).append(r)
        self._index = {k: tuple(v) for k, v in index.items()}
        self.anchor_words = frozenset(k for k in self._index if not k.endswith("*"))
        self.anchor_prefixes = frozenset(k for k in self._index if k.endswith("*"))

    def candidates(self, tokens: frozenset[str]) -> list[Rule]:
        """Rules that can possibly match a text with these tokens, in declaration order."""
        keys = tokens & self.anchor_words
        if self.anchor_prefixes:
            pre = {t[:PREFIX_LEN] + "*" for t in tokens if len(t) > PREFIX_LEN}
            keys |= pre & self.anchor_prefixes
        if not keys:
            return []
        found = {
            r.order: r
            for k in keys
            for r in self._index[k]
            if not r.requires or not r.requires.isdisjoint(tokens)
        }
        return [found[k] for k in sorted(found)]
