"""The relay's receiving half: subscriptions, delivery in sequence order, history.

One channel per room, subscribed once per node while the node has local members (the hub
reference-counts). One subscriber connection per shard carries all of this node's rooms;
its reader decodes a fixed header and calls ``deliver`` synchronously. Each node tracks
the last sequence it delivered per room, drops duplicates and fills gaps from the history.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from chatserver.broker import lua
from chatserver.broker.base import Entry
from chatserver.broker.redis_core import RedisCore, flag_map, is_fault
from chatserver.broker.redis_wire import Subscriber

SEQ = lua.SEQ_DIGITS
TS_SEQ = lua.TS_DIGITS + lua.SEQ_DIGITS


class RedisSubscribe(RedisCore):
    """Subscribing and ordered delivery (see the module docstring)."""

    def _init_subscribe(self) -> None:
        self._rooms: dict[bytes, str] = {}  # channel -> room, for every local room
        self._subscribers: dict[str, Subscriber] = {}
        self._connecting = asyncio.Lock()
        self._last: dict[str, int] = {}  # room -> last sequence delivered
        self._fresh_flags: dict[str, dict[str, int]] = {}  # read by subscribe(), once
        self._recovering: dict[str, list[tuple[int, bytes]]] = {}

    def _rooms_subscribed(self) -> Sequence[str]:
        return list(self._rooms.values())

    async def subscribe(self, room: str) -> None:
        """Subscribe and wait for Redis to confirm, then take the room's current sequence
        as the baseline: this node had no member there, so nothing before it is owed."""
        self._check("subscribe")
        channel = self._channel(room)
        self._rooms[channel] = room
        self._last.pop(room, None)
        try:
            async with asyncio.timeout(self._deadline):
                await self._subscribe_channels([(channel, room)])
        except BaseException as exc:
            self._rooms.pop(channel, None)
            if isinstance(exc, Exception) and is_fault(exc):
                self._broke(exc)
                raise self._unavailable("subscribe") from exc
            raise
        try:
            keys = [self._key(room, "seq"), self._key(room, "flags")]
            view = await self._op("subscribe", lambda: self._eval(lua.ROOM_VIEW, keys, []))
        except BaseException:
            # subscribed, but without a baseline: leave the channel again (the broker
            # may still be up: a slow call fails alone)
            with contextlib.suppress(Exception):
                await self.unsubscribe(room)
            self._rooms.pop(channel, None)
            raise
        base = int(view[0])
        self._last[room] = max(self._last.get(room, 0), base)
        # read after the subscription was confirmed: the hub asks for them next
        self._fresh_flags[room] = flag_map(view[1:])

    async def unsubscribe(self, room: str) -> None:
        channel = self._channel(room)
        if self._rooms.pop(channel, None) is None:
            return
        self._last.pop(room, None)
        self._recovering.pop(room, None)
        self._fresh_flags.pop(room, None)
        self._forget_room(room)
        sub = self._subscribers.get(self._raw(self._key(room, "seq"))[0])
        if sub is None or not self._healthy:
            return
        sub.leaving[channel] = sub.leaving.get(channel, 0) + 1
        try:
            async with asyncio.timeout(self._deadline):
                await sub.conn.send_command(sub.unsub, channel, check_health=False)
        except Exception as exc:
            if not is_fault(exc):
                raise
            self._broke(exc)  # resubscribing after the fault leaves this room out

    async def flags(self, room: str) -> Mapping[str, int]:
        fresh = self._fresh_flags.pop(room, None)
        if fresh is not None:  # read by subscribe() a moment ago, in its round trip
            return fresh
        keys = [self._key(room, "seq"), self._key(room, "flags")]
        raw: list[bytes] = await self._op("flags", lambda: self._eval(lua.ROOM_VIEW, keys, []))
        return flag_map(raw[1:])

    async def _subscriber(self, key: str) -> Subscriber:
        """The shard's subscriber, connected. One connects at a time: a subscriber listed
        while still connecting let a second subscribe write on the half-open connection
        (two coroutines in its handshake; Redis closed it, the broker broke: a join storm
        on a cluster, whose subscribers connect on first use)."""
        name, factory = self._raw(key)
        sub = self._subscribers.get(name)
        if sub is not None:
            return sub
        async with self._connecting:
            sub = self._subscribers.get(name)
            if sub is None:
                conn = factory()
                try:
                    await conn.connect()  # type: ignore[no-untyped-call]
                except BaseException:
                    with contextlib.suppress(Exception):
                        await conn.disconnect()
                    raise
                sub = Subscriber(conn, self._cluster)
                self._subscribers[name] = sub
                sub.task = self._tasks.spawn("subscriber", self._read(sub))
        return sub

    async def _subscribe_channels(self, channels: Sequence[tuple[bytes, str]]) -> None:
        """Subscribe many rooms in one write per shard (a reconnect resubscribes them all)
        and wait until Redis confirmed each one. Callers bound the wait."""
        loop = asyncio.get_running_loop()
        writes: dict[Subscriber, list[list[Any]]] = {}
        waiters: list[asyncio.Future[None]] = []
        for channel, room in channels:
            sub = await self._subscriber(self._key(room, "seq"))
            waiter: asyncio.Future[None] = loop.create_future()
            sub.waiters.setdefault(channel, deque()).append(waiter)
            waiters.append(waiter)
            writes.setdefault(sub, []).append([sub.sub, channel])
        for sub, commands in writes.items():
            await sub.conn.send_packed_command(sub.conn.pack_commands(commands), check_health=False)
        if waiters:
            await asyncio.gather(*waiters)

    async def _read(self, sub: Subscriber) -> None:
        """The subscriber's reader: the other hot path. Decode the fixed header, deliver.
        It waits for ever by design (an idle room is silent); the presence heartbeat and
        the publisher's deadlines notice a dead connection."""
        read = sub.conn.read_response
        rooms = self._rooms
        receive = self._receive
        clock = time.monotonic
        try:
            while True:
                reply = await read(timeout=math.inf)
                self._answered = clock()
                kind = reply[0]
                if kind == b"message" or kind == b"smessage":
                    room = rooms.get(reply[1])
                    if room is not None:
                        data = reply[2]
                        receive(room, int(data[:SEQ]), data[SEQ:])
                elif kind == b"subscribe" or kind == b"ssubscribe":
                    waiters = sub.waiters.get(reply[1])
                    if waiters:
                        waiter = waiters.popleft()
                        if not waiter.done():
                            waiter.set_result(None)
                elif kind == b"unsubscribe" or kind == b"sunsubscribe":
                    _left(sub, reply[1], rooms)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            for waiters in sub.waiters.values():
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_exception(exc)
            self._broke(exc)

    def _receive(self, room: str, seq: int, payload: bytes) -> None:
        """Deliver in sequence order, never twice; a gap is filled from the history."""
        if seq:
            parked = self._recovering.get(room)
            if parked is not None:
                parked.append((seq, payload))
                return
            last = self._last.get(room, 0)
            if seq <= last:
                return
            if last and seq != last + 1:
                self._recovering[room] = [(seq, payload)]
                self._tasks.spawn("fill", self._fill_later(room))
                return
            self._last[room] = seq
        self._delivered += 1
        assert self._deliver is not None
        self._deliver(room, seq, payload)

    async def _fill_later(self, room: str) -> None:
        try:
            await self._fill(room)
        except Exception as exc:
            if not is_fault(exc):
                raise
            self._broke(exc)  # the reconnect fills it again

    async def _fill(self, room: str) -> None:
        """Deliver what ``room`` missed from its history, then what was parked meanwhile."""
        if room not in self._recovering:
            return
        last = self._last.get(room, 0)
        entries = await self.history(room, last)
        parked = self._recovering.pop(room, [])
        if self._channel(room) not in self._rooms:
            return
        deliver = self._deliver
        assert deliver is not None
        for seq, payload in [(e.seq, e.payload) for e in entries] + sorted(parked):
            if seq > last:
                last = self._last[room] = seq
                self._delivered += 1
                deliver(room, seq, payload)

    async def history(self, room: str, after: int) -> list[Entry]:
        client = self._client
        assert client is not None
        raw: list[bytes] = await self._op(
            "history", lambda: client.execute_command("LRANGE", self._key(room, "hist"), 0, -1)
        )
        horizon = int(self._clock() * 1000) - self._history_ms
        out = []
        for item in raw:
            seq = int(item[lua.TS_DIGITS : TS_SEQ])
            if seq > after and int(item[: lua.TS_DIGITS]) >= horizon:
                out.append(Entry(seq, item[TS_SEQ:]))
        return out

    async def last_seq(self, room: str) -> int:
        client = self._client
        assert client is not None
        value = await self._op(
            "last_seq", lambda: client.execute_command("GET", self._key(room, "seq"))
        )
        return int(value or 0)

    async def _restore_sequences(self) -> None:
        """After Redis lost its data: no room's sequence goes backwards. Called by the
        reconnector and the heartbeat, whose deadlines bound it."""
        for room, last in list(self._last.items()):
            await self._eval(lua.RESTORE_SEQ, [self._key(room, "seq")], [last, self._seq_ms])


def _left(sub: Subscriber, channel: bytes, rooms: Mapping[bytes, str]) -> None:
    """An unsubscribe confirmed: ours, or the server dropped us (the slot moved)."""
    pending = sub.leaving.get(channel, 0)
    if pending > 1:
        sub.leaving[channel] = pending - 1
    elif pending == 1:
        del sub.leaving[channel]
    elif channel in rooms:
        raise ConnectionResetError("shard channel unsubscribed by the server")
