"""Issue 15, case 4: moderation has no escape hatch.

A ``resume`` never drops someone from a room's members, and ``remove`` and suspend act on
the person whatever state their session is in: live, resumed (even with its own current
token, on the same socket), dropped within the grace, or on another node."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest

from tests.faults.kit import GRACE, Peer, close_all, listener, nodes, resume, sigkill
from tests.helpers.procs import RedisProcess, ServerProcess


@contextlib.contextmanager
def two_nodes(backend: str, redis: RedisProcess) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    if backend == "redis":
        with nodes(2, redis=redis) as (a, b):
            yield a, b
    else:
        with nodes(1) as (a,):
            yield a, a


async def _self_resume(person: Peer, room: str, seq: int) -> None:
    """The escape the issue found: ``resume`` with the session's own current token."""
    await asyncio.sleep(0.3)  # its snapshot is saved
    reply = await person.request({"type": "resume", "token": person.token, "last_seq": {room: seq}})
    if reply["type"] == "resumed":
        person.token = reply["resume_token"]


async def _report(reporter: Peer, room: str, message_id: str) -> None:
    done = await reporter.request(
        {"type": "report", "room": room, "reason": "harassment", "id": message_id}
    )
    assert done["type"] == "done", done


async def _suspend(mod: Peer, handle: str) -> None:
    report = await mod.request({"type": "next_report"})
    assert report["type"] == "report" and report["handle"] == handle, report
    done = await mod.request(
        {"type": "moderate", "report": report["id"], "action": "suspend", "minutes": 5}
    )
    assert done["type"] == "done", done


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_resuming_with_ones_own_token_escapes_no_remove(
    backend: str, redis: RedisProcess
) -> None:
    with two_nodes(backend, redis) as (a, b):
        troll = await Peer.open(a.url)
        sam = await listener(b.url)
        watcher = await Peer.open(b.url)
        peers = [troll, sam, watcher]
        try:
            joined = await troll.join("anxiety")
            room = joined["room"]
            await sam.join(room)
            await watcher.join(room)
            await _self_resume(troll, room, joined["seq"])
            await watcher.nothing("presence", within=1.0, event="leave", handle=joined["handle"])
            late = await Peer.open(b.url)
            peers.append(late)
            members = (await late.join(room))["members"]
            assert joined["handle"] in [m["handle"] for m in members], members
            done = await sam.request({"type": "remove", "room": room, "handle": joined["handle"]})
            assert done["type"] == "done", done
            ended = await troll.expect("chat_ended", room=room, timeout=3)
            assert ended["reason"] == "removed"
            refused = await troll.say(room, "you can't stop me")
            assert refused["type"] == "error", refused
            await watcher.nothing("message", within=1.0, text="you can't stop me")
        finally:
            await close_all(*peers)


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_resuming_with_ones_own_token_escapes_no_suspension(
    backend: str, redis: RedisProcess
) -> None:
    with two_nodes(backend, redis) as (a, b):
        troll = await Peer.open(a.url)
        watcher = await Peer.open(b.url)
        mod = await listener(b.url, lid="m-1", name="Mo", role="moderator")
        peers = [troll, watcher, mod]
        try:
            joined = await troll.join("anxiety")
            room = joined["room"]
            await watcher.join(room)
            nasty = await troll.say(room, "nasty words")
            await _report(watcher, room, nasty["id"])
            await _self_resume(troll, room, joined["seq"])
            await _suspend(mod, joined["handle"])
            await troll.expect("notice", code="suspended", timeout=3)
            refused = await troll.say(room, "still here")
            assert refused["type"] == "error" and refused["code"] == "suspended", refused
            await watcher.nothing("message", within=1.0, text="still here")
        finally:
            await close_all(*peers)


async def test_remove_and_suspend_reach_a_session_dropped_within_grace_on_another_node(
    redis: RedisProcess,
) -> None:
    """The person's connection to A dropped; a listener and a moderator on B act on them
    meanwhile. When they come back (on B), they are out of the room, cooled down, and
    suspended."""
    with nodes(2, redis=redis) as (a, b):
        troll = await Peer.open(a.url)
        sam = await listener(b.url)
        watcher = await Peer.open(b.url)
        mod = await listener(b.url, lid="m-1", name="Mo", role="moderator")
        peers = [troll, sam, watcher, mod]
        try:
            joined = await troll.join("anxiety")
            room = joined["room"]
            await sam.join(room)
            await watcher.join(room)
            nasty = await troll.say(room, "nasty words")
            await _report(watcher, room, nasty["id"])
            await asyncio.sleep(0.3)
            troll.drop()
            await asyncio.sleep(0.3)
            done = await sam.request({"type": "remove", "room": room, "handle": joined["handle"]})
            assert done["type"] == "done", done
            await _suspend(mod, joined["handle"])
            back_peer, back = await resume(b.url, troll.token, {room: joined["seq"]})
            peers.append(back_peer)
            assert back["type"] == "resumed", back  # within the grace
            assert room not in back["rooms"], back
            again = await back_peer.request({"type": "join", "room": "anxiety"})
            assert again["type"] == "error" and again["code"] == "cooldown", again
            await back_peer.join("grief")
            refused = await back_peer.say("grief", "back again")
            assert refused["type"] == "error" and refused["code"] == "suspended", refused
        finally:
            await close_all(*peers)
    assert GRACE > 1.0  # the whole scene plays out within the grace


async def test_remove_and_suspend_reach_a_session_whose_node_died(redis: RedisProcess) -> None:
    """The person's node dies (their connection with it); a listener and a moderator on B
    act before the person comes back. No node holds the session meanwhile, so the
    actions wait for it: resumed on B, they are out of the room, told so, cooled down
    and suspended."""
    with nodes(2, redis=redis) as (a, b):
        troll = await Peer.open(a.url)
        sam = await listener(b.url)
        watcher = await Peer.open(b.url)
        mod = await listener(b.url, lid="m-1", name="Mo", role="moderator")
        peers = [troll, sam, watcher, mod]
        try:
            joined = await troll.join("anxiety")
            room = joined["room"]
            await sam.join(room)
            await watcher.join(room)
            nasty = await troll.say(room, "nasty words")
            await _report(watcher, room, nasty["id"])
            await asyncio.sleep(0.3)
            sigkill(a)
            done = await sam.request({"type": "remove", "room": room, "handle": joined["handle"]})
            assert done["type"] == "done", done
            await _suspend(mod, joined["handle"])
            back_peer, back = await resume(b.url, troll.token, {room: joined["seq"]})
            peers.append(back_peer)
            assert back["type"] == "resumed", back
            assert room not in back["rooms"], back
            ended = await back_peer.expect("chat_ended", room=room, timeout=3)
            assert ended["reason"] == "removed", ended
            await back_peer.expect("notice", code="suspended", timeout=3)
            again = await back_peer.request({"type": "join", "room": "anxiety"})
            assert again["type"] == "error" and again["code"] == "cooldown", again
            await back_peer.join("grief")
            refused = await back_peer.say("grief", "back again")
            assert refused["type"] == "error" and refused["code"] == "suspended", refused
            await watcher.nothing("message", within=0.5, text="back again")
        finally:
            await close_all(*peers)
