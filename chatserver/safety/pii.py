"""The PII filter: keep people anonymous, even from their own kindness or panic.

Rooms are anonymous on purpose: a phone number, an e-mail, a street address or a social
handle posted in a moment of trust can be used to find, out or harass someone. This filter
replaces them with a visible placeholder ("[phone removed]") and tells the sender why.

It runs on the raw text (placeholders must land at the right offsets) and is cheap: every
pattern is skipped unless the text has a digit, an "@" or a platform word. Phone numbers
need 7-15 digits and are not dates, times or the crisis lines in ``resources.json`` (a
participant passing on a hotline number is helping, not leaking).
"""

from __future__ import annotations

import re
from pathlib import Path

from chatserver.safety.base import ALLOW_VERDICT, Action, FilterInput, Verdict
from chatserver.safety.normalize import analyze
from chatserver.safety.resources import load_resources

__all__ = ["PiiFilter", "redact"]

LABEL = "pii"

_DIGIT_BYTES = b"0123456789"
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
_PHONE = re.compile(r"(?<![\w/.:,-])(?:\+|00)?\(?\d[\d\s().\-/]{5,20}\d(?![\w/:-]|[.,]\d)")
_DATE_OR_TIME = re.compile(
    r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$|^\d{1,2}:\d{2}|^\d{4}\s*[-/]\s*\d{4}$|^\d{1,2}\s*-\s*\d{1,2}$"
    r"|^\d+[.,]\d+$"
)
_STREET_WORDS_EN = (
    r"street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|way|place|pl|"
    r"terrace|crescent|close|square|sq|parkway|pkwy|highway|hwy"
)
_ADDRESS = re.compile(
    r"\b\d{1,5}[a-zA-Z]?,?\s+(?:[A-Za-zÀ-ÿ'.-]+\s+){1,3}(?:" + _STREET_WORDS_EN + r")\b\.?"
    r"|\b\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|chemin|all[ée]e|place|"
    r"impasse|quai|route)\s+(?:(?:de|du|des|la|le|l'|d')\s*)*[A-Za-zÀ-ÿ'-]+(?:\s+[A-Za-zÀ-ÿ'-]+)?"
    r"|\b(?:calle|c/|avenida|avda\.?|av\.|paseo|plaza|carrera|rua|travessa|largo|via|viale|"
    r"piazza|corso|vicolo|straat|laan|weg|plein)\s+(?:(?:de|del|da|do|dos|das|della|di|la|le)\s+)*"
    r"[A-Za-zÀ-ÿ'-]+(?:\s+[A-Za-zÀ-ÿ'-]+){0,2},?\s*(?:n[º°o.]?\s*)?\d{1,4}[a-zA-Z]?\b"
    r"|\b[A-Za-zÀ-ÿ-]{2,}(?:stra(?:ss|ß)e|str\.|weg|gasse|platz|allee|ring|damm|straat|laan|"
    r"gracht|plein)\s+\d{1,4}[a-zA-Z]?\b",
    re.IGNORECASE,
)
_PLATFORMS = (
    r"insta(?:gram)?|ig|snap(?:chat)?|sc|discord|tiktok|tik tok|twitter|x|telegram|tg|kik|"
    r"whatsapp|wa|fb|facebook|reddit|tumblr|twitch|steam|signal|threads|bluesky|bsky|line|wechat"
)
_HANDLE_PHRASE = re.compile(
    r"\b(?:my|add me on|follow me on|find me on|hmu on|dm me on|message me on|text me on)\s+"
    r"(?:" + _PLATFORMS + r")\s*(?:(?:user)?name|handle|id|tag|account|@)?\s*(?:is|:|=|-|@)?\s*"
    r"(?P<handle>@?[A-Za-z0-9_.#]{3,32})",
    re.IGNORECASE,
)
_HANDLE_AT = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,29}[A-Za-z0-9_])?\b")
_PLATFORM_TOKENS = frozenset(
    str.split(
        "insta instagram ig snap snapchat sc discord tiktok tik twitter telegram tg kik whatsapp "
        "wa fb facebook reddit tumblr twitch steam signal threads bluesky bsky line wechat x"
    )
)
_NOT_HANDLES = frozenset({"is", "the", "and", "me", "there", "here", "if", "but", "now"})
# Room-wide mentions, not people.
_MENTIONS = frozenset(
    {"@everyone", "@here", "@all", "@channel", "@mods", "@listeners", "@moderators", "@room"}
)

_NOTICE = (
    "We removed {what} from your message to protect your anonymity here. Please keep contact "
    "details and locations out of the room; it keeps you and others safe."
)


_STREET_TOKENS = frozenset(
    str.split(
        "street st avenue ave road rd lane ln drive dr boulevard blvd court ct way place pl "
        "terrace crescent close square sq parkway pkwy highway hwy rue av bd chemin allee "
        "impasse quai route calle c avenida avda paseo plaza carrera rua travessa largo via "
        "viale piazza corso vicolo straat laan weg plein"
    )
)
_STREET_SUFFIXES = (
    "strasse",
    "straße",
    "str.",
    "weg ",
    "gasse",
    "platz",
    "allee",
    "ring ",
    "damm",
    "straat",
    "laan",
    "gracht",
    "plein",
)


# Letters (any case, and any non-ASCII byte) -> "a", digits -> "1", the rest -> " ".
_SHAPE = bytes(
    97 if (65 <= c <= 90 or 97 <= c <= 122 or c >= 128) else 49 if 48 <= c <= 57 else 32
    for c in range(256)
)


def _maybe_address(raw: bytes, text: str) -> bool:
    """A street word, or a word then a house number ("Hauptstraße 12") with a street suffix."""
    if not analyze(text).tokens.isdisjoint(_STREET_TOKENS):
        return True
    if b"a 1" not in raw.translate(_SHAPE):
        return False
    lowered = text.lower()
    return any(suffix in lowered for suffix in _STREET_SUFFIXES)


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def redact(text: str, allowed_numbers: frozenset[str] = frozenset()) -> tuple[str, list[str]]:
    """Return ``text`` with PII replaced and the kinds removed (in order of first removal)."""
    kinds: list[str] = []
    raw = text.encode("utf-8", "surrogatepass")
    n_digits = len(raw) - len(raw.translate(None, _DIGIT_BYTES))  # C-speed count
    if "@" in text:
        text, n = _EMAIL.subn("[email removed]", text)
        if n:
            kinds.append("email")
    if n_digits >= 1:
        text = _redact_numbers(text, raw, n_digits, allowed_numbers, kinds)
    return _redact_handles(text, kinds), kinds


def _redact_numbers(
    text: str, raw: bytes, n_digits: int, allowed_numbers: frozenset[str], kinds: list[str]
) -> str:
    """Phone numbers (not dates, times or crisis lines) and street addresses."""

    def phone(m: re.Match[str]) -> str:
        found = m.group(0).strip()
        digits = _digits(found)
        if not 7 <= len(digits) <= 15 or _DATE_OR_TIME.search(found) or digits in allowed_numbers:
            return m.group(0)
        if "phone" not in kinds:
            kinds.append("phone")
        return "[phone removed]"

    if n_digits >= 7:  # a phone number has at least seven digits
        text = _PHONE.sub(phone, text)
    if _maybe_address(raw, text):
        text, n = _ADDRESS.subn("[address removed]", text)
        if n:
            kinds.append("address")
    return text


def _redact_handles(text: str, kinds: list[str]) -> str:
    """Social handles: "my insta is ...", "add me on snap: ...", and bare ``@name``."""
    if not analyze(text).tokens.isdisjoint(_PLATFORM_TOKENS):

        def handle(m: re.Match[str]) -> str:
            name = m.group("handle")
            if name.lower() in _NOT_HANDLES or name.startswith("["):
                return m.group(0)
            if "handle" not in kinds:
                kinds.append("handle")
            start = m.start("handle") - m.start(0)
            return m.group(0)[:start] + "[handle removed]"

        text = _HANDLE_PHRASE.sub(handle, text)
    if "@" in text:

        def at_handle(m: re.Match[str]) -> str:
            if m.group(0).lower() in _MENTIONS:
                return m.group(0)
            if "handle" not in kinds:
                kinds.append("handle")
            return "[handle removed]"

        text = _HANDLE_AT.sub(at_handle, text)
    return text


_KIND_WORDS = {
    "email": "an e-mail address",
    "phone": "a phone number",
    "address": "a street address",
    "handle": "a social media username",
}


class PiiFilter:
    """REDACT phone numbers, e-mails, street addresses and social handles."""

    name = "pii"
    cpu_heavy = False
    labels = frozenset({LABEL})

    def __init__(self, resources_path: Path | str | None = None) -> None:
        self._allowed = load_resources(resources_path).phone_digits()

    def check(self, inp: FilterInput) -> Verdict:
        new_text, kinds = redact(inp.text, self._allowed)
        if not kinds:
            return ALLOW_VERDICT
        what = " and ".join(_KIND_WORDS[k] for k in kinds)
        return Verdict(
            frozenset({LABEL}),
            Action.REDACT,
            "contact_details",
            notice=_NOTICE.format(what=what),
            text=new_text,
            score=1.0,
        )
