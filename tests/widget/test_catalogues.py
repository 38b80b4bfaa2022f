"""The word catalogues, without a browser: every language has every string, with the same
placeholders and the plural forms its grammar needs; the words are translated, not copied;
every key the pages use exists and every string is used."""

from __future__ import annotations

import re

import pytest

from chatserver.config import DEFAULT_TOPICS
from tests.widget.browser import CATALOGUES
from tests.widget.catalogues import (
    LANGS,
    PAGES,
    PLACEHOLDER,
    PLURALS,
    catalogue,
    forms,
    placeholders,
)

STATIC = CATALOGUES.parent
SOURCES = {"widget": ["widget.js"], "console": ["listener.js", "listener.html"]}
#: Key families the pages build at run time ("topic." + id): the values they take.
DYNAMIC = {
    "topic.": DEFAULT_TOPICS,
    "topic.in.": DEFAULT_TOPICS,
    "cw.": ("violence", "sexual_violence", "self_harm", "gore"),
    "reason.": ("harassment", "self_harm_encouragement", "sexual_content", "spam", "other"),
    "risk.": (
        "suicidal_ideation",
        "plan_or_method",
        "means_at_hand",
        "attempt_in_progress",
        "self_harm_now",
        "goodbye_finality",
        "hopelessness",
        "danger_from_others",
    ),
    "role.": ("listener", "moderator", "seeker"),
}
#: Strings that may read the same as English in every language (units, layout). Besides
#: these, a single word may be the same (a loan word or a cognate: "Trauma", "Spam").
SAME_AS_ENGLISH = {"wait.s", "wait.min", "slow.option", "chat.title.private", "queues.at.risk"}
SAME_AS_ENGLISH |= {"announce.message"}


def sources(page: str) -> str:
    return "\n".join((STATIC / name).read_text("utf-8") for name in SOURCES[page])


def keys_called(page: str, known: set[str]) -> set[str]:
    """Keys the page's code asks for: t("...") arguments, data-t attributes, and dotted
    literals in a family of the catalogue (ternaries, tables: "ended.removed")."""
    source = sources(page)
    found = set(re.findall(r'\bt\(\s*"([^"]+)"', source))
    found |= set(re.findall(r'data-t="([^"]+)"', source))
    families = {k.split(".", 1)[0] for k in known if "." in k}
    for literal in re.findall(r'"([a-z][a-z_]*(?:\.[a-z_]+)+)"', source):
        if literal.split(".", 1)[0] in families:
            found.add(literal)
    return found


def test_the_pages_offer_exactly_the_catalogues_that_exist() -> None:
    for page, names in SOURCES.items():
        js = (STATIC / names[0]).read_text("utf-8")
        offered = re.search(r"const LANGS = \[([^\]]*)\]", js)
        assert offered is not None
        assert tuple(re.findall(r'"(\w+)"', offered.group(1))) == LANGS
        on_disk = {p.name.split(".")[1] for p in CATALOGUES.glob(f"{page}.*.json")}
        assert on_disk == set(LANGS), page


@pytest.mark.parametrize("page", PAGES)
def test_every_key_used_exists_and_every_string_is_used(page: str) -> None:
    en = catalogue(page, "en")
    called = keys_called(page, set(en))
    missing = sorted(k for k in called if k not in en and not k.endswith("."))
    assert not missing, f"{page}: used but not in the English catalogue: {missing}"
    literals = set(re.findall(r'(?="([a-z][a-z_]*(?:\.[a-z_]+)*\.?)")', sources(page)))
    for prefix, values in DYNAMIC.items():
        if prefix in literals:
            literals |= {prefix + v for v in values}
    unused = sorted(k for k in en if k not in literals)
    assert not unused, f"{page}: in the catalogue but never used: {unused}"


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", LANGS[1:])
def test_every_language_has_every_string(page: str, lang: str) -> None:
    en, other = catalogue(page, "en"), catalogue(page, lang)
    assert sorted(other) == sorted(en), f"{page}.{lang}: keys differ from English"
    for key, value in other.items():
        assert all(isinstance(f, str) and f.strip() for f in forms(value)), (lang, key)
        assert placeholders(value) == placeholders(en[key]), (lang, key, value)
        if isinstance(en[key], dict):
            assert isinstance(value, dict) and "other" in value, (lang, key)
            need = PLURALS.get(lang, {"one", "other"})
            assert need <= set(value), f"{page}.{lang} {key}: plural forms {set(value)}"
            assert set(value) <= {"zero", "one", "two", "few", "many", "other"}, (lang, key)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("lang", LANGS[1:])
def test_the_words_are_translated_not_copied(page: str, lang: str) -> None:
    en, other = catalogue(page, "en"), catalogue(page, lang)

    def one_word(value: object) -> bool:
        return isinstance(value, str) and len(PLACEHOLDER.sub("", value).split()) <= 1

    copied = sorted(
        k for k, v in other.items() if v == en[k] and k not in SAME_AS_ENGLISH and not one_word(v)
    )
    assert not copied, f"{page}.{lang}: still English: {copied}"
