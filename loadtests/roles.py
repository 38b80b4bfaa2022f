"""What each role does, as one coroutine per person, bounded by the run's deadlines.

- ``group``: join a topic room, then talk: a fixed rate (``rate``, open loop, latency from
  the scheduled time) or closed loop (send, wait for the ack, think, repeat).
- ``idle``: join a room (or only ping) and hold the socket: connection capacity.
- ``seeker``: ask for support, wait to be paired (pairing wait), chat, end the chat, pause,
  ask again.
- ``listener``: sign in with a listener token, offer ``capacity`` chats, answer every
  message of its seekers after a think time.

A person whose socket the server closes comes back as a new person (counted), while there
is time; ``session_seconds`` makes them leave and come back on purpose (churn).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from loadtests.person import REPLY_TIMEOUT, Person, now_us

RETRY_PAUSE = 1.0
MAX_RETRY_PAUSE = 16.0


def listener_token(secret: str, lid: str, name: str, topics: list[str], ttl: int = 86400) -> str:
    """A listener token in the format of SPEC.md (``auth``)."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = {"lid": lid, "name": name, "topics": topics, "exp": int(time.time()) + ttl,
              "role": "listener"}
    head = "v1." + b64(orjson.dumps(claims))
    sig = hmac.new(secret.encode(), head.encode(), hashlib.sha256).digest()
    return head + "." + b64(sig)


def _loop_time() -> float:
    return asyncio.get_running_loop().time()


async def _sleep_until(t: float) -> None:
    delay = t - _loop_time()
    if delay > 0:
        await asyncio.sleep(delay)


async def run_person(person: Person, offset: float) -> None:
    """Connect at ``start + offset``; play the role in sessions until the run ends."""
    ctx = person.ctx
    role = ROLES[person.pop.role]
    await _sleep_until(ctx.start + offset)
    rooms: dict[str, tuple[int, int]] = {}
    unechoed = 0
    pause = RETRY_PAUSE
    while _loop_time() < ctx.send_until:
        if not await person.connect():
            # back off, as a real client does, so failures do not snowball into a storm
            await asyncio.sleep(pause * (0.5 + ctx.rng.random()))
            pause = min(pause * 2, MAX_RETRY_PAUSE)
            continue
        pause = RETRY_PAUSE
        session_end = ctx.end
        if person.pop.session_seconds > 0:
            session_end = min(ctx.end, _loop_time() + person.pop.session_seconds)
        try:
            await role(person, session_end)
        except Exception:  # a bug in a role must not end the run: count it
            ctx.stats.errors["harness:role_failed"] += 1
        if person.lost_connection() or person.conn is None:
            continue
        if _loop_time() >= ctx.end - 0.05 or session_end >= ctx.end:
            rooms, unechoed = person.final_state()
            break
        ctx.stats.counts["churned"] += 1
        await person.close()
    ctx.stats.counts["lost_id"] += unechoed
    for room, (seq, acked) in rooms.items():
        ctx.final_rooms.setdefault(room, []).append(seq)
        ctx.room_max[room] = max(ctx.room_max.get(room, 0), acked)
    await person.close()


# ---------------------------------------------------------------------- roles


def _room_to_join(person: Person) -> str:
    """The topic to join; with ``explicit_rooms`` and on the bare relay (no capacity of
    its own), the id of the room a node would fill (``topic``, ``topic-2``, ... of
    ``Scenario.room_capacity`` each), so rooms have the same size everywhere."""
    topics = person.pop.topics
    topic = topics[person.index % len(topics)]
    if not (person.ctx.bare or person.pop.explicit_rooms):
        return topic
    n = person.index // len(topics) // person.ctx.scenario.room_capacity + 1
    return topic if n == 1 else f"{topic}-{n}"


async def group(person: Person, session_end: float) -> None:
    pop = person.pop
    room = await person.join(_room_to_join(person))
    if room is None:
        return
    ctx = person.ctx
    talk_until = min(ctx.send_until, session_end)
    if pop.rate > 0:
        await _fixed_rate(person, room, talk_until)
    else:
        while _loop_time() < talk_until and person.conn is not None and person.conn.is_open:
            await person.say_and_wait(room)
            await asyncio.sleep(ctx.rng.uniform(*pop.think))
    await person.idle_until(session_end)


async def _fixed_rate(person: Person, room: str, until: float) -> None:
    """Open loop on a schedule: each message carries its scheduled time, so a stall on
    either side shows up as latency (coordinated-omission correction)."""
    interval = 1.0 / person.pop.rate
    loop_now = _loop_time()
    next_t = loop_now + person.ctx.rng.uniform(0, interval)
    offset_us = now_us() - int(loop_now * 1e6)
    while next_t < until:
        await _sleep_until(next_t)
        if person.conn is None or not person.conn.is_open:
            return
        person.say(room, int(next_t * 1e6) + offset_us)
        next_t += interval


async def idle(person: Person, session_end: float) -> None:
    pop = person.pop
    if pop.join and await person.join(_room_to_join(person)) is None:
        return
    if pop.join:
        await person.idle_until(session_end)
        return
    while _loop_time() < session_end and person.conn is not None and person.conn.is_open:
        person.send({"type": "ping", "ref": person.ref()})
        await person.idle_until(min(session_end, _loop_time() + 60))


async def _next(person: Person, kinds: set[str], until: float) -> dict[str, Any] | None:
    """The next inbox frame of one of ``kinds`` before ``until`` (loop time), else None."""
    inbox = person.inbox
    assert inbox is not None
    while True:
        remaining = until - _loop_time()
        if remaining <= 0 or person.conn is None or person.conn.closed.done():
            return None
        try:
            async with asyncio.timeout(min(remaining, 1.0)):
                frame = await inbox.get()
        except TimeoutError:
            continue
        if frame.get("type") in kinds:
            return frame


async def seeker(person: Person, session_end: float) -> None:
    pop, ctx = person.pop, person.ctx
    person.inbox = asyncio.Queue()
    topic = pop.topics[person.index % len(pop.topics)]
    while _loop_time() < min(ctx.send_until, session_end):
        asked = now_us()
        reply = await person.request({"type": "request_support", "topic": topic})
        if reply.get("type") != "queue_position":
            await asyncio.sleep(RETRY_PAUSE)
            continue
        paired = await _next(person, {"paired"}, ctx.send_until)
        if paired is None:
            person.send({"type": "cancel_support", "ref": person.ref()})
            break
        ctx.stats.record("pairing", now_us() - asked)
        ctx.stats.counts["paired"] += 1
        room = str(paired.get("room"))
        await _chat(person, room, pop.chat_messages, min(ctx.send_until, session_end))
        if person.conn is not None and room in person.last_seq:
            reply = await person.request({"type": "end_chat", "room": room})
            ctx.stats.counts["chats_ended"] += 1
            person.last_seq.pop(room, None)
        await asyncio.sleep(ctx.rng.uniform(*pop.between_chats))
    await person.idle_until(session_end)


async def _chat(person: Person, room: str, messages: int, until: float) -> None:
    """Seeker side: say, wait for the listener's answer (or think), ``messages`` times."""
    pop, ctx = person.pop, person.ctx
    for _ in range(messages):
        if _loop_time() >= until:
            return
        await person.say_and_wait(room)
        frame = await _next(
            person, {"message", "chat_ended"}, min(until, _loop_time() + REPLY_TIMEOUT)
        )
        if frame is None or frame.get("type") == "chat_ended":
            person.last_seq.pop(room, None)
            return
        await asyncio.sleep(ctx.rng.uniform(*pop.think))


async def listener(person: Person, session_end: float) -> None:
    pop, ctx = person.pop, person.ctx
    person.inbox = asyncio.Queue()
    topics = list(pop.topics)
    token = listener_token(ctx.listener_secret, f"lt-{person.gid}", f"Listener {person.gid}",
                           topics)
    reply = await person.request({"type": "auth", "token": token})
    if reply.get("type") != "authed":
        return
    reply = await person.request(
        {"type": "listen", "capacity": pop.capacity, "topics": topics, "auto": True}
    )
    if reply.get("type") != "listening":
        return
    chats: dict[str, asyncio.Task[None]] = {}
    try:
        async with asyncio.TaskGroup() as tg:
            while True:
                frame = await _next(
                    person, {"message", "chat_ended", "paired"}, min(ctx.end, session_end)
                )
                if frame is None:
                    break
                kind, room = frame.get("type"), str(frame.get("room"))
                if kind == "message" and _loop_time() < ctx.send_until and room not in chats:
                    chats[room] = tg.create_task(_answer(person, room, chats))
                elif kind == "chat_ended":
                    person.last_seq.pop(room, None)
            for task in chats.values():
                task.cancel()
    finally:
        with contextlib.suppress(Exception):
            await person.idle_until(session_end)


async def _answer(person: Person, room: str, chats: dict[str, asyncio.Task[None]]) -> None:
    """Listener side: one answer per seeker message, after a think time."""
    try:
        await asyncio.sleep(person.ctx.rng.uniform(*person.pop.think))
        if room in person.last_seq:
            await person.say_and_wait(room)
    finally:
        chats.pop(room, None)


ROLES: dict[str, Callable[[Person, float], Awaitable[None]]] = {
    "group": group,
    "idle": idle,
    "seeker": seeker,
    "listener": listener,
}
