"""Seekers on node A, listeners on node B, one Redis: pairing, chat and ending across nodes."""

from __future__ import annotations

import time

from chatserver.tokens import Claims, issue
from clients.client import ChatClient
from protocol.messages import (
    Auth,
    ChatEnded,
    EndChat,
    Joined,
    Listen,
    Message,
    Paired,
    QueuePosition,
    RequestSupport,
)
from tests.helpers.procs import RedisProcess, chatserver

SECRET = "across-nodes-secret"


async def test_seekers_on_a_are_paired_with_listeners_on_b(redis_server: RedisProcess) -> None:
    args = ("--redis-url", redis_server.url, "--listener-secret", SECRET)
    with chatserver(*args) as node_a, chatserver(*args) as node_b:
        seekers = [ChatClient(node_a.url) for _ in range(3)]
        sam = ChatClient(node_b.url)
        try:
            for i, s in enumerate(seekers):
                await s.connect()
                position = await s.request(RequestSupport(topic="grief", ref="r"))
                assert isinstance(position, QueuePosition) and position.position == i + 1
            await sam.connect()
            token = issue(Claims("l-1", "Sam", ("grief",), int(time.time()) + 60), SECRET)
            await sam.request(Auth(token=token, ref="a"))
            await sam.request(Listen(capacity=2, ref="l"))
            rooms = {(await sam.recv_until(Paired, timeout=10)).room for _ in range(2)}
            first = await seekers[0].recv_until(Paired, timeout=10)
            second = await seekers[1].recv_until(Paired, timeout=10)
            assert {first.room, second.room} == rooms  # FIFO: the first two, never twice
            # positions update across nodes: 3 -> 1, perhaps through 2 when the two
            # pairings land in different batches
            seen = [(await seekers[2].recv_until(QueuePosition, timeout=10)).position]
            for _ in range(2):
                if seen[-1] == 1:
                    break
                seen.append((await seekers[2].recv_until(QueuePosition, timeout=10)).position)
            assert seen[-1] == 1 and seen == sorted(seen, reverse=True), seen
            joined = await seekers[0].recv_until(Joined, timeout=10)
            await seekers[0].say(joined.room, "hello from node A")
            message = await sam.recv_until(Message, timeout=10)
            assert (message.text, message.room) == ("hello from node A", joined.room)
            ended = await sam.request(EndChat(room=joined.room, ref="e"))
            assert isinstance(ended, ChatEnded)
            assert (
                await seekers[0].recv_until(ChatEnded, timeout=10)
            ).reason == "ended_by_listener"
            third = await seekers[2].recv_until(Paired, timeout=10)  # the freed seat is used
            assert third.peer.handle == "Sam"
        finally:
            for c in (*seekers, sam):
                await c.close()
