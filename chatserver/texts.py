"""The sentences the server sends people, in the connection's language.

Every sentence a person reads in a server frame (``crisis``, ``held``, ``notice``,
``chat_ended`` and ``error`` texts) has a key in ``chatserver/locales/<lang>.json``, one
catalogue per language, English (``en.json``) being the source. A connection's language is
its ``lang`` query parameter (``wss://host/?lang=es-MX``, which the web widget sends: it
can differ from the browser's when the site sets ``data-lang``), else the first language
of its ``Accept-Language`` header, else English; the same locale picks the crisis lines
(chatserver/safety/resources.py), so the words and the numbers agree.

Pure: no I/O beyond reading the catalogues once. ``text("ended.ended_by_listener",
"es-MX", name="Sam")`` -> "Sam ha terminado el chat. ...".
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from protocol import ServerFrame
from protocol.messages import ChatEnded, Crisis, Error, Held, Notice

__all__ = ["LANGS", "language_of", "locale_from", "localise", "localised", "text"]

LOCALES = Path(__file__).with_name("locales")
#: Languages with a catalogue, English first (the fallback).
LANGS = ("en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "ru")
#: What a locale may look like: a BCP 47 language, an optional script and region.
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z]{4})?(?:[-_](?:[A-Za-z]{2}|\d{3}))?$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class TextsError(ValueError):
    """A catalogue is malformed (our data, not the peer's)."""


@functools.cache
def catalogue(lang: str) -> Mapping[str, str]:
    """One language's sentences by key (read once)."""
    try:
        data = json.loads((LOCALES / f"{lang}.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise TextsError(f"cannot read the {lang} catalogue") from exc
    if not isinstance(data, dict):
        raise TextsError(f"the {lang} catalogue must hold a JSON object")
    return {k: v for k, v in data.items() if not k.startswith("_") and isinstance(v, str)}


def language_of(locale: str | None) -> str:
    """The catalogue for ``locale`` ("es-MX" -> "es"); English when there is none."""
    if locale:
        primary = re.split(r"[-_]", locale.strip(), maxsplit=1)[0].lower()
        if primary in LANGS:
            return primary
    return "en"


def text(key: str, locale: str | None, **values: object) -> str:
    """The sentence ``key`` in ``locale``'s language, ``{placeholders}`` filled in; the
    English one when that language lacks it. An unknown key raises KeyError (our bug)."""
    own = catalogue(language_of(locale)).get(key)
    template = own if own is not None else catalogue("en")[key]
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), template)


@functools.cache
def _english() -> tuple[dict[str, str], tuple[tuple[re.Pattern[str], str], ...]]:
    """English sentence -> key, and the templates (with placeholders) as patterns."""
    exact: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for key, sentence in catalogue("en").items():
        parts = _PLACEHOLDER.split(sentence)  # literal, name, literal, name, ...
        if len(parts) == 1:
            exact.setdefault(sentence, key)
            continue
        seen: set[str] = set()
        rx = ""
        for i, part in enumerate(parts):
            if i % 2 == 0:
                rx += re.escape(part)
            else:
                rx += f"(?P={part})" if part in seen else f"(?P<{part}>.+?)"
                seen.add(part)
        patterns.append((re.compile(rx + r"\Z", re.S), key))
    return exact, tuple(patterns)


def localise(sentence: str, locale: str | None) -> str:
    """``sentence``, which the server composed in English, in ``locale``'s language.

    Features write their sentences in English (the source catalogue), and each session
    localises what it sends on the way out, so no feature needs to know a person's
    language. A sentence the catalogue does not know is sent as it is.
    """
    if language_of(locale) == "en":
        return sentence
    exact, patterns = _english()
    key = exact.get(sentence)
    if key is not None:
        return text(key, locale)
    for pattern, key in patterns:
        match = pattern.match(sentence)
        if match is not None:
            return text(key, locale, **match.groupdict())
    return sentence


def localised(frame: ServerFrame, locale: str | None) -> ServerFrame:
    """``frame`` with its sentence for people (``text`` or ``message``) localised."""
    if language_of(locale) == "en":
        return frame
    if isinstance(frame, Notice | ChatEnded | Crisis | Held):
        return dataclasses.replace(frame, text=localise(frame.text, locale))
    if isinstance(frame, Error):
        return dataclasses.replace(frame, message=localise(frame.message, locale))
    return frame


def locale_from(path: str, accept_language: str | None) -> str | None:
    """A connection's locale: the ``lang`` query parameter of its request path when it is
    a well-formed locale, else the first language of ``Accept-Language``, else None."""
    for value in parse_qs(urlsplit(path).query).get("lang", []):
        if _LOCALE.match(value):
            return value
    if accept_language:
        first = accept_language.split(",", 1)[0].split(";", 1)[0].strip()
        if _LOCALE.match(first):
            return first
    return None
