"""The learned model's features: one function shared by training and the live scorer.

A message becomes the *set* of its character 2- and 4-grams (over the folded text, padded
with a space at each end) plus its words and word pairs. The folded text is
``normalize.analyze(text).text``, the same folding the rules use (and the same LRU cache),
so leetspeak, spaced letters, homoglyphs, accents and zero-width tricks are undone before
the model sees anything.

Why these: character n-grams carry morphology across ten languages and survive typos and
missing accents; word pairs carry short phrases ("not wake", "no point"). Presence, not
counts, with the vector scaled to unit length (each feature weighs ``1/sqrt(n)``, ``n``
the number of distinct features, known or not), so a long message is not a crisis just
for being long. Training (``chatserver.safety.train``) and scoring (``model``) both call
:func:`features`, so the two can never drift apart.

Word features carry a ``\\x01`` prefix so a word never collides with a character n-gram.
"""

from __future__ import annotations

__all__ = ["CHAR_SIZES", "features"]

CHAR_SIZES = (2, 4)
_WORD = "\x01"


def features(folded: str) -> set[str]:
    """The feature set of an already folded message (empty text -> empty set)."""
    if not folded:
        return set()
    s = f" {folded} "
    size = len(s)
    out: set[str] = set()
    for n in CHAR_SIZES:
        out.update([s[i : i + n] for i in range(size - n + 1)])
    words = folded.split()
    out.update([_WORD + w for w in words])
    out.update([f"{_WORD}{a} {b}" for a, b in zip(words, words[1:], strict=False)])
    return out
