"""The path of one `say`, socket to every member's socket, crosses each module once: no
module calls back into one that came before it (the old `chat -> messaging -> chat`).
The one module met twice is the envelope codec: encode on send, decode on delivery
(on different nodes when the members are elsewhere)."""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import pytest

from clients.client import ChatClient
from protocol.messages import Message
from tests.conftest import running, url_of


def _module(frame: FrameType | None) -> str:
    return str(frame.f_globals.get("__name__", "")) if frame is not None else ""


@pytest.mark.parametrize("filters", [(), ("pii", "crisis", "trauma_dump")])
async def test_a_say_crosses_each_module_once(filters: tuple[str, ...]) -> None:
    order: list[str] = []
    edges: set[tuple[str, str]] = set()

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        callee = _module(frame)
        if event != "call" or not callee.startswith("chatserver"):
            return
        caller = _module(frame.f_back)
        if callee not in order:
            order.append(callee)
        if caller.startswith("chatserver") and caller != callee:
            edges.add((caller, callee))

    async with (
        running(filters=filters) as server,
        ChatClient(url_of(server)) as a,
        ChatClient(url_of(server)) as b,
    ):
        await a.join("anxiety")
        await b.join("anxiety")
        sys.setprofile(profile)
        try:
            await a.say("anxiety", "hello")
            await a.recv_until(Message)
            await b.recv_until(Message)
        finally:
            sys.setprofile(None)
    back = {(x, y) for x, y in edges if order.index(y) < order.index(x)}
    assert back <= {("chatserver.hub", "chatserver.envelopes")}, back
    assert order[0] == "chatserver.connection" and "chatserver.hub" in order
    assert "chatserver.chat" not in order  # the session lifecycle is not on a message's path
