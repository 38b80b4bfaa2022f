"""The normaliser folds disguised spellings and never raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatserver.safety.normalize import analyze, normalize


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("I'M FINE", "im fine"),
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("ѕаfе", "safe"),  # Cyrillic look-alikes
        ("zero\u200bwidth", "zero width"),
        ("w4nt t0 g0", "want to go"),
        ("k1ll", "kill"),
        ("s.l.e.e.p", "sleep"),
        ("h e l l o there", "hello there"),
        ("sooooo tired", "so tired"),
        ("café à côté", "cafe a cote"),
        ("j'ai faim", "j ai faim"),
        ("don't", "dont"),
        ("  lots   of\n space ", "lots of space"),
    ],
)
def test_folds(raw: str, folded: str) -> None:
    assert normalize(raw) == folded


@pytest.mark.parametrize("text", ["call me at 5pm", "24/7", "the 2nd time", "it costs $5"])
def test_plain_numbers_are_not_leetspeak(text: str) -> None:
    assert normalize(text) == text.lower()


def test_zero_width_gives_both_readings() -> None:
    a = analyze("a\u200bb c")
    assert set(a.variants) == {"a b c", "ab c"}
    assert {"a", "b", "ab", "c"} <= a.tokens


def test_word_count_and_tokens() -> None:
    a = analyze("Hello, world! It's me.")
    assert a.n_words == 4
    assert a.tokens == frozenset({"hello", "world", "its", "me"})


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(text: str) -> None:
    a = analyze(text)
    assert isinstance(a.text, str)
    assert a.text in a.variants
    assert all(t.isascii() and t.isalpha() for t in a.tokens)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=())))
def test_never_raises_with_lone_surrogates(text: str) -> None:
    analyze(text)
    analyze("k i l l \ud800 " + text)
