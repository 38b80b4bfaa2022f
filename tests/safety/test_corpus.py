"""The training corpus holds what issue 13 asks of it: size, hard negatives, languages,
every kind, labels that follow the kind, and no near-copies across groups."""

from __future__ import annotations

from collections import Counter

import pytest

from chatserver.safety.corpus import (
    CORPUS_DIR,
    KINDS,
    LANGS,
    NEGATIVE_KINDS,
    Example,
    load_corpus,
    near_duplicates,
    schema_errors,
)


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    return load_corpus()


def test_every_file_is_well_formed() -> None:
    files = sorted(CORPUS_DIR.glob("*.jsonl"))
    assert files
    assert [e for f in files for e in schema_errors(f)] == []


def test_size_negatives_languages_and_kinds(corpus: list[Example]) -> None:
    assert len(corpus) >= 6000
    assert len({e.id for e in corpus}) == len(corpus)
    negatives = sum(1 for e in corpus if e.kind in NEGATIVE_KINDS)
    assert negatives * 2 >= len(corpus)
    by_lang = Counter(e.lang for e in corpus)
    assert set(by_lang) == set(LANGS)
    assert all(by_lang[lang] >= 200 for lang in LANGS if lang != "en")
    assert set(Counter(e.kind for e in corpus)) == set(KINDS)
    assert all((e.crisis, e.trauma_dump) == KINDS[e.kind] for e in corpus)


def test_no_near_copies_across_groups(corpus: list[Example]) -> None:
    assert near_duplicates(corpus) == []


def test_the_near_copy_check_can_fail() -> None:
    def ex(i: str, text: str, group: str) -> Example:
        return Example(i, text, "en", False, False, "smalltalk", group)

    a = ex("a", "off to bed now, thanks for the chat everyone, see you tomorrow", "g1")
    b = ex("b", "off to bed now, thanks for the chat everyone, see you tomorrow!", "g2")
    c = ex("c", "off to bed now, thanks for the chat everyone, see you tomorrow!", "g1")
    other = ex("d", "the bus was late again and it rained the whole way", "g2")
    assert [(x.id, y.id) for x, y, _ in near_duplicates([a, b, other])] == [("a", "b")]
    assert near_duplicates([a, c, other]) == []  # the same group may hold siblings
