"""The broker encodes publishes itself (a cached head per room): byte for byte what
redis-py's own encoder writes for the same command."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio.connection import Connection

from chatserver.broker import lua
from chatserver.broker.redis import ZERO_HEADER, RedisBroker

ROOMS = st.text(min_size=1, max_size=40).filter(lambda r: "\x00" not in r)


def reference(*args: bytes | str | int) -> bytes:
    return b"".join(Connection().pack_command(*args))


@pytest.mark.parametrize("cluster", [False, True])
@pytest.mark.parametrize("eval_", [False, True])
@given(room=ROOMS, payload=st.binary(max_size=300))
def test_sequenced_publish_matches_redis_py(
    cluster: bool, eval_: bool, room: str, payload: bytes
) -> None:
    url = "redis+cluster://127.0.0.1:1" if cluster else "redis://127.0.0.1:1"
    broker = RedisBroker(
        url, "n", history_size=50, history_seconds=90, presence_ttl=15, hold=60,
        clock=lambda: 12.3456,
    )  # fmt: skip
    publish = "SPUBLISH" if cluster else "PUBLISH"
    seq_ttl = 120_000  # the lease (2 x hold) outlasts the history
    script = ("EVAL", lua.PUBLISH.source) if eval_ else ("EVALSHA", lua.PUBLISH.sha)
    expected = reference(
        *script, 2, f"cs:{{{room}}}:seq", f"cs:{{{room}}}:hist", f"cs:{{{room}}}",
        payload, 12345, 50, 90000, publish, seq_ttl,
    )  # fmt: skip
    for _ in range(2):  # the second one comes from the cache
        assert broker._command(room, payload, True, eval_=eval_) == expected


@given(room=ROOMS, payload=st.binary(max_size=300))
def test_unsequenced_publish_matches_redis_py(room: str, payload: bytes) -> None:
    broker = RedisBroker("redis://127.0.0.1:1", "n")
    expected = reference("PUBLISH", f"cs:{{{room}}}", ZERO_HEADER + payload)
    assert broker._command(room, payload, False, eval_=False) == expected
    assert broker._command(room, payload, False, eval_=False) == expected
