"""Listener tokens: a token that would outlive the service's lifetime is refused (a leaked
token is bounded by policy, not by whoever minted it), and the CLI's default fits."""

from __future__ import annotations

import pytest

from chatserver.config import Settings
from chatserver.tokens import SHIFT_SECONDS, SKEW_SECONDS, Claims, TokenError, issue, verify

SECRET = "s"
NOW = 1_800_000_000.0


def _token(ttl: float) -> str:
    return issue(Claims("l-1", "Sam", ("grief",), int(NOW + ttl)), SECRET)


def test_a_token_within_the_lifetime_and_skew_is_accepted() -> None:
    claims = verify(_token(SHIFT_SECONDS + SKEW_SECONDS), SECRET, now=NOW, longest=SHIFT_SECONDS)
    assert claims.lid == "l-1"


def test_a_token_that_would_live_longer_is_refused() -> None:
    with pytest.raises(TokenError) as info:
        verify(_token(SHIFT_SECONDS + SKEW_SECONDS + 1), SECRET, now=NOW, longest=SHIFT_SECONDS)
    assert info.value.reason == "too_long"
    assert verify(_token(12 * 3600), SECRET, now=NOW).exp  # no limit asked: accepted


def test_the_default_lifetime_is_a_shift() -> None:
    assert Settings().listener_token_ttl == SHIFT_SECONDS == 8 * 3600
