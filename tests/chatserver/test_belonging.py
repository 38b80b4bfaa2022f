"""Belonging (issue 18) end to end through real servers, on memory (one node) and on Redis
(two nodes, the seekers on one and the listeners on the other): pairing by language and
need, the honest language choice, group rooms by language, supportive reactions."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

from chatserver.tokens import Claims, issue
from clients.client import ChatClient, ChatError
from protocol.belonging import LanguageUnavailable, React, Reactions, SupportChoice
from protocol.messages import (
    Ack,
    Auth,
    Authed,
    EndChat,
    Join,
    Joined,
    Listen,
    Listening,
    Message,
    Mute,
    Paired,
    QueuePosition,
    QueueStatus,
    RequestSupport,
)
from tests.helpers.procs import RedisProcess, ServerProcess, chatserver

SECRET = "belonging-secret"
AGAIN = "1"  # --language-choice-again, seconds


@dataclass
class Nodes:
    """Where seekers connect (``a``) and where listeners do (``b``): the same node on
    memory, two nodes on Redis."""

    a: ServerProcess
    b: ServerProcess


@contextlib.contextmanager
def nodes(kind: str) -> Iterator[Nodes]:
    args: tuple[str, ...] = (
        *("--listener-secret", SECRET, "--room-languages", "es"),
        *("--language-choice-again", AGAIN),
    )
    if kind == "memory":
        with chatserver(*args) as node:
            yield Nodes(node, node)
        return
    redis = RedisProcess().start()
    try:
        args += ("--redis-url", redis.url)
        with chatserver(*args) as a, chatserver(*args) as b:
            yield Nodes(a, b)
    finally:
        redis.stop()


@pytest.fixture(params=["memory", "redis"])
def where(request: pytest.FixtureRequest) -> Iterator[Nodes]:
    with nodes(request.param) as n:
        yield n


@contextlib.asynccontextmanager
async def clients(*urls: str) -> AsyncIterator[list[ChatClient]]:
    opened = [ChatClient(url, auto_resume=False) for url in urls]
    try:
        for client in opened:
            await client.connect()
        yield opened
    finally:
        for client in opened:
            await client.close()


def token(lid: str, name: str, languages: tuple[str, ...] = ()) -> str:
    claims = Claims(lid, name, ("grief", "anxiety"), int(time.time()) + 600, languages=languages)
    return issue(claims, SECRET)


async def on_duty(client: ChatClient, lid: str, name: str, *langs: str, **listen: object) -> None:
    authed = await client.request(Auth(token=token(lid, name, langs), ref=client.ref()))
    assert isinstance(authed, Authed) and authed.languages == (langs or ("en",))
    listening = await client.request(Listen(capacity=1, ref=client.ref(), **listen))  # type: ignore[arg-type]
    assert isinstance(listening, Listening)


async def ask(client: ChatClient, language: str | None = None, need: str | None = None) -> None:
    frame = RequestSupport("grief", client.ref(), language, need)  # type: ignore[arg-type]
    position = await client.request(frame)
    assert isinstance(position, QueuePosition) and position.language == (language or "en")


async def nothing_of(client: ChatClient, kind: type, seconds: float = 0.5) -> None:
    """No frame of ``kind`` came within ``seconds`` (the others stay to be read)."""
    await asyncio.sleep(seconds)
    frames = client.received()
    for frame in frames:
        client._incoming.put_nowait(frame)
    assert not [f for f in frames if isinstance(f, kind)]


# ---------------------------------------------------------------------- one-to-one


async def test_a_spanish_seeker_gets_the_listener_who_speaks_spanish(where: Nodes) -> None:
    async with clients(where.b.url, where.b.url, where.a.url, where.a.url) as (en, es, ana, joe):
        await on_duty(en, "l-en", "Sam")  # English only, on duty first and free
        await on_duty(es, "l-es", "Lucía", "es", "en")
        await ask(ana, "es", "listen")
        paired = await ana.recv_until(Paired)
        assert (paired.peer.handle, paired.language, paired.shared) == ("Lucía", "es", True)
        assert paired.need is None  # the need is for the listener's eyes
        told = await es.recv_until(Paired)
        assert (told.language, told.shared, told.need) == ("es", True, "listen")
        await nothing_of(ana, LanguageUnavailable, 0)
        await ask(joe)  # English, no need said: the free English listener
        assert (await joe.recv_until(Paired)).peer.handle == "Sam"
        assert (await en.recv_until(Paired)).need is None


async def test_nobody_who_speaks_it_then_any_listener(where: Nodes) -> None:
    async with clients(where.b.url, where.a.url + "/?lang=es-MX") as (en, ana):
        await on_duty(en, "l-en", "Sam")
        await ask(ana, "es")  # said by the frame; the connection says so too
        told = await ana.recv_until(LanguageUnavailable)
        assert (told.topic, told.language, told.available) == ("grief", "es", ("en",))
        await nothing_of(en, Paired)  # keeps waiting for a Spanish speaker
        again = await ana.recv_until(LanguageUnavailable, timeout=5)  # after AGAIN seconds
        assert again == told
        wait = await ana.request(SupportChoice("wait", ana.ref()))
        assert isinstance(wait, QueuePosition) and wait.position == 1
        for _ in range(10):  # the console's view: who waits, per topic and language
            status = await en.recv_until(QueueStatus)
            grief = next(q for q in status.queues if q.topic == "grief")
            if grief.waiting:
                break
        assert grief.languages is not None
        assert [(x.language, x.waiting) for x in grief.languages] == [("es", 1)]
        position = await ana.request(SupportChoice("any", ana.ref()))
        assert isinstance(position, QueuePosition) and position.language == "es"
        paired = await ana.recv_until(Paired)
        assert (paired.peer.handle, paired.language, paired.shared) == ("Sam", "es", False)
        assert (await en.recv_until(Paired)).shared is False


async def test_with_nobody_on_duty_the_seeker_is_told_so(where: Nodes) -> None:
    async with clients(where.a.url + "/?lang=es", where.b.url) as (ana, sam):
        position = await ana.request(RequestSupport("grief", ana.ref()))
        assert isinstance(position, QueuePosition) and position.language == "es"  # from ?lang
        told = await ana.recv_until(LanguageUnavailable)
        assert (told.language, told.available) == ("es", ())
        await ana.request(SupportChoice("any", ana.ref()))
        again = await ana.recv_until(LanguageUnavailable, timeout=5)  # "any" and still nobody
        assert again.available == ()
        await on_duty(sam, "l-en", "Sam")
        assert (await ana.recv_until(Paired)).shared is False


async def test_language_requests_that_are_refused(where: Nodes) -> None:
    async with clients(where.a.url, where.b.url) as (ana, sam):
        with pytest.raises(ChatError) as info:
            await ana.request(SupportChoice("any", ana.ref()))
        assert info.value.code == "not_waiting"
        await sam.request(Auth(token=token("l-en", "Sam", ("en",)), ref=sam.ref()))
        with pytest.raises(ChatError) as info:
            await sam.request(Listen(capacity=1, ref=sam.ref(), languages=("es",)))
        assert info.value.code == "forbidden"


async def test_a_requeued_seeker_keeps_language_and_need(where: Nodes) -> None:
    async with clients(where.b.url, where.a.url) as (es, ana):
        await on_duty(es, "l-es", "Lucía", "es")
        await ask(ana, "es", "ideas")
        await ana.recv_until(Paired)
        await es.close()  # the listener's browser closes: the seeker goes first in line
        requeued = await ana.recv_until(QueuePosition)
        assert (requeued.position, requeued.language) == (1, "es")
        async with clients(where.b.url, where.b.url) as (en, es2):
            await on_duty(en, "l-en", "Sam")
            await nothing_of(ana, Paired)  # not to the English-only listener
            await on_duty(es2, "l-es2", "Marta", "es")
            told = await es2.recv_until(Paired)
            assert (told.language, told.need, told.shared) == ("es", "ideas", True)


async def test_the_choice_of_any_listener_is_kept_on_requeue(where: Nodes) -> None:
    async with clients(where.b.url, where.a.url, where.a.url) as (sam, joe, ana):
        await on_duty(sam, "l-en", "Sam")
        await ask(joe)
        joe_room = (await joe.recv_until(Paired)).room
        await ask(ana, "es")
        await ana.recv_until(LanguageUnavailable)
        await ana.request(SupportChoice("any", ana.ref()))  # Sam is busy: she waits
        async with clients(where.b.url) as (es,):
            await on_duty(es, "l-es", "Lucía", "es")
            first = await ana.recv_until(Paired)  # a speaker of hers first
            assert (first.peer.handle, first.shared) == ("Lucía", True)
            await sam.request(EndChat(joe_room, sam.ref()))  # Sam is free again
        # Lucía's page closed: Ana goes first in line, still open to any listener
        second = await ana.recv_until(Paired)
        assert (second.peer.handle, second.shared) == ("Sam", False)


# ---------------------------------------------------------------------- group rooms


async def test_group_rooms_by_language_and_the_kind_fallback(where: Nodes) -> None:
    async with clients(where.a.url, where.b.url, where.a.url) as (ana, eva, joe):
        joined = await ana.request(Join("grief", ana.ref(), "es"))
        assert isinstance(joined, Joined) and (joined.room, joined.language) == ("grief@es", "es")
        other = await eva.request(Join("grief", eva.ref(), "es"))
        assert isinstance(other, Joined) and other.room == "grief@es"
        fallback = await joe.request(Join("anxiety", joe.ref(), "fr"))  # no French room
        assert isinstance(fallback, Joined) and (fallback.room, fallback.language) == (
            "anxiety",
            "en",
        )
        with pytest.raises(ChatError) as info:
            await joe.request(Join("grief@fr", joe.ref()))
        assert info.value.code == "unknown_room"


# ---------------------------------------------------------------------- reactions


async def test_reactions_counted_muted_hidden_and_replayed(where: Nodes) -> None:
    async with clients(where.a.url, where.b.url, where.a.url) as (ana, eva, joe):
        handles = {}
        for name, client in (("ana", ana), ("eva", eva), ("joe", joe)):
            joined = await client.request(Join("grief", client.ref(), "es"))
            assert isinstance(joined, Joined)
            handles[name] = joined.handle
        ack = await ana.say("grief@es", "Hoy fue un día muy duro")
        assert isinstance(ack, Ack)
        for client in (eva, joe):
            await client.recv_until(Message)
        muted = await joe.request(Mute("grief@es", handles["eva"], joe.ref()))
        assert muted.TYPE == "done"
        mine = await eva.request(React("grief@es", ack.id, "hear_you", ref=eva.ref()))
        assert isinstance(mine, Reactions)
        assert (mine.counts, mine.mine) == ({"hear_you": 1}, ("hear_you",))
        heard = await ana.recv_until(Reactions)  # the author sees that she was heard
        assert (heard.id, heard.counts, heard.mine) == (ack.id, {"hear_you": 1}, None)
        given = await joe.request(React("grief@es", ack.id, "hear_you", ref=joe.ref()))
        assert isinstance(given, Reactions)
        assert given.counts == {"hear_you": 1}  # his own; eva's is hidden from him
        assert (await ana.recv_until(Reactions)).counts == {"hear_you": 2}
        again = await eva.request(React("grief@es", ack.id, "hear_you", ref=eva.ref()))
        assert isinstance(again, Reactions) and again.counts == {"hear_you": 2}  # once each
        undone = await eva.request(React("grief@es", ack.id, "hear_you", True, eva.ref()))
        assert isinstance(undone, Reactions) and (undone.counts, undone.mine) == (
            {"hear_you": 1},
            (),
        )
        await eva.request(React("grief@es", ack.id, "strength", ref=eva.ref()))
        for _ in range(20):  # the last frame each member gets is the latest count
            last = await ana.recv_until(Reactions)
            if last.counts == {"hear_you": 1, "strength": 1}:
                break
        await replayed_after_a_resume(ana, ack.id)


async def replayed_after_a_resume(ana: ChatClient, message: str) -> None:
    """A dropped connection that resumes gets the counts after the replay."""
    resumes = ana.resumes
    ana.auto_resume = True
    assert ana._ws is not None
    ana._ws.transport.abort()
    await ana.wait_resumed(resumes + 1)
    replay = await ana.recv_until(Reactions)
    assert (replay.id, replay.counts, replay.mine) == (
        message,
        {"hear_you": 1, "strength": 1},
        (),
    )


async def test_reactions_that_are_refused(where: Nodes) -> None:
    async with clients(where.a.url, where.b.url) as (ana, eva):
        await ana.request(Join("grief", ana.ref()))
        await eva.request(Join("grief", eva.ref()))
        ack = await ana.say("grief", "hello")
        assert isinstance(ack, Ack)
        for frame, code in (
            (React("anxiety", ack.id, "strength", ref="1"), "not_in_room"),
            (React("grief", "no-such-id", "strength", ref="2"), "not_found"),
        ):
            with pytest.raises(ChatError) as info:
                await eva.request(frame)
            assert info.value.code == code
        with pytest.raises(ChatError) as info:
            await ana.request(React("grief", ack.id, "strength", ref="3"))
        assert info.value.code == "forbidden"  # her own message
        codes = []
        for reaction in ("hear_you", "strength", "same_here", "thanks_for_sharing") * 3:
            try:
                await eva.request(React("grief", ack.id, reaction, ref=eva.ref()))
            except ChatError as exc:
                codes.append((exc.code, exc.frame.retry_after))
        assert codes and all(c == "rate_limited" and (r or 0) > 0 for c, r in codes)
