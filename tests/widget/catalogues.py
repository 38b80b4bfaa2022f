"""The word catalogues of the widget and the console (chatserver/static/i18n), read the way
the pages read them, for the catalogue checks and the browser's "untranslated" check."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from tests.widget.browser import CATALOGUES

LANGS = ("en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "ru")
PAGES = ("widget", "console")
#: CLDR plural categories the pages meet for whole numbers, per language (Intl.PluralRules);
#: a form left out falls back to "other", which would read wrong in these languages.
PLURALS = {"pl": {"one", "few", "many", "other"}, "ru": {"one", "few", "many", "other"}}
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def catalogue(page: str, lang: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CATALOGUES / f"{page}.{lang}.json").read_text("utf-8"))
    return data


def forms(value: Any) -> list[str]:
    """The strings of one entry: itself, or each plural form."""
    return list(value.values()) if isinstance(value, dict) else [value]


def placeholders(value: Any) -> set[str]:
    """The placeholders of an entry, case folded: {Topic} (a topic's name as a title) and
    {topic} (as it reads inside a sentence) are the same value, and a language picks."""
    return {name.lower() for form in forms(value) for name in PLACEHOLDER.findall(form)}


@cache
def templates(page: str, lang: str) -> tuple[re.Pattern[str], ...]:
    """Every string of the catalogue as a pattern, each {placeholder} matching any text.
    Entries that are nothing but placeholders and punctuation match nothing: they would
    match anything."""
    out = []
    for value in catalogue(page, lang).values():
        for form in forms(value):
            parts = PLACEHOLDER.split(form)[::2]
            if not any(re.search(r"[^\W\d_]", p) for p in parts):
                continue
            body = ".+?".join(re.escape(" ".join(p.split())) for p in parts)
            out.append(re.compile(body, re.DOTALL))
    return tuple(out)


def untranslated(page: str, lang: str, texts: list[str]) -> list[str]:
    """The texts (with letters in them) that no string of ``lang``'s catalogue produces:
    English left behind, a hard-coded word, or a key shown for a missing string."""
    pats = templates(page, lang)
    return sorted(
        {
            text
            for text in texts
            if re.search(r"[^\W\d_]", text) and not any(p.fullmatch(text) for p in pats)
        }
    )
