"""The safety pipeline on a message's path through a real server: crisis card and
escalation, the trauma-dump hold and its content warning, consent, PII redaction."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest

from chatserver.app import ChatServer
from chatserver.features.verdicts import resources
from chatserver.tokens import Claims, issue
from clients.client import ChatClient
from protocol.messages import (
    Ack,
    Auth,
    Consent,
    ConsentGiven,
    Crisis,
    Escalation,
    Held,
    Listen,
    Message,
    Notice,
    Paired,
    Presence,
    RequestSupport,
)
from tests.conftest import running, url_of

SECRET = "safety-flow-secret"
FILTERS = ("pii", "crisis", "trauma_dump")
CRISIS = "i have the pills in front of me and i want to die tonight"
GRAPHIC = (
    "when he came home drunk he grabbed me by the hair and slammed my head against the "
    "kitchen counter until blood ran down my face and into my eyes, then he kicked me in the "
    "ribs over and over while i lay on the floor, i heard something crack and i could not "
    "breathe, there was blood on the tiles and my teeth were loose, he dragged me by my arm "
    "across the floor and my skin tore open on the door frame and i passed out from the pain"
)


@pytest.fixture
async def srv() -> AsyncIterator[ChatServer]:
    async with running(listener_secret=SECRET, filters=FILTERS) as server:
        yield server


async def test_crisis_message_gets_resources_and_alerts_listeners(srv: ChatServer) -> None:
    seeker = ChatClient(url_of(srv))
    listener = ChatClient(url_of(srv))
    peer = ChatClient(url_of(srv))
    for c in (seeker, listener, peer):
        await c.connect()
    try:
        token = issue(Claims("l-1", "Sam", ("grief",), int(time.time()) + 60), SECRET)
        await listener.request(Auth(token=token, ref="a"))
        await listener.join("grief")
        await peer.join("grief")
        joined = await seeker.join("grief")
        ack = await seeker.say("grief", CRISIS)
        assert isinstance(ack, Ack)  # the message itself is still delivered
        card = await seeker.recv_until(Crisis)
        assert card.resources and all(r.name for r in card.resources)
        alert = await listener.recv_until(Escalation)
        assert (alert.room, alert.handle, alert.id) == ("grief", joined.handle, ack.id)
        assert (await peer.recv_until(Message)).text == CRISIS
        with pytest.raises(TimeoutError):  # seekers never see escalations
            await peer.recv_until(Escalation, timeout=0.3)
        assert srv.chat.sessions and any(s.at_risk for s in srv.chat.sessions.values())
    finally:
        for c in (seeker, listener, peer):
            await c.close()


async def test_locale_picks_the_country_resources(srv: ChatServer) -> None:
    uk = resources("en-GB")
    us = resources("en-US")
    assert uk != us
    assert any("116" in (r.phone or "") for r in uk)
    assert any((r.phone or "") == "988" for r in us)


async def test_at_risk_seeker_is_paired_first(srv: ChatServer) -> None:
    calm = ChatClient(url_of(srv))
    worried = ChatClient(url_of(srv))
    sam = ChatClient(url_of(srv))
    for c in (calm, worried, sam):
        await c.connect()
    try:
        await calm.request(RequestSupport(topic="grief", ref="1"))
        await worried.join("grief")
        await worried.say("grief", CRISIS)
        await worried.recv_until(Crisis)
        await worried.request(RequestSupport(topic="grief", ref="2"))
        token = issue(Claims("l-1", "Sam", ("grief",), int(time.time()) + 60), SECRET)
        await sam.request(Auth(token=token, ref="a"))
        await sam.request(Listen(capacity=1, ref="l"))
        paired = await sam.recv_until(Paired)
        assert paired.at_risk is True
        assert (await worried.recv_until(Paired)).room == paired.room
    finally:
        for c in (calm, worried, sam):
            await c.close()


async def test_trauma_dump_is_held_then_sent_behind_a_warning(srv: ChatServer) -> None:
    async with ChatClient(url_of(srv)) as writer, ChatClient(url_of(srv)) as reader:
        await writer.join("trauma")
        await reader.join("trauma")
        held = await writer.say("trauma", GRAPHIC)
        assert isinstance(held, Held)
        assert held.category and held.text
        sent = await writer.say("trauma", GRAPHIC, cw=held.category)
        assert isinstance(sent, Ack)
        message = await reader.recv_until(Message)
        assert message.cw == held.category and message.text == GRAPHIC


async def test_consent_relaxes_the_hold_for_that_room(srv: ChatServer) -> None:
    async with ChatClient(url_of(srv)) as writer, ChatClient(url_of(srv)) as reader:
        await writer.join("trauma")
        await reader.join("trauma")
        await reader.send(Consent(room="trauma", ref="c"))
        event = await writer.recv_until(ConsentGiven)
        assert event.room == "trauma"
        sent = await writer.say("trauma", GRAPHIC)
        assert isinstance(sent, Ack)
        message = await reader.recv_until(Message)
        assert message.cw  # still collapsed behind a warning, but not held
        # consent is the person's, not the room's forever: it leaves with them
        await reader.leave("trauma")
        while (await writer.recv_until(Presence)).event != "leave":
            pass
        assert isinstance(await writer.say("trauma", GRAPHIC), Held)


async def test_contact_details_are_redacted_with_a_notice(srv: ChatServer) -> None:
    async with ChatClient(url_of(srv)) as a, ChatClient(url_of(srv)) as b:
        await a.join("general")
        await b.join("general")
        await a.say("general", "text me on +44 7700 900123 or jo.smith@example.com")
        notice = await a.recv_until(Notice)
        assert notice.code == "redacted"
        message = await b.recv_until(Message)
        assert "900123" not in message.text and "example.com" not in message.text
