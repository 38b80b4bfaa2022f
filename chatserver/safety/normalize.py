"""Text normalisation shared by the content filters: one pass, cached per text.

People who are hurting often write around filters on purpose ("k i l l", "unalive", "d13")
or by accident (typos, phone keyboards, pasted fancy fonts). Matching rules against the raw
text would need every spelling in every rule; instead each message is folded once into a
plain form, and the rules are written against that form:

1. NFKC (fullwidth and styled letters -> ASCII look-alikes), casefold.
2. Zero-width characters removed; when there were any, a second variant has them as spaces,
   because they are used both to split a word ("sui<ZW>cide") and to join words
   ("end<ZW>my<ZW>life").
3. Cyrillic and Greek homoglyphs -> Latin; accents stripped (``é`` -> ``e``), so rules for
   Spanish, French, German, Portuguese, Italian and Dutch are written without diacritics.
4. Apostrophes: English contractions close up (``i'm`` -> ``im``, ``don't`` -> ``dont``);
   elisions open up (``j'ai`` -> ``j ai``).
5. Leetspeak inside words that mix letters and digits (``ki11ing`` -> ``killing``);
   plain numbers, times and ordinals are left alone.
6. Spaced or dotted letters joined (``k i l l``, ``s.e.l.f``, ``k-i-l-l``).
7. Letters stretched three or more times collapsed to one (``diiiie`` -> ``die``; rules
   therefore write double letters as ``l+``).
8. Whitespace collapsed.

``analyze`` is cached (LRU) so the crisis, trauma and PII filters of one pipeline share a
single pass over each message. Nothing here raises on any ``str``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import NamedTuple

__all__ = ["Analysis", "analyze", "normalize"]

_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u200e\u200f\u2061\u2062\u2063\u2064"
_ZW_DROP = dict.fromkeys(map(ord, _ZERO_WIDTH), None)
_ZW_SPACE = dict.fromkeys(map(ord, _ZERO_WIDTH), " ")

# Lowercase look-alikes only: the text is casefolded first.
_HOMOGLYPHS = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "з": "3",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "п": "n",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "һ": "h",
        "ӏ": "l",
        "ь": "b",
        "г": "r",
        "л": "n",
        "и": "u",
        "ц": "u",
        "ш": "w",
        # Greek
        "α": "a",
        "β": "b",
        "γ": "y",
        "δ": "d",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ω": "w",
        "ς": "s",
        "σ": "o",
        "μ": "u",
        "λ": "l",
        # Latin oddities NFKC keeps
        "ı": "i",
        "ł": "l",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ɡ": "g",
        "ɑ": "a",
        "ʀ": "r",
        # small capitals (NFKC keeps them)
        "ᴀ": "a",
        "ʙ": "b",
        "ᴄ": "c",
        "ᴅ": "d",
        "ᴇ": "e",
        "ꜰ": "f",
        "ɢ": "g",
        "ʜ": "h",
        "ɪ": "i",
        "ᴊ": "j",
        "ᴋ": "k",
        "ʟ": "l",
        "ᴍ": "m",
        "ɴ": "n",
        "ᴏ": "o",
        "ᴘ": "p",
        "ǫ": "q",
        "ꜱ": "s",
        "ᴛ": "t",
        "ᴜ": "u",
        "ᴠ": "v",
        "ᴡ": "w",
        "ʏ": "y",
        "ᴢ": "z",
        # punctuation that changes tokenisation
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
    }
)
_COMBINING = re.compile(r"[\u0300-\u036f]+")
# Literal-first patterns: the regex engine jumps between apostrophes instead of trying
# every position, which matters on long messages.
_CONTRACTION = re.compile(r"'(?=(?:s|t|m|re|ve|ll|d)\b)")
_APOSTROPHE = re.compile(r"'+")
_BANG_IN_WORD = re.compile(r"(?<=[a-z])!(?=[a-z])")
_TWO_WORD = re.compile(r"(?<=[a-z] )2(?= [a-z])")
_LEET_TOKEN = re.compile(r"[a-z0-9@$|]*[a-z][a-z0-9@$|]*")
_PLAIN_NUMBER_TOKEN = re.compile(
    r"\d+(?:st|nd|rd|th|am|pm|h|hr|hrs|k|m|mg|ml|g|kg|km|mi|lb|lbs|s|x|yo|min|mins|d|mo|y|yr|yrs)"
)
_LEET_MAP = {
    "0": "o",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "@": "a",
    "$": "s",
    "|": "l",
    "9": "g",
    "6": "g",
}
_STRETCH_HINT = re.compile(r"(.)\1\1")
_DOTTED = re.compile(r"(?<![a-z0-9])[a-z](?:[.\-_*+~][a-z]){2,}(?![a-z0-9])")
_SPACED = re.compile(r"(?<![a-z0-9])[a-z](?: [a-z]){3,}(?![a-z0-9])")
_SEPARATORS = re.compile(r"[ .\-_*+~]")
_STRETCH = re.compile(r"([a-z])\1{2,}")
_LETTERS_ONLY = bytes(c if 97 <= c <= 122 else 32 for c in range(256))
# "Shape" of a text for cheap C-level pre-checks: letter -> a, leet symbol -> 1,
# letter separator -> ".", anything else -> space.
_SHAPE = bytes(
    97 if 97 <= c <= 122 else 49 if chr(c) in "0123456789@$|" else 46 if chr(c) in ".-_*+~" else 32
    for c in range(256)
)


class Analysis(NamedTuple):
    """The folded forms of one message; ``tokens`` lets rules skip cheaply."""

    text: str  # main folded form
    variants: tuple[str, ...]  # text plus alternative foldings (zero-width as space)
    tokens: frozenset[str]  # ASCII letter runs of all variants
    n_words: int  # words of the folded text
    joined_letters: bool = False  # spaced or dotted letters were joined ("k i l l")


def _leet_token(match: re.Match[str]) -> str:
    token = match.group(0)
    if token.isalpha() or _PLAIN_NUMBER_TOKEN.fullmatch(token):
        return token
    out: list[str] = []
    prev_raw = ""
    for ch in token:
        if ch == "@" and not out:
            out.append(ch)  # a leading @ is a mention, not an "a"
        elif ch == "1":
            # "ki11" -> "kill", "d13" -> "die", "k1ll" -> "kill"
            prev = out[-1] if out else ""
            mapped = "l" if prev == "i" or (prev_raw == "1" and prev == "l") else "i"
            out.append(mapped)
        else:
            out.append(_LEET_MAP.get(ch, ch))
        prev_raw = ch
    return "".join(out)


def _shape(text: str) -> bytes:
    return b" " + text.encode("utf-8", "surrogatepass").translate(_SHAPE) + b" "


def _join_letters(match: re.Match[str]) -> str:
    return _SEPARATORS.sub("", match.group(0))


def _fold(text: str) -> tuple[str, bool]:
    """Folded text, and whether spaced/dotted letters were joined into words."""
    shape = _shape(text)
    joined = False
    if b"a1" in shape or b"1a" in shape:  # a digit or symbol touching a letter: "d13"
        text = _LEET_TOKEN.sub(_leet_token, text)
    if "!" in text:  # "su!c!de": a "!" between letters is an i
        text = _BANG_IN_WORD.sub("i", text)
    if b"a 1 a" in shape and " 2 " in text:  # "want 2 die"
        text = _TWO_WORD.sub("to", text)
    if "'" in text:
        text = _CONTRACTION.sub("", text)
        text = _APOSTROPHE.sub(" ", text)
    if b"a.a.a" in shape:  # "k.i.l.l", "s-e-l-f"
        text, n = _DOTTED.subn(_join_letters, text)
        joined = n > 0
    if b" a a a a " in shape:  # "k i l l"
        text, n = _SPACED.subn(_join_letters, text)
        joined = joined or n > 0
    if _STRETCH_HINT.search(text):
        text = _STRETCH.sub(r"\1", text)
    if (
        "  " in text
        or "\n" in text
        or "\t" in text
        or "\r" in text
        or text[:1] == " "
        or (text[-1:] == " ")
    ):
        text = " ".join(text.split())
    elif not text.isascii():
        text = " ".join(text.split())  # other Unicode spaces
    return text, joined


def _tokens(text: str) -> frozenset[str]:
    """ASCII letter runs; bytes.translate is several times faster than a regex findall."""
    raw = text.encode("utf-8", "surrogatepass")  # lone surrogates must not raise
    return frozenset(raw.translate(_LETTERS_ONLY).decode("ascii").split())


def _prefold(text: str) -> str:
    """Unicode-level folding; ASCII text skips the expensive steps."""
    if text.isascii():
        text = text.lower()
        return text.replace("`", "'") if "`" in text else text
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(_HOMOGLYPHS)
    text = unicodedata.normalize("NFKD", text)
    return _COMBINING.sub("", text)


@functools.lru_cache(maxsize=4096)
def analyze(text: str) -> Analysis:
    """Fold ``text`` for rule matching (see the module docstring). Cached; never raises."""
    base = _prefold(text)
    if base.isascii() or not any(ch in _ZERO_WIDTH for ch in base):
        folded, jl = _fold(base)
        return Analysis(folded, (folded,), _tokens(folded), folded.count(" ") + 1, jl)
    joined, jl1 = _fold(base.translate(_ZW_DROP))
    spaced, jl2 = _fold(base.translate(_ZW_SPACE))
    variants = (spaced, joined) if spaced != joined else (spaced,)
    tokens = _tokens(spaced) | _tokens(joined)
    return Analysis(spaced, variants, tokens, spaced.count(" ") + 1, jl1 or jl2)


def normalize(text: str) -> str:
    """The main folded form of ``text``."""
    return analyze(text).text
