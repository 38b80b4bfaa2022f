"""Room state and presence on Redis: seats (claim, reclaim, release), members, flags, and
the node heartbeat with its sweep of dead nodes.

The member value and the owner are the caller's, stored and compared as opaque bytes and
strings; the broker's own seat record beside each member (:mod:`.lua`) says which node
holds the seat, who owns it and which flags leave with it. So eviction and release need
nothing from the caller's encoding.

Presence across nodes: each node refreshes ``node:{id}`` with a TTL and lists the rooms it
has members in; survivors find a node whose key expired. They do not evict its members at
once: the people of a dead node reconnect to another node and resume there within the
resume grace, so the first survivor to notice records a deadline (``node:{id}:dead`` =
now + ``hold``) and marks the dead node's seats held (not counted against capacity,
taken back by a reclaim). Once the deadline passes, a survivor evicts what is still the
dead node's with an atomic script, so each eviction (and its ``leave`` event) happens
exactly once.

Leases: every key written here has a TTL. The living refresh what they hold on each
heartbeat (their node's keys, the node list, and the state of every room they have
members in, whose old history is trimmed at the same time), so after every node is gone
nothing stays beyond ``max(lease, history_seconds)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import msgpack

from chatserver.broker import lua
from chatserver.broker.base import BrokerError, BrokerUnavailable, Claim
from chatserver.broker.redis_core import RedisCore, is_fault, log

CLAIMS = (Claim.OK, Claim.TAKEN, Claim.FULL, Claim.GONE)


class RedisRooms(RedisCore):
    """Seats, members, flags and presence (see the module docstring)."""

    def _init_rooms(self) -> None:
        # seats this node holds, to put back after Redis lost them: room -> handle ->
        # (member, seat record)
        self._claims: dict[str, dict[str, tuple[bytes, bytes]]] = {}
        self._unreleased: set[tuple[str, str]] = set()

    def _seat_record(self, owner: str, flags: Sequence[str]) -> bytes:
        record: bytes = msgpack.packb([self.node_id, owner, list(flags)])
        return record

    async def claim(
        self,
        room: str,
        handle: str,
        member: bytes,
        *,
        capacity: int = 0,
        owner: str = "",
        flags: Sequence[str] = (),
    ) -> Claim:
        seat = self._seat_record(owner, flags)
        return await self._seat("claim", lua.CLAIM, room, handle, member, capacity, seat)

    async def hold(self, room: str, handle: str) -> None:
        keys = [self._key(room, "members"), self._key(room, "seats")]
        await self._op("hold", lambda: self._eval(lua.HOLD, keys, [self.node_id, handle]))

    async def reclaim(
        self, room: str, handle: str, member: bytes, owner: str, *, flags: Sequence[str] = ()
    ) -> Claim:
        seat = self._seat_record(owner, flags)
        return await self._seat("reclaim", lua.RECLAIM, room, handle, member, owner, seat)

    async def _seat(
        self,
        what: str,
        script: lua.Script,
        room: str,
        handle: str,
        member: bytes,
        extra: Any,
        seat: bytes,
    ) -> Claim:
        """Run a seat script (claim or reclaim) and remember a won seat for re-assertion."""
        client = self._client
        assert client is not None
        keys = [self._key(room, "members"), self._key(room, "seats")]

        async def call() -> Any:
            # the room is listed first, so the list is a superset of where our members are
            listed = self._node_key(self.node_id, "rooms")
            if await client.execute_command("SADD", listed, room):
                await client.execute_command("PEXPIRE", listed, self._lease_ms)
            return await self._eval(script, keys, [handle, member, extra, seat, self._lease_ms])

        outcome = CLAIMS[int(await self._op(what, call))]
        if outcome is Claim.OK:
            self._claims.setdefault(room, {})[handle] = (member, seat)
        return outcome

    async def release(self, room: str, handle: str) -> bool:
        claims = self._claims.get(room)
        if claims is not None:
            claims.pop(handle, None)
            if not claims:
                del self._claims[room]
        try:
            closed = await self._op(
                "release", lambda: self._eval(lua.RELEASE, self._room_keys(room), [handle])
            )
        except BrokerUnavailable:
            self._unreleased.add((room, handle))  # done after reconnecting
            raise
        return bool(closed)

    async def members(self, room: str) -> Mapping[str, bytes]:
        client = self._client
        assert client is not None
        raw: dict[bytes, bytes] | list[bytes] = await self._op(
            "members", lambda: client.execute_command("HGETALL", self._key(room, "members"))
        )
        if isinstance(raw, dict):
            return {k.decode(): v for k, v in raw.items()}
        return {raw[i].decode(): raw[i + 1] for i in range(0, len(raw), 2)}

    async def set_flag(self, room: str, name: str, value: int) -> bool:
        keys = [self._key(room, "members"), self._key(room, "flags")]
        args = [name, value, self._lease_ms]
        done = await self._op("set_flag", lambda: self._eval(lua.SET_FLAG, keys, args))
        return bool(done)

    # ------------------------------------------------------------------ presence

    async def _presence(self) -> None:
        """Heartbeat this node's key and evict the members of nodes whose key expired.

        The key lives ``ttl / 2`` and is refreshed every ``ttl / 4``; sweeps run as often,
        so a dead node's members go within ``0.75 * ttl`` plus one sweep's work."""
        period = self._ttl / 4
        while not self._closing:
            await asyncio.sleep(period)
            if not self._healthy:
                continue
            try:
                async with asyncio.timeout(max(self._deadline, period)):
                    await self._heartbeat(repair=False)
                    await self._sweep()
            except Exception as exc:
                if not is_fault(exc):
                    raise
                self._fault(exc, "presence")
            else:
                self._tasks.ran_well("presence")

    async def _heartbeat(self, *, repair: bool) -> None:
        """Refresh ``node:{id}`` and the lease of everything this node holds. When the
        key had expired (or Redis lost it), put back what this node knows. Callers bound
        the wait."""
        client = self._client
        assert client is not None
        key = self._node_key(self.node_id)
        ms = max(int(self._ttl * 500), 100)
        previous = await client.execute_command("SET", key, b"1", "PX", ms, "GET")
        nodes = f"{self._prefix}:nodes"
        await client.execute_command("SADD", nodes, self.node_id)
        for kept in (nodes, self._node_key(self.node_id, "rooms")):
            await client.execute_command("PEXPIRE", kept, self._lease_ms)
        if previous is None or repair:
            # alive again (or Redis restarted): no survivor may evict us on an old deadline
            await client.execute_command("DEL", self._node_key(self.node_id, "dead"))
            await self._restore()
        await self._keep_rooms()

    async def _keep_rooms(self) -> None:
        """Refresh the lease of every room this node has members in, and trim the
        history older than ``history_seconds`` (a silent room's texts go on the clock)."""
        horizon = int(self._clock() * 1000) - self._history_ms
        args = [self._lease_ms, self._seq_ms, horizon]
        for room in list(self._claims):
            await self._eval(lua.KEEP_ROOM, self._room_keys(room), args)

    async def _reseat(self) -> None:
        """Put back this node's seats, and finish releases that failed while down."""
        client = self._client
        assert client is not None
        for room, seats in list(self._claims.items()):
            args = [x for handle, (member, seat) in seats.items() for x in (handle, member, seat)]
            if not args:
                continue
            await client.execute_command("SADD", self._node_key(self.node_id, "rooms"), room)
            keys = [self._key(room, "members"), self._key(room, "seats")]
            await self._eval(lua.RESEAT, keys, [self._lease_ms, *args])
        listed = self._node_key(self.node_id, "rooms")
        await client.execute_command("PEXPIRE", listed, self._lease_ms)
        for room, handle in list(self._unreleased):
            await self._eval(lua.RELEASE, self._room_keys(room), [handle])
            self._unreleased.discard((room, handle))

    async def _sweep(self) -> None:
        client = self._client
        assert client is not None
        nodes_key = f"{self._prefix}:nodes"
        for raw in await client.execute_command("SMEMBERS", nodes_key):
            node = raw.decode()
            if node == self.node_id:
                continue
            if await client.execute_command("EXISTS", self._node_key(node)):
                continue
            if await self._holding(node):
                continue
            await self._evict_node(node)
            await client.execute_command("DEL", self._node_key(node, "rooms"))
            await client.execute_command("SREM", nodes_key, node)
            await client.execute_command("DEL", self._node_key(node, "dead"))

    async def _holding(self, node: str) -> bool:
        """Whether the seats of dead ``node`` are still held for its people to resume
        elsewhere. The first survivor to notice the death records the deadline and marks
        the seats held; every survivor reads the same deadline."""
        if self._hold_ms <= 0:
            return False
        client = self._client
        assert client is not None
        now = int(self._clock() * 1000)
        dead = self._node_key(node, "dead")
        deadline = now + self._hold_ms
        if await client.execute_command("SET", dead, deadline, "NX", "PX", self._lease_ms):
            rooms = await client.execute_command("SMEMBERS", self._node_key(node, "rooms"))
            for raw in rooms:
                keys = [self._key(raw.decode(), "members"), self._key(raw.decode(), "seats")]
                await self._eval(lua.HOLD, keys, [node, ""])
            log.info("node_lost", node=node, rooms=len(rooms), hold_ms=self._hold_ms)
        recorded = await client.execute_command("GET", dead)
        return recorded is not None and now < int(recorded)

    async def _evict_node(self, node: str) -> None:
        client = self._client
        assert client is not None
        rooms = await client.execute_command("SMEMBERS", self._node_key(node, "rooms"))
        for raw in rooms:
            room = raw.decode()
            out = await self._eval(lua.EVICT, self._room_keys(room), [node])
            closed, pairs = int(out[0]), out[1:]
            log.info("evicted", node=node, room=room, members=len(pairs) // 2, closed=bool(closed))
            if closed or self._on_evict is None:
                continue
            for i in range(0, len(pairs), 2):
                try:
                    await self._on_evict(room, pairs[i].decode(), pairs[i + 1])
                except BrokerError:
                    log.warning("evicted_leave_unrelayed", room=room)
