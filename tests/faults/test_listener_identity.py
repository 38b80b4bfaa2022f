"""Issue 15, case 5: listener identity. Revocation reaches live sessions within seconds;
one live console per listener id; the default token lifetime fits a shift and is a
setting (``--listener-token-ttl``, default 8 hours: see /work/notes/faults-design.md)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chatserver.tokens import verify
from tests.faults.kit import SECRET, Peer, close_all, listener, nodes, paired, resume, token
from tests.helpers.procs import ROOT, RedisProcess, ServerProcess

#: How soon a revocation must reach a live session.
REVOKE_WITHIN = 5.0
SHIFT = 8 * 3600


@contextlib.contextmanager
def two_nodes(backend: str, redis: RedisProcess, *extra: str
              ) -> Iterator[tuple[ServerProcess, ServerProcess]]:  # fmt: skip
    if backend == "redis":
        with nodes(2, *extra, redis=redis) as (a, b):
            yield a, b
    else:
        with nodes(1, *extra) as (a,):
            yield a, a


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_revocation_reaches_a_live_listener_and_the_seeker_is_requeued(
    backend: str, redis: RedisProcess, tmp_path: Path
) -> None:
    revoked = tmp_path / "revoked.txt"
    revoked.write_text("# revoked listener ids\n")
    with two_nodes(backend, redis, "--revoked-listeners-file", str(revoked)) as (a, b):
        sam = await listener(a.url, lid="l-bad")
        seeker = await Peer.open(b.url)
        peers = [sam, seeker]
        try:
            await seeker.request_support("grief")
            room = await paired(seeker, sam)
            revoked.write_text("l-bad\n")
            ended = await seeker.expect("chat_ended", room=room, timeout=REVOKE_WITHIN)
            assert ended["reason"] == "listener_left", ended
            assert (await seeker.expect("queue_position", timeout=3))["position"] == 1
            await sam.expect("chat_ended", room=room, timeout=3)
            refused = await sam.request({"type": "listen", "capacity": 1})
            assert refused["type"] == "error" and refused["code"] == "forbidden", refused
            said = await sam.say(room, "are you still there?")
            assert said["type"] == "error", said
        finally:
            await close_all(*peers)


async def test_a_revoked_listener_who_resumes_comes_back_without_role_or_chat(
    redis: RedisProcess, tmp_path: Path
) -> None:
    revoked = tmp_path / "revoked.txt"
    revoked.write_text("")
    with nodes(2, "--revoked-listeners-file", str(revoked), redis=redis) as (a, b):
        sam = await listener(a.url, lid="l-bad")
        seeker = await Peer.open(b.url)
        peers = [sam, seeker]
        try:
            await seeker.request_support("grief")
            room = await paired(seeker, sam)
            sam.drop()
            revoked.write_text("l-bad\n")
            await asyncio.sleep(0.5)
            back_peer, back = await resume(b.url, sam.token, {room: 0})
            peers.append(back_peer)
            if back["type"] == "resumed":
                assert back["role"] == "seeker" and room not in back["rooms"], back
            else:
                assert back["code"] == "resume_failed", back
            ended = await seeker.expect("chat_ended", room=room, timeout=REVOKE_WITHIN)
            assert ended["reason"] == "listener_left", ended
        finally:
            await close_all(*peers)


@pytest.mark.parametrize("backend", ["memory", "redis"])
async def test_one_live_console_per_listener_id(backend: str, redis: RedisProcess) -> None:
    """Signing in again (a new token for the same listener id, on any node) takes over:
    the old console is closed with 1000 within a second, as for resume."""
    with two_nodes(backend, redis) as (a, b):
        old = await listener(a.url, lid="l-7", name="Ana")
        new = await Peer.open(b.url)
        peers = [old, new]
        try:
            await new.auth(token("l-7", "Ana"))
            started = time.monotonic()
            code = await old.wait_closed(timeout=3)
            assert code == 1000
            assert old.closed_at is not None and old.closed_at - started < 1.0
            listening = await new.listen(1)
            assert listening["active"] == 0
        finally:
            await close_all(*peers)


def _cli_token(*argv: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "chatserver", "listener-token", "--id", "l-1", "--name", "Sam",
         "--topics", "grief", "--secret", SECRET, *argv],
        cwd=ROOT, capture_output=True, text=True, timeout=30, check=True, env=env,
    )  # fmt: skip
    return out.stdout.strip()


async def test_the_default_token_lifetime_fits_a_shift_and_is_a_setting() -> None:
    claims = verify(await asyncio.to_thread(_cli_token), SECRET)
    assert claims.exp - time.time() <= SHIFT + 60
    helptext = (
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "chatserver", "--help"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    ).stdout
    assert "--listener-token-ttl" in helptext
    long_lived = token("l-1", "Sam", ttl=12 * 3600)
    with nodes(1) as (node,):
        peer = await Peer.open(node.url)
        try:
            refused = await peer.request({"type": "auth", "token": long_lived})
            assert refused["type"] == "error" and refused["code"] == "auth_failed", refused
        finally:
            await peer.close()
    with nodes(1, "--listener-token-ttl", str(12 * 3600 + 60)) as (node,):
        peer = await Peer.open(node.url)
        try:
            assert (await peer.auth(long_lived))["role"] == "listener"
        finally:
            await peer.close()
