"""A `say` sent again after a lost connection (`cid` + `resend`) is relayed at most once."""

from __future__ import annotations

import asyncio

from chatserver.app import ChatServer
from clients.client import ChatClient
from protocol.messages import Ack, Message, Say
from tests.conftest import running, url_of
from tests.helpers.procs import RedisProcess


async def texts_until(client: ChatClient, last: str) -> list[str]:
    texts: list[str] = []
    while not texts or texts[-1] != last:
        texts.append((await client.recv_until(Message)).text)
    return texts


async def test_a_copy_of_a_message_that_got_through_is_acked_again_and_shown_once(
    server: ChatServer,
) -> None:
    async with ChatClient(url_of(server)) as a, ChatClient(url_of(server)) as b:
        await a.join("anxiety")
        await b.join("anxiety")
        first = await a.request(Say(room="anxiety", text="hello?", ref="1", cid="c-1"))
        again = await a.request(Say(room="anxiety", text="hello?", ref="2", cid="c-1", resend=True))
        assert isinstance(first, Ack) and isinstance(again, Ack)
        assert (again.id, again.seq, again.ref) == (first.id, first.seq, "2")
        await a.say("anxiety", "after")
        assert await texts_until(b, "after") == ["hello?", "after"]
        assert b'chatserver_resends_total{outcome="already_relayed"} 1.0' in server.metrics.render()


async def test_a_copy_of_a_message_that_was_lost_is_relayed(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a, ChatClient(url_of(server)) as b:
        await a.join("anxiety")
        await b.join("anxiety")
        ack = await a.request(Say(room="anxiety", text="still here", ref="1", cid="x", resend=True))
        assert isinstance(ack, Ack) and ack.seq == 1
        assert await texts_until(b, "still here") == ["still here"]
        assert b'chatserver_resends_total{outcome="relayed"} 1.0' in server.metrics.render()


async def test_the_same_cid_from_two_people_is_two_messages(server: ChatServer) -> None:
    async with ChatClient(url_of(server)) as a, ChatClient(url_of(server)) as b:
        await a.join("grief")
        await b.join("grief")
        one = await a.request(Say(room="grief", text="one", ref="1", cid="same"))
        two = await b.request(Say(room="grief", text="two", ref="1", cid="same", resend=True))
        assert isinstance(one, Ack) and isinstance(two, Ack) and one.id != two.id
        assert await texts_until(b, "two") == ["one", "two"]


async def test_the_client_sends_again_what_had_no_reply_when_its_connection_dropped(
    server: ChatServer,
) -> None:
    async with ChatClient(url_of(server)) as a, ChatClient(url_of(server)) as b:
        await a.join("anxiety")
        await b.join("anxiety")
        say = asyncio.get_running_loop().create_task(a.say("anxiety", "are you there?"))
        for _ in range(100):  # until the say is written
            if a._outbox:
                break
            await asyncio.sleep(0)
        assert a._outbox
        assert a._ws is not None
        a._ws.transport.abort()  # the reply, if any, is lost with the connection
        ack = await say
        assert isinstance(ack, Ack)
        assert a.resumes == 1
        await a.say("anxiety", "ok")
        assert await texts_until(b, "ok") == ["are you there?", "ok"]


async def test_the_client_can_send_again_by_itself_while_the_relay_is_down() -> None:
    redis = RedisProcess().start()
    try:
        async with (
            running(redis_url=redis.url) as server,
            ChatClient(url_of(server), resend_unavailable=10) as a,
            ChatClient(url_of(server)) as b,
        ):
            await a.join("grief")
            await b.join("grief")
            await asyncio.to_thread(redis.stop)
            for _ in range(200):  # until the node has noticed (bounded: 10 s)
                if not server.broker.healthy:
                    break
                await asyncio.sleep(0.05)
            assert not server.broker.healthy
            say = asyncio.get_running_loop().create_task(a.say("grief", "are you there?"))
            await asyncio.sleep(2.5)  # at least one unavailable and one wait
            assert not say.done()
            await asyncio.to_thread(redis.start)
            assert isinstance(await asyncio.wait_for(say, 30), Ack)
            await a.say("grief", "after")
            assert await texts_until(b, "after") == ["are you there?", "after"]
            assert b'chatserver_resends_total{outcome="relayed"}' in server.metrics.render()
    finally:
        redis.cleanup()
