"""The server's sentences in every language (chatserver/texts.py, chatserver/locales): each
catalogue complete, with the English one's placeholders, translated rather than copied;
English the same sentences the server sends today; a connection's locale read safely."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chatserver import texts
from chatserver.chat import AUTH_TEXT, DEGRADED_TEXT, RESTORED_TEXT
from chatserver.connection import RATE_TEXT
from chatserver.features.moderation import REMOVED_TEXT, ROOM_ENDED_TEXT, SUSPENDED_TEXT
from chatserver.features.support_state import BLOCKED_TEXT, ENDED_TEXT, HANDOVER_TEXT
from chatserver.features.verdicts import CRISIS_TEXT
from chatserver.routing import UNAVAILABLE_TEXT
from chatserver.texts import LANGS, language_of, locale_from, text

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def raw(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((texts.LOCALES / f"{lang}.json").read_text("utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def test_a_catalogue_per_language_and_nothing_else() -> None:
    assert {p.stem for p in texts.LOCALES.glob("*.json")} == set(LANGS)


@pytest.mark.parametrize("lang", LANGS[1:])
def test_every_sentence_in_every_language(lang: str) -> None:
    en, other = raw("en"), raw(lang)
    assert sorted(other) == sorted(en), f"{lang}: keys differ from English"
    for key, value in other.items():
        assert value.strip(), (lang, key)
        assert set(PLACEHOLDER.findall(value)) == set(PLACEHOLDER.findall(en[key])), (lang, key)
    copied = [k for k, v in other.items() if v == en[k] and len(v.split()) > 1]
    assert not copied, f"{lang}: still English: {copied}"


def test_english_is_what_the_server_sends_today() -> None:
    """Until the core calls text() (the wiring listed in issue 16's report), the English
    catalogue must hold the very sentences of the code, so nothing drifts."""
    en = raw("en")
    assert en["crisis"] == CRISIS_TEXT
    assert en["notice.degraded"] == DEGRADED_TEXT
    assert en["notice.restored"] == RESTORED_TEXT
    assert en["error.unavailable"] == UNAVAILABLE_TEXT
    assert en["error.rate_limited"] == RATE_TEXT
    assert {k: en[f"error.auth.{k}"] for k in AUTH_TEXT} == AUTH_TEXT
    assert {k: en[f"ended.{k}"] for k in ENDED_TEXT} == ENDED_TEXT
    assert en["notice.handover"] == HANDOVER_TEXT
    assert en["ended.removed"] == REMOVED_TEXT
    assert en["ended.room_ended"] == ROOM_ENDED_TEXT
    assert en["ended.blocked"] == BLOCKED_TEXT
    assert en["notice.suspended"] == SUSPENDED_TEXT


def test_text_fills_placeholders_and_falls_back_to_english() -> None:
    assert text("ended.ended_by_listener", "es-MX", name="Sam").startswith("Sam ha terminado")
    assert text("error.too_long", "de", max=4000).startswith("Diese Nachricht ist länger als 4000")
    assert text("crisis", "ja-JP") == CRISIS_TEXT  # no Japanese catalogue: English
    assert text("crisis", None) == CRISIS_TEXT
    with pytest.raises(KeyError):
        text("no.such.key", "en")


@pytest.mark.parametrize(
    ("locale", "lang"),
    [
        ("es", "es"),
        ("pt-BR", "pt"),
        ("pt_PT", "pt"),
        ("DE-at", "de"),
        ("zh-Hans-CN", "en"),
        ("", "en"),
    ],
)
def test_language_of(locale: str, lang: str) -> None:
    assert language_of(locale) == lang


def test_locale_from_the_query_then_the_header() -> None:
    assert locale_from("/?lang=es-MX", "en-GB,en;q=0.9") == "es-MX"
    assert locale_from("/", "fr-CA,fr;q=0.9") == "fr-CA"
    assert locale_from("/?lang=%3Cscript%3E", "it") == "it"  # a bad value is ignored
    assert locale_from("/", None) is None
    assert locale_from("/", "*") is None


@given(st.text(max_size=80), st.one_of(st.none(), st.text(max_size=80)))
def test_locale_from_never_raises_and_returns_only_a_locale(query: str, header: str | None) -> None:
    from urllib.parse import quote

    got = locale_from("/?lang=" + quote(query), header)
    assert got is None or re.fullmatch(
        r"[A-Za-z]{2,3}([-_][A-Za-z]{4})?([-_]([A-Za-z]{2}|\d{3}))?", got
    )


def test_a_sentence_composed_in_english_is_sent_in_the_persons_language() -> None:
    from chatserver.texts import localise, localised
    from protocol.messages import ChatEnded, Error, Notice

    es = localise(RESTORED_TEXT, "es-MX")
    assert es == text("notice.restored", "es") and es != RESTORED_TEXT
    ended = ENDED_TEXT["ended_by_listener"].format(name="Sam")
    assert localise(ended, "fr") == text("ended.ended_by_listener", "fr", name="Sam")
    assert localise("a sentence no catalogue has", "de") == "a sentence no catalogue has"
    assert localise(RESTORED_TEXT, "en-GB") == RESTORED_TEXT
    frame = localised(Notice(code="restored", text=RESTORED_TEXT), "pt-BR")
    assert isinstance(frame, Notice) and frame.text == text("notice.restored", "pt")
    err = localised(Error(code="rate_limited", message=RATE_TEXT), "it")
    assert isinstance(err, Error) and err.message == text("error.rate_limited", "it")
    chat = localised(ChatEnded(room="p-1", reason="x", text=ended), "en")
    assert isinstance(chat, ChatEnded) and chat.text == ended


async def test_a_spanish_widget_gets_spanish_errors() -> None:
    from websockets.asyncio.client import connect

    from protocol import JSON, decode_server
    from protocol.messages import Error as ErrorFrame
    from tests.conftest import running

    async with running() as server:
        url = f"ws://127.0.0.1:{server.port}/?lang=es"
        async with connect(url, subprotocols=["chat.v1.json"]) as ws:  # type: ignore[list-item]
            await ws.recv()  # welcome
            await ws.send('{"type":"join","room":"no-such-topic","ref":"1"}')
            frame = decode_server(await ws.recv(), JSON)
    assert isinstance(frame, ErrorFrame) and frame.code == "unknown_room"
    assert frame.message == text("error.unknown_room", "es")
    assert frame.message != text("error.unknown_room", "en")
