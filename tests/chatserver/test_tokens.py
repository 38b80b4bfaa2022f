"""Listener tokens carry the languages a listener can support seekers in: signed with
the rest, validated like the wire, absent in old tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatserver.tokens import (
    MAX_LANGUAGES,
    Claims,
    TokenError,
    issue,
    parse_languages,
    token_main,
    verify,
)

SECRET = "tokens-test-secret"


def forged(data: dict[str, object]) -> str:
    """A correctly signed token over arbitrary claims (what a buggy issuer could make)."""
    body = "v1." + base64.urlsafe_b64encode(orjson.dumps(data)).rstrip(b"=").decode()
    mac = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).digest()
    return body + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def later() -> int:
    return int(time.time()) + 60


@given(st.lists(st.from_regex(r"[a-z]{2,3}", fullmatch=True), max_size=MAX_LANGUAGES, unique=True))
def test_languages_round_trip(languages: list[str]) -> None:
    claims = Claims("l-1", "Ana", ("grief",), later(), "listener", tuple(languages))
    assert verify(issue(claims, SECRET), SECRET) == claims


def test_a_token_without_languages_says_none() -> None:
    token = forged({"lid": "l-1", "name": "Ana", "topics": ["grief"], "exp": later()})
    assert verify(token, SECRET).languages == ()
    # and issuing without languages leaves the claim out: old servers read it as before
    plain = issue(Claims("l-1", "Ana", ("grief",), later()), SECRET)
    body = plain.split(".")[1]
    assert "langs" not in orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


@pytest.mark.parametrize(
    "langs",
    [["english"], ["EN"], ["es", "es"], "es", [3], [f"a{c}" for c in "abcdefghijklmnopq"]],
)
def test_bad_languages_make_a_bad_token(langs: object) -> None:
    token = forged(
        {"lid": "l-1", "name": "Ana", "topics": ["grief"], "exp": later(), "langs": langs}
    )
    with pytest.raises(TokenError) as info:
        verify(token, SECRET)
    assert info.value.reason == "bad"


def test_parse_languages() -> None:
    assert parse_languages(" es, EN ,") == ("es", "en")
    assert parse_languages("") == ()
    with pytest.raises(ValueError, match="distinct codes"):
        parse_languages("es,spanish")


def test_the_command_signs_languages(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--id", "l-9", "--name", "Ana", "--topics", "grief", "--languages", "es,en"]
    assert token_main([*argv, "--secret", SECRET]) == 0
    assert verify(capsys.readouterr().out.strip(), SECRET).languages == ("es", "en")
    with pytest.raises(SystemExit):
        token_main([*argv[:-1], "es,xx-YY", "--secret", SECRET])
    assert "distinct codes" in capsys.readouterr().err
