"""Pairing benchmark (issue 4, item 7): seekers and listeners arriving on two nodes.

    .venv/bin/python -m loadtests.bench_pairing [--seekers 2000] [--listeners 200]
        [--seconds 20] [--workers 2] [--hold 1,4] [--capacity 1,3] [--topics 4]
        [--drain 60] [--filters default|none] [--seed 1] [--embedded]
        [--languages en,es --language-mix 0.7,0.3 --bilingual 0.1 --any-after 5]

Starts its own redis-server and two chatserver nodes (Redis broker) on free loopback
ports (``--embedded``: one node, embedded broker, no Redis), then ``--workers`` client
processes. Seekers and listeners arrive at random (uniform) times over ``--seconds``;
seeker ``i`` connects to node ``i % 2``, listener ``j`` to node ``j % 2``. Each listener
signs in with a token (``chatserver.tokens.issue`` with the nodes' ``--listener-secret``),
covers topics ``j % K`` and ``(j + 1) % K`` of the first ``K = --topics`` catalogue topics,
and sends ``listen`` with a capacity drawn from ``--capacity`` and ``auto: true``. Each
seeker asks for support on a random one of those topics. Once paired, the listener says
hello on its ``joined`` and the seeker answers when it gets it (the seeker is seated
first, on its own node, and the listener after it: a message the seeker says before the
listener is in the room never reaches the listener); after the peer's message arrives the
side chosen by the room id (half the chats each) waits a hold time drawn from ``--hold``
(from the room id too) and sends ``end_chat``; the seeker closes its socket on
``chat_ended``, so seats free up and the queue drains. After the arrival window the run
goes on until every chat has ended and no seeker waits (at most ``--drain`` seconds).

Languages (issue 18; off unless ``--languages`` is given): each seeker writes in one of
``--languages``, drawn with the weights of ``--language-mix``, and says so in
``request_support``; each listener speaks all of them with probability ``--bilingual``,
else one, drawn with the same weights, in its token. These draws use their own random
stream, so arrivals, topics and capacities are the same as without languages. A seeker
told ``language_unavailable`` while listeners of other languages are on duty answers
``support_choice: any`` after ``--any-after`` seconds, as a person would; told that nobody
at all is on duty, it keeps waiting.

Clock: every time is ``time.monotonic()`` (CLOCK_MONOTONIC, shared by all processes of the
machine), taken by the client when it sends a frame or when the frame is decoded.

Measures (all from the clients' point of view):

* **pairing latency** of a chat = ``max(seeker's paired, listener's paired)`` minus
  ``max(seeker's request_support sent, seat free)``, where *seat free* is the moment the
  listener's seat that this chat took became free: a listener's seats become free when it
  sends ``listen`` (``capacity`` seats) and when the ``end_chat`` of one of its chats is
  sent (by either side); its chats, in the order the listener received ``paired``, take
  those free moments in order (the seat free the longest goes first, which is the
  conservative choice). So it is the time from "this seeker waits and this listener has a
  free seat" to "both sides know they are paired"; time spent waiting while no listener
  was free is not in it.
* **queue wait** = seeker's ``paired`` received minus its first ``request_support`` sent.
  (A request refused with ``unavailable`` is retried after ``retry_after``, as the SPEC
  says, up to 8 times; the pairing latency counts from the request that was taken.)
* **matches/s** = pairings / (last pairing - start of arrivals), and the busiest second.

Correctness (the run fails, exit 1, when any is violated): no seeker gets ``paired`` twice
and no room is given to two seekers or two listeners; no listener ever holds more chats
than its capacity (its count of ``paired`` minus ``chat_ended``, checked at every
``paired``, and no chat taking a seat before that seat was free); every pairing is seen by
both sides with the same peer; both messages arrive before ``chat_ended``; every seeker
ends either paired or still queued (``losses`` counts the others: failed connections,
refused requests, closed sockets, half-seen pairings, missing messages); with Redis, the
store agrees at the end (queued seekers, open pairs, busy seats). With languages: no
seeker is paired with a listener who does not speak their language unless they chose
"any"; ``paired.shared`` says truly whether the listener speaks it; no seeker is told
``language_unavailable`` while its own language is among those on duty.

Percentiles come from an HDR histogram (``hdrhistogram``, 3 significant digits) when it is
installed, else exact over the samples. The harness measures its own CPU (and the nodes'
and Redis's) and prints it: the client side must not be the bottleneck. Output: a summary
on stderr and the report as JSON on the last line of stdout. Every wait is bounded and
every process it starts is stopped at the end, also on failure (and killed with it when
this process dies: PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import json
import os
import random
import resource
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from chatserver.config import DEFAULT_TOPICS
from chatserver.tokens import Claims, issue
from loadtests.targets import RedisProcess
from loadtests.wsclient import ConnectFailed, LeanConnection, open_connection

try:  # pragma: no cover - a project dependency, but the harness also runs without it
    from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]
except ImportError:  # pragma: no cover
    HdrHistogram = None

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 30.0
CONNECT_TIMEOUT = 15.0
#: Extra seconds an ender waits for the peer's message before ending the chat anyway.
MESSAGE_GRACE = 10.0
#: ``unavailable`` refusals a client retries (after ``retry_after``) before giving up.
MAX_RETRIES = 8
SEEKER_TEXT = "Hi, thank you for being here tonight."
LISTENER_TEXT = "Hello, I'm here to listen. Take your time."

now = time.monotonic


# ====================================================================== processes


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Node:
    """``python -m chatserver`` on port 0; the port comes from its ``listening`` log line.
    Log lines are counted by event (and by level for warnings and errors)."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chatserver", *args],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_die_with_parent,
        )
        self.port = 0
        self.events: Counter[str] = Counter()
        self.problems: Counter[str] = Counter()
        self.tail: list[str] = []
        self.samples: list[str] = []  # the first few lines of each warning or error
        self._ready = threading.Event()
        assert self.proc.stderr is not None
        self._reader = threading.Thread(target=self._read, args=(self.proc.stderr,), daemon=True)
        self._reader.start()
        if not self._ready.wait(START_TIMEOUT):
            self.stop()
            raise RuntimeError("chatserver did not start:\n" + "".join(self.tail))

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.tail = [*self.tail[-19:], line]
            try:
                event = json.loads(line)
            except ValueError:
                self.problems["unparsed_line"] += 1
                continue
            name = str(event.get("event"))
            self.events[name] += 1
            if event.get("level") in ("warning", "error", "critical"):
                key = f"{event.get('level')}:{name}"
                self.problems[key] += 1
                if self.problems[key] <= 3:
                    self.samples.append(line.strip()[:2000])
            if name == "listening":
                self.port = int(event["port"])
                self._ready.set()

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._reader.join(5)


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A throwaway redis-server on a free loopback port, nothing saved to disk."""
    redis = RedisProcess(preexec_fn=_die_with_parent).start()
    try:
        assert redis.proc is not None
        yield redis.url, redis.proc
    finally:
        redis.cleanup()


@contextlib.contextmanager
def nodes(count: int, redis_url: str, secret: str, filters: str) -> Iterator[list[Node]]:
    started: list[Node] = []
    try:
        for index in range(count):
            args = [
                "--port", "0", "--node-id", f"pair{index}", "--log-format", "json",
                "--log-level", "info", "--listener-secret", secret,
                "--max-connections-per-address", "100000",
            ]  # fmt: skip
            if redis_url:
                args += ["--redis-url", redis_url]
            if filters == "none":
                args += ["--filters", ","]
            started.append(Node(args))
        yield started
    finally:
        for node in started:
            node.stop()


# ====================================================================== the schedule


def schedule(cfg: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every seeker and listener of the run (the same in every worker: seeded)."""
    rng = random.Random(cfg["seed"])
    topics: list[str] = cfg["topics"]
    n_nodes = len(cfg["urls"])
    seconds = float(cfg["seconds"])
    seeker_times = sorted(rng.uniform(0, seconds) for _ in range(cfg["seekers"]))
    listener_times = sorted(rng.uniform(0, seconds) for _ in range(cfg["listeners"]))
    seekers = [
        {"i": i, "node": i % n_nodes, "topic": rng.choice(topics), "due": t}
        for i, t in enumerate(seeker_times)
    ]
    lo, hi = cfg["capacity"]
    listeners = [
        {
            "i": j,
            "node": j % n_nodes,
            "capacity": rng.randint(lo, hi),
            "topics": sorted({topics[j % len(topics)], topics[(j + 1) % len(topics)]}),
            "due": t,
        }
        for j, t in enumerate(listener_times)
    ]
    languages(cfg, seekers, listeners)
    return seekers, listeners


def languages(
    cfg: dict[str, Any], seekers: list[dict[str, Any]], listeners: list[dict[str, Any]]
) -> None:
    """Each seeker's language and each listener's languages, from a random stream of their
    own (so the rest of the schedule does not change); nothing without ``--languages``."""
    langs: list[str] = cfg.get("languages") or []
    if not langs:
        return
    rng = random.Random(f"languages-{cfg['seed']}")
    mix = cfg["language_mix"]
    for seeker in seekers:
        seeker["lang"] = rng.choices(langs, weights=mix)[0]
    for listener in listeners:
        both = rng.random() < cfg["bilingual"]
        listener["langs"] = list(langs) if both else [rng.choices(langs, weights=mix)[0]]


def ender_of(room: str) -> str:
    """Which side ends the chat in ``room``: both sides read it from the room id."""
    return "seeker" if int(room[-2:], 16) % 2 == 0 else "listener"


def hold_of(room: str, lo: float, hi: float) -> float:
    return lo + (int(room[2:8], 16) / 0xFFFFFF) * (hi - lo)


# ====================================================================== worker side


class Client:
    """One socket (the lean client: websockets' sans-I/O protocol, a callback per frame)."""

    def __init__(self, worker: Worker, spec: dict[str, Any], url: str) -> None:
        self.worker = worker
        self.spec = spec
        self.url = url
        self.conn: LeanConnection | None = None
        self.welcomed = False
        self.started = False
        self.errors: list[str] = []
        self.closed_code: int | None = None
        self.closing = False  # we closed it on purpose
        self.failed: str | None = None
        self.retries = 0

    async def run(self) -> None:
        try:
            self.conn = await open_connection(
                self.url, "json", self._frame, timeout=CONNECT_TIMEOUT
            )
        except ConnectFailed as exc:
            self.failed = f"connect_{exc.code}"
            return
        except OSError as exc:  # pragma: no cover - open_connection maps most of these
            self.failed = f"connect_{type(exc).__name__}"
            return
        self.conn.closed.add_done_callback(self._closed)
        if self.welcomed:
            self._start()

    def _closed(self, fut: asyncio.Future[int]) -> None:
        self.closed_code = fut.result() if not fut.cancelled() else -1

    def _frame(self, frame: dict[str, Any]) -> None:
        kind = str(frame.get("type"))
        self.worker.frames[kind] += 1
        if kind == "welcome":
            self.welcomed = True
            if self.conn is not None:
                self._start()
        elif kind == "error":
            code, ref = str(frame.get("code")), str(frame.get("ref"))
            self.errors.append(f"{code}@{ref}")
            if code == "unavailable" and self.retries < MAX_RETRIES:
                # SPEC: nothing was done; send it again after retry_after
                self.retries += 1
                delay = float(frame.get("retry_after") or 1000) / 1000
                self.later(delay, lambda: self.on_retry(ref))
        else:
            self.on_frame(kind, frame, now())

    def _start(self) -> None:
        if not self.started:
            self.started = True
            self.on_open()

    def send(self, frame: dict[str, Any]) -> None:
        if self.conn is None or not self.conn.send(frame):
            self.errors.append(f"send_closed:{frame.get('type')}")

    def later(self, delay: float, fn: Callable[[], None]) -> None:
        self.worker.loop.call_later(delay, fn)

    async def close(self) -> None:
        self.closing = True
        if self.conn is not None:
            await self.conn.close(2.0)

    # hooks
    def on_open(self) -> None:
        raise NotImplementedError

    def on_frame(self, kind: str, frame: dict[str, Any], t: float) -> None:
        raise NotImplementedError

    def on_retry(self, ref: str) -> None:
        raise NotImplementedError


class Seeker(Client):
    def __init__(self, worker: Worker, spec: dict[str, Any], url: str) -> None:
        super().__init__(worker, spec, url)
        self.t_req: float | None = None  # the request_support that was taken
        self.t_req_first: float | None = None  # the first one (differs after refusals)
        self.first_position: int | None = None
        self.positions = 0
        self.paired: list[tuple[str, float, str]] = []  # room, t, peer handle
        self.room: str | None = None
        self.t_joined: float | None = None
        self.got_msg = False
        self.t_end_sent: float | None = None
        self.t_ended: float | None = None
        self.reason: str | None = None
        self.queue_left = False
        self.told = 0  # language_unavailable frames
        self.told_untrue = 0  # ... while its own language was among those on duty
        self.t_any: float | None = None  # support_choice "any" sent
        self.shared: bool | None = None  # paired.shared

    def on_open(self) -> None:
        self.t_req = now()
        if self.t_req_first is None:
            self.t_req_first = self.t_req
        frame = {"type": "request_support", "topic": self.spec["topic"], "ref": "r"}
        if self.spec.get("lang"):
            frame["language"] = self.spec["lang"]
        self.send(frame)

    def _told(self, frame: dict[str, Any]) -> None:
        """Nobody who speaks my language is on duty: after a while, any listener (if any
        other is there; with nobody at all on duty, keep waiting)."""
        self.told += 1
        available = list(frame.get("available") or [])
        if self.spec.get("lang") in available:
            self.told_untrue += 1
        if available and self.spec.get("lang") and self.t_any is None and not self.paired:
            self.t_any = -1.0  # decided
            self.later(self.worker.cfg.get("any_after", 5.0), self._any)

    def _any(self) -> None:
        if not self.paired and self.t_ended is None:
            self.t_any = now()
            self.send({"type": "support_choice", "choice": "any", "ref": "c"})

    def on_retry(self, ref: str) -> None:
        if ref == "r" and not self.paired and self.first_position is None:
            self.on_open()
        elif ref == "e" and self.room is not None and self.t_ended is None:
            self.t_end_sent = None
            self._end(self.room)

    def on_frame(self, kind: str, frame: dict[str, Any], t: float) -> None:
        if kind == "queue_position":
            self.positions += 1
            if self.first_position is None:
                self.first_position = int(frame["position"])
        elif kind == "paired":
            self.paired.append((frame["room"], t, frame["peer"]["handle"]))
            if self.room is None:
                self.room = frame["room"]
                self.shared = frame.get("shared")
        elif kind == "language_unavailable":
            self._told(frame)
        elif kind == "joined" and self.room is not None and frame.get("room") == self.room:
            if self.t_joined is not None:
                return
            self.t_joined = t
            room = self.room
            # no message yet: the listener is seated after the seeker (on its own node),
            # and a message said before that never reaches it; the seeker answers the
            # listener's greeting instead
            if ender_of(room) == "seeker":
                self.later(self.worker.hold(room) + MESSAGE_GRACE, lambda: self._end(room))
        elif kind == "message" and frame.get("room") == self.room:
            if frame.get("role") == "listener" and not self.got_msg and self.t_ended is None:
                self.got_msg = True
                room = frame["room"]
                self.send({"type": "say", "room": room, "text": SEEKER_TEXT})
                if ender_of(room) == "seeker":
                    self.later(self.worker.hold(room), lambda: self._end(room))
        elif kind == "chat_ended" and frame.get("room") == self.room:
            self.t_ended = t
            self.reason = str(frame.get("reason"))
            self.worker.loop.create_task(self.close())
        elif kind == "queue_left":
            self.queue_left = True

    def _end(self, room: str) -> None:
        if self.t_end_sent is None and self.t_ended is None:
            self.t_end_sent = now()
            self.send({"type": "end_chat", "room": room, "ref": "e"})

    @property
    def finished(self) -> bool:
        return (
            self.failed is not None
            or self.t_ended is not None
            or (self.closed_code is not None and not self.closing)
        )

    def record(self) -> dict[str, Any]:
        return {
            **self.spec,
            "t_req": self.t_req,
            "t_req_first": self.t_req_first,
            "first_position": self.first_position,
            "positions": self.positions,
            "paired": self.paired,
            "t_joined": self.t_joined,
            "got_msg": self.got_msg,
            "t_end_sent": self.t_end_sent,
            "t_ended": self.t_ended,
            "reason": self.reason,
            "queue_left": self.queue_left,
            "told": self.told,
            "told_untrue": self.told_untrue,
            "t_any": self.t_any if self.t_any and self.t_any > 0 else None,
            "shared": self.shared,
            "errors": self.errors,
            "failed": self.failed,
            "closed_early": self.closed_code is not None and not self.closing,
        }


class Chat:
    __slots__ = ("got_msg", "peer", "t_end_sent", "t_ended", "t_joined", "t_paired")

    def __init__(self, t_paired: float, peer: str) -> None:
        self.t_paired = t_paired
        self.peer = peer
        self.t_joined: float | None = None
        self.got_msg = False
        self.t_end_sent: float | None = None
        self.t_ended: float | None = None


class Listener(Client):
    def __init__(self, worker: Worker, spec: dict[str, Any], url: str, token: str) -> None:
        super().__init__(worker, spec, url)
        self.token = token
        self.name = f"L{spec['i']}"
        self.t_listen: float | None = None
        self.t_listening: float | None = None
        self.chats: dict[str, Chat] = {}
        self.active = 0
        self.max_active = 0
        self.over_capacity = 0

    def on_open(self) -> None:
        self.send({"type": "auth", "token": self.token, "ref": "a"})

    def on_retry(self, ref: str) -> None:
        if ref == "a":
            self.on_open()
        elif ref == "l" and self.t_listening is None:
            self._listen()
        elif ref.startswith("e:") and ref[2:] in self.chats:
            chat = self.chats[ref[2:]]
            if chat.t_ended is None:
                chat.t_end_sent = None
                self._end(ref[2:])

    def _listen(self) -> None:
        self.t_listen = now()
        self.send(
            {
                "type": "listen",
                "capacity": self.spec["capacity"],
                "topics": self.spec["topics"],
                "auto": True,
                "ref": "l",
            }
        )

    def on_frame(self, kind: str, frame: dict[str, Any], t: float) -> None:
        if kind == "authed":
            self._listen()
        elif kind == "listening":
            self.t_listening = t
        elif kind == "paired":
            room = frame["room"]
            if room in self.chats:
                self.errors.append("paired_twice_same_room")
            self.chats[room] = Chat(t, frame["peer"]["handle"])
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            if self.active > self.spec["capacity"]:
                self.over_capacity += 1
        elif kind == "joined" and frame.get("room") in self.chats:
            room = frame["room"]
            chat = self.chats[room]
            if chat.t_joined is None:
                chat.t_joined = t
                self.send({"type": "say", "room": room, "text": LISTENER_TEXT})
                if ender_of(room) == "listener":
                    self.later(self.worker.hold(room) + MESSAGE_GRACE, lambda: self._end(room))
        elif kind == "message" and frame.get("room") in self.chats:
            chat = self.chats[frame["room"]]
            if frame.get("role") == "seeker" and not chat.got_msg and chat.t_ended is None:
                chat.got_msg = True
                room = frame["room"]
                if ender_of(room) == "listener":
                    self.later(self.worker.hold(room), lambda: self._end(room))
        elif kind == "chat_ended" and frame.get("room") in self.chats:
            chat = self.chats[frame["room"]]
            if chat.t_ended is None:
                chat.t_ended = t
                self.active -= 1

    def _end(self, room: str) -> None:
        chat = self.chats[room]
        if chat.t_end_sent is None and chat.t_ended is None:
            chat.t_end_sent = now()
            self.send({"type": "end_chat", "room": room, "ref": f"e:{room}"})

    @property
    def idle(self) -> bool:
        return self.failed is not None or (self.t_listening is not None and self.active == 0)

    def record(self) -> dict[str, Any]:
        return {
            **self.spec,
            "name": self.name,
            "t_listen": self.t_listen,
            "t_listening": self.t_listening,
            "chats": {
                room: [c.t_paired, c.peer, c.t_joined, c.got_msg, c.t_end_sent, c.t_ended]
                for room, c in self.chats.items()
            },
            "max_active": self.max_active,
            "over_capacity": self.over_capacity,
            "errors": self.errors,
            "failed": self.failed,
            "closed_early": self.closed_code is not None and not self.closing,
        }


class Worker:
    def __init__(self, cfg: dict[str, Any]) -> None:
        self.cfg = cfg
        self.loop = asyncio.get_running_loop()
        self.frames: Counter[str] = Counter()
        self.seekers: list[Seeker] = []
        self.listeners: list[Listener] = []
        self.tasks: set[asyncio.Task[None]] = set()
        self.hold_lo, self.hold_hi = cfg["hold"]
        seekers, listeners = schedule(cfg)
        me, of = cfg["worker"], cfg["workers"]
        urls = cfg["urls"]
        exp = int(time.time()) + 3600
        for spec in seekers:
            if spec["i"] % of == me:
                self.seekers.append(Seeker(self, spec, urls[spec["node"]]))
        for spec in listeners:
            if spec["i"] % of == me:
                claims = Claims(
                    f"l-{spec['i']}", f"L{spec['i']}", tuple(spec["topics"]), exp,
                    languages=tuple(spec.get("langs") or ()),
                )  # fmt: skip
                token = issue(claims, cfg["secret"])
                self.listeners.append(Listener(self, spec, urls[spec["node"]], token))

    def hold(self, room: str) -> float:
        return hold_of(room, self.hold_lo, self.hold_hi)

    def start(self, t0: float) -> None:
        for client in [*self.seekers, *self.listeners]:
            delay = max(0.0, t0 + client.spec["due"] - now())
            self.loop.call_later(delay, self._spawn, client)

    def _spawn(self, client: Client) -> None:
        task = self.loop.create_task(client.run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def done(self, t0: float) -> bool:
        if now() < t0 + self.cfg["seconds"]:
            return False
        return all(s.finished for s in self.seekers) and all(
            listener.idle for listener in self.listeners
        )

    def report(self, cpu: float, wall: float) -> dict[str, Any]:
        return {
            "worker": self.cfg["worker"],
            "cpu_s": cpu,
            "wall_s": wall,
            "frames": dict(self.frames),
            "seekers": [s.record() for s in self.seekers],
            "listeners": [listener.record() for listener in self.listeners],
        }

    async def close_all(self) -> None:
        clients: list[Client] = [*self.seekers, *self.listeners]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(20):
                await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)
        for task in list(self.tasks):
            task.cancel()


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def worker_main(cfg: dict[str, Any]) -> int:
    """A client process: ``ready`` -> waits for ``start T0`` -> arrivals -> ``done`` when
    its own seekers are finished and its listeners idle -> on ``stop``: its records as one
    JSON line, then closes every socket. Gives up on its own after a hard deadline."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    worker = Worker(cfg)
    print("ready", flush=True)
    async with asyncio.timeout(START_TIMEOUT * 4):
        line = (await reader.readline()).decode().split()
    if len(line) != 2 or line[0] != "start":
        return 2
    t0 = float(line[1])
    cpu0, wall0 = _cpu_self(), now()
    worker.start(t0)
    hard_deadline = t0 + cfg["seconds"] + cfg["drain"] + 60.0
    said_done = False
    command = loop.create_task(reader.readline())
    while now() < hard_deadline:
        finished, _ = await asyncio.wait({command}, timeout=0.2)
        if finished:
            break  # "stop" or EOF: the parent is done (or gone)
        if not said_done and worker.done(t0):
            said_done = True
            print("done", flush=True)
    command.cancel()
    print(json.dumps(worker.report(_cpu_self() - cpu0, now() - wall0)), flush=True)
    await worker.close_all()
    return 0


# ====================================================================== parent side


class WorkerProc:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.done = False
        self.result: dict[str, Any] | None = None

    async def line(self, timeout: float) -> str:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            raw = await self.proc.stdout.readline()
        if not raw:
            raise RuntimeError(f"worker exited ({self.proc.returncode})")
        return raw.decode().strip()

    def tell(self, text: str) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.proc.stdin.write((text + "\n").encode())

    async def stop(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.terminate()
            try:
                async with asyncio.timeout(10):
                    await self.proc.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()


async def drive(
    cfg: dict[str, Any],
    procs_cpu: Callable[[], dict[str, float]],
    store: Callable[[], dict[str, int]] | None,
) -> dict[str, Any]:
    """Start the workers, run the arrivals and the drain, collect every worker's records."""
    workers: list[WorkerProc] = []
    try:
        for index in range(cfg["workers"]):
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "loadtests.bench_pairing", "--worker",
                json.dumps({**cfg, "worker": index}),
                cwd=ROOT, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                preexec_fn=_die_with_parent, limit=2**28,
            )  # fmt: skip
            workers.append(WorkerProc(proc))
        for w in workers:
            if await w.line(START_TIMEOUT * 2) != "ready":
                raise RuntimeError("worker did not get ready")
        t0 = now() + 1.0
        for w in workers:
            w.tell(f"start {t0!r}")
        cpu_start = procs_cpu()
        print(
            f"arrivals: {cfg['seekers']} seekers, {cfg['listeners']} listeners over "
            f"{cfg['seconds']} s ...",
            file=sys.stderr,
        )
        deadline = t0 + cfg["seconds"] + cfg["drain"]
        pending = {asyncio.ensure_future(w.line(deadline - now() + 1)): w for w in workers}
        drained = True
        while pending:
            finished, _ = await asyncio.wait(pending, timeout=max(0.0, deadline - now()))
            if not finished:
                drained = False
                break
            for fut in finished:
                w = pending.pop(fut)
                if fut.exception() is not None or fut.result() != "done":
                    drained = False
                else:
                    w.done = True
        for fut in pending:
            fut.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        t_end = now()
        cpu_end = procs_cpu()
        store_state = store() if store is not None else None
        for w in workers:
            w.tell("stop")
        results = []
        for w in workers:
            results.append(json.loads(await w.line(60)))
        return {
            "t0": t0,
            "t_end": t_end,
            "drained": drained,
            "workers": results,
            "server_cpu_s": {k: round(cpu_end[k] - cpu_start.get(k, 0.0), 2) for k in cpu_end},
            "store": store_state,
        }
    finally:
        for w in workers:
            await w.stop()


class Percentiles:
    """p50/p90/p99/max of samples in milliseconds: HDR histogram (microsecond unit, 3
    significant digits) when installed, else exact order statistics."""

    def __init__(self, samples_ms: Sequence[float]) -> None:
        self.samples = list(samples_ms)

    def summary(self) -> dict[str, Any]:
        values = self.samples
        if not values:
            return {"count": 0}
        out: dict[str, Any] = {"count": len(values), "method": "exact"}
        qs = {"p50": 50.0, "p90": 90.0, "p99": 99.0}
        if HdrHistogram is not None:
            hist = HdrHistogram(1, 3_600_000_000, 3)
            for v in values:
                hist.record_value(max(1, int(v * 1000)))
            for name, q in qs.items():
                out[name] = round(hist.get_value_at_percentile(q) / 1000, 1)
            out["method"] = "hdr"
        else:
            ordered = sorted(values)
            for name, q in qs.items():
                idx = min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered))) - 1))
                out[name] = round(ordered[idx], 1)
        out["max"] = round(max(values), 1)
        out["mean"] = round(sum(values) / len(values), 1)
        return out


def analyse(run: dict[str, Any], cfg: dict[str, Any]) -> dict[str, Any]:
    t0 = run["t0"]
    seekers = [s for w in run["workers"] for s in w["seekers"]]
    listeners = [li for w in run["workers"] for li in w["listeners"]]
    problems: Counter[str] = Counter()

    # rooms, as each side saw them
    seeker_of_room: dict[str, dict[str, Any]] = {}
    for s in seekers:
        if len(s["paired"]) > 1:
            problems["seeker_paired_twice"] += 1
        for room, _t, _peer in s["paired"]:
            if room in seeker_of_room:
                problems["room_given_to_two_seekers"] += 1
            seeker_of_room[room] = s
    listener_of_room: dict[str, dict[str, Any]] = {}
    for li in listeners:
        problems["listener_over_capacity_at_paired"] += li["over_capacity"]
        for room in li["chats"]:
            if room in listener_of_room:
                problems["room_given_to_two_listeners"] += 1
            listener_of_room[room] = li
    half_seen = set(seeker_of_room) ^ set(listener_of_room)
    problems["pairing_seen_by_one_side"] += len(half_seen)

    # end_chat sent, per room, by whichever side ended it
    end_sent: dict[str, float] = {}
    for s in seekers:
        if s["t_end_sent"] is not None and s["paired"]:
            end_sent[s["paired"][0][0]] = s["t_end_sent"]
    for li in listeners:
        for room, c in li["chats"].items():
            if c[4] is not None:
                end_sent[room] = c[4]

    latencies: list[float] = []
    waits: list[float] = []
    pair_times: list[float] = []
    seat_gaps: list[float] = []
    by_cause: dict[str, list[float]] = {}
    cross_node = 0
    from_listen = 0
    by_language = Languages(bool(cfg.get("languages")))
    for li in listeners:
        if li["t_listen"] is None:
            continue
        # (moment, what freed it: "listen" or the topic of the chat that ended)
        free = [(li["t_listen"], "listen")] * li["capacity"]
        for room, c in li["chats"].items():
            if c[5] is not None:  # ended: the seat is free from the end_chat (or the end)
                ended = seeker_of_room.get(room)
                free.append((end_sent.get(room, c[5]), ended["topic"] if ended else "?"))
        free.sort()
        chats = sorted(li["chats"].items(), key=lambda item: item[1][0])
        for k, (room, c) in enumerate(chats):
            s = seeker_of_room.get(room)
            if s is None:
                continue
            if s["paired"][0][2] != li["name"]:
                problems["peer_mismatch"] += 1
            t_both = max(c[0], s["paired"][0][1])
            if k >= len(free) or free[k][0] > t_both:
                problems["seat_taken_before_it_was_free"] += 1
                continue
            t_free, freed_by = free[k]
            start = max(s["t_req"], t_free)
            from_listen += int(freed_by == "listen" and start == t_free)
            latencies.append((t_both - start) * 1000)
            if s["t_req"] >= t_free:
                cause = "seeker_arrived_to_a_free_seat"
            elif freed_by == "listen":
                cause = "listener_arrived"
            elif freed_by == s["topic"]:
                cause = "seat_freed_by_chat_on_same_topic"
            else:
                cause = "seat_freed_by_chat_on_other_topic"
            by_cause.setdefault(cause, []).append((t_both - start) * 1000)
            waits.append((s["paired"][0][1] - s["t_req_first"]) * 1000)
            by_language.pair(s, li, waits[-1], problems)
            pair_times.append(t_both)
            cross_node += int(s["node"] != li["node"])
            if c[2] is not None and s["t_joined"] is not None:
                seat_gaps.append((c[2] - s["t_joined"]) * 1000)
            # messages
            if c[5] is not None and not c[3]:
                problems["listener_missed_message"] += 1
            if s["t_ended"] is not None and not s["got_msg"]:
                problems["seeker_missed_message"] += 1

    # seeker outcomes
    outcome: Counter[str] = Counter()
    for s in seekers:
        if s["failed"]:
            outcome["connect_failed"] += 1
        elif s["paired"] and s["t_ended"] is not None:
            outcome["paired_and_ended"] += 1
        elif s["paired"]:
            outcome["in_chat_at_end"] += 1
        elif s["closed_early"] or s["queue_left"] or s["first_position"] is None:
            outcome["lost"] += 1
        else:
            outcome["still_queued"] += 1
        problems["seeker_error_frames"] += sum(
            not e.startswith("unavailable@") and e != "not_waiting@c" for e in s["errors"]
        )  # (paired before its "any" arrived: the SPEC's not_waiting)
        by_language.seeker(s, problems)
        if s["reason"] is not None and s["reason"] not in ("ended_by_seeker", "ended_by_listener"):
            problems[f"chat_ended_{s['reason']}"] += 1
    for li in listeners:
        if li["failed"] or li["t_listening"] is None:
            problems["listener_not_listening"] += 1
        if li["closed_early"]:
            problems["listener_closed_early"] += 1
        problems["listener_error_frames"] += sum(
            not e.startswith("unavailable@") for e in li["errors"]
        )
    losses = (
        outcome["connect_failed"]
        + outcome["lost"]
        + problems["pairing_seen_by_one_side"]
        + problems["seeker_missed_message"]
        + problems["listener_missed_message"]
    )

    store = run.get("store")
    if store is not None:
        if store["queued"] != outcome["still_queued"]:
            problems["store_queued_mismatch"] += 1
        if store["pairs"] != outcome["in_chat_at_end"]:
            problems["store_pairs_mismatch"] += 1
        if store["busy_seats"] != outcome["in_chat_at_end"]:
            problems["store_busy_seats_mismatch"] += 1

    arrivals_end = t0 + cfg["seconds"]
    per_second = Counter(int(t - t0) for t in pair_times)
    span = (max(pair_times) - t0) if pair_times else 0.0
    in_window = sum(1 for t in pair_times if t <= arrivals_end)
    violations = {k: v for k, v in problems.items() if v}
    error_codes = Counter(
        _error_name(e) for c in [*seekers, *listeners] for e in c["errors"]
    ) + Counter(s["failed"] for s in [*seekers, *listeners] if s["failed"])
    report = {
        "pairings": len(pair_times),
        "cross_node_pairings": cross_node,
        "pairing_latency_ms": Percentiles(latencies).summary(),
        "queue_wait_ms": Percentiles(waits).summary(),
        "pairings_timed_from_listen": from_listen,
        "pairing_latency_ms_by_trigger": {
            k: Percentiles(v).summary() for k, v in sorted(by_cause.items())
        },
        "listener_joined_after_seeker_ms": Percentiles(seat_gaps).summary(),
        "matches_per_s": round(len(pair_times) / span, 1) if span else 0.0,
        "matches_per_s_arrival_window": round(in_window / cfg["seconds"], 1),
        "matches_busiest_second": max(per_second.values(), default=0),
        "last_pairing_after_s": round(span, 2),
        "seekers": dict(outcome),
        "losses": losses,
        "violations": violations,
        "error_codes": dict(error_codes),
        **by_language.report(),
        "ok": not violations and losses == 0 and outcome["connect_failed"] == 0,
    }
    return report


class Languages:
    """The language checks and figures of a run with ``--languages`` (nothing without)."""

    def __init__(self, on: bool) -> None:
        self.on = on
        self.waits: dict[str, list[float]] = {}
        self.seekers: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()

    def pair(
        self, s: dict[str, Any], li: dict[str, Any], wait: float, problems: Counter[str]
    ) -> None:
        if not self.on:
            return
        spoken = s["lang"] in li["langs"]
        if not spoken and s["t_any"] is None:
            problems["paired_across_languages_without_choice"] += 1
        if s["shared"] is not None and s["shared"] != spoken:
            problems["paired_shared_flag_wrong"] += 1
        self.counts["pairs_shared" if spoken else "pairs_any_listener"] += 1
        self.waits.setdefault(s["lang"], []).append(wait)

    def seeker(self, s: dict[str, Any], problems: Counter[str]) -> None:
        if not self.on:
            return
        self.seekers[s["lang"]] += 1
        problems["told_unavailable_while_available"] += s["told_untrue"]
        self.counts["told_unavailable"] += int(s["told"] > 0)
        self.counts["chose_any"] += int(s["t_any"] is not None)

    def report(self) -> dict[str, Any]:
        if not self.on:
            return {}
        per = {
            lang: {"seekers": n, "queue_wait_ms": Percentiles(self.waits.get(lang, [])).summary()}
            for lang, n in sorted(self.seekers.items())
        }
        return {"languages": {"per_language": per, **dict(self.counts)}}


REQUESTS = {
    "r": "request_support",
    "l": "listen",
    "a": "auth",
    "e": "end_chat",
    "c": "support_choice",
}


def _error_name(error: str) -> str:
    code, _, ref = error.partition("@")
    return f"{code}@{REQUESTS.get(ref[:1], ref)}"


def _write_raw(path: str, run: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps({"t0": run["t0"], "workers": run["workers"]}))


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown"


def _pair(text: str, kind: Callable[[str], Any]) -> list[Any]:
    lo, _, hi = text.partition(",")
    return [kind(lo), kind(hi or lo)]


def store_check(redis_url: str) -> Callable[[], dict[str, int]]:
    """What the Redis pairing store holds: queued seekers, open pairs, busy seats."""

    def check() -> dict[str, int]:
        import redis  # the project's dependency; only the parent needs it

        client = redis.Redis.from_url(redis_url, socket_timeout=10)
        try:
            queued = sum(int(client.zcard(k)) for k in client.scan_iter("{pairing}:q:*"))
            pairs = sum(1 for _ in client.scan_iter("{pairing}:p:*"))
            busy = 0
            for lid in client.smembers("{pairing}:seats"):
                name = lid.decode() if isinstance(lid, bytes) else str(lid)
                busy += int(client.hget(f"{{pairing}}:s:{name}", "active") or 0)
            return {"queued": queued, "pairs": pairs, "busy_seats": busy}
        finally:
            client.close()

    return check


async def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench_pairing")
    parser.add_argument("--seekers", type=int, default=2000)
    parser.add_argument("--listeners", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0, help="arrival window")
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    parser.add_argument("--hold", default="1,4", help="chat hold time range, seconds")
    parser.add_argument("--capacity", default="1,3", help="listener capacity range")
    parser.add_argument("--topics", type=int, default=4, help="topics used (of the catalogue)")
    parser.add_argument("--drain", type=float, default=60.0, help="longest wait after arrivals")
    parser.add_argument("--filters", choices=["default", "none"], default="default")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--embedded", action="store_true", help="one node, embedded broker")
    parser.add_argument("--raw", help="also write every client's records (JSON) here")
    parser.add_argument("--languages", default="", help="seekers' languages, e.g. en,es")
    parser.add_argument("--language-mix", default="", help="their weights, e.g. 0.7,0.3")
    parser.add_argument(
        "--bilingual", type=float, default=0.1, help="share of listeners speaking them all"
    )
    parser.add_argument(
        "--any-after", type=float, default=5.0, help="seconds before a seeker chooses any"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return await worker_main(json.loads(args.worker))

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still runs the cleanup
    secret = secrets.token_hex(16)
    cfg: dict[str, Any] = {
        "seekers": args.seekers,
        "listeners": args.listeners,
        "seconds": args.seconds,
        "workers": max(1, args.workers),
        "hold": _pair(args.hold, float),
        "capacity": _pair(args.capacity, int),
        "topics": list(DEFAULT_TOPICS[: max(1, min(args.topics, len(DEFAULT_TOPICS)))]),
        "drain": args.drain,
        "seed": args.seed,
        "secret": secret,
        **language_config(args),
    }
    machine = {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    print(f"machine: {json.dumps(machine)}", file=sys.stderr)
    cpu0, wall0 = _cpu_self(), now()
    with contextlib.ExitStack() as stack:
        redis_url = ""
        redis_pid: int | None = None
        if not args.embedded:
            redis_url, redis_proc = stack.enter_context(redis_server())
            redis_pid = redis_proc.pid
        started = stack.enter_context(
            nodes(1 if args.embedded else 2, redis_url, secret, args.filters)
        )
        cfg["urls"] = [n.url for n in started]

        def procs_cpu() -> dict[str, float]:
            out = {f"node{i}": cpu_seconds(n.proc.pid) for i, n in enumerate(started)}
            if redis_pid is not None:
                out["redis"] = cpu_seconds(redis_pid)
            return out

        run = await drive(cfg, procs_cpu, store_check(redis_url) if redis_url else None)
        server_logs = {
            f"node{i}": {
                "paired_events": n.events.get("paired", 0),
                "problems": dict(n.problems),
                "problem_samples": n.samples,
            }
            for i, n in enumerate(started)
        }
    result = analyse(run, cfg)
    if args.raw:
        _write_raw(args.raw, run)
    run_wall = run["t_end"] - run["t0"]
    harness = {
        "workers": cfg["workers"],
        "worker_cpu_s": [round(w["cpu_s"], 2) for w in run["workers"]],
        "worker_cpu_pct_of_core": [
            round(100 * w["cpu_s"] / max(w["wall_s"], 1e-9), 1) for w in run["workers"]
        ],
        "parent_cpu_s": round(_cpu_self() - cpu0, 2),
        "frames_received": dict(
            sum((Counter(w["frames"]) for w in run["workers"]), Counter[str]())
        ),
    }
    report: dict[str, Any] = {
        "machine": machine,
        "mode": "embedded (1 node)" if args.embedded else "redis (2 nodes)",
        "config": {k: v for k, v in cfg.items() if k not in ("secret", "urls")},
        "filters": args.filters,
        "run_wall_s": round(run_wall, 2),
        "total_wall_s": round(now() - wall0, 2),
        "drained": run["drained"],
        **result,
        "store_at_end": run["store"],
        "server_cpu_s": run["server_cpu_s"],
        "server_cpu_pct_of_core": {
            k: round(100 * v / max(run_wall, 1e-9), 1) for k, v in run["server_cpu_s"].items()
        },
        "server_logs": server_logs,
        "harness": harness,
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    _summary(report)
    print(json.dumps(report))
    return 0 if report["ok"] and report["drained"] else 1


def language_config(args: argparse.Namespace) -> dict[str, Any]:
    langs = [x.strip() for x in args.languages.split(",") if x.strip()]
    if not langs:
        return {}
    mix = [float(x) for x in args.language_mix.split(",") if x.strip()] or [1.0] * len(langs)
    if len(mix) != len(langs):
        raise SystemExit("--language-mix needs one weight per language")
    return {
        "languages": langs,
        "language_mix": mix,
        "bilingual": args.bilingual,
        "any_after": args.any_after,
    }


def _summary(r: dict[str, Any]) -> None:
    lat, wait = r["pairing_latency_ms"], r["queue_wait_ms"]
    lines = [
        f"mode: {r['mode']}, filters: {r['filters']}, drained: {r['drained']}, "
        f"run {r['run_wall_s']} s",
        f"pairings: {r['pairings']} ({r['cross_node_pairings']} across nodes)",
        f"pairing latency from free seat (ms): p50 {lat.get('p50')} p90 {lat.get('p90')} "
        f"p99 {lat.get('p99')} max {lat.get('max')} [{lat.get('method')}]",
        f"queue wait (ms): p50 {wait.get('p50')} p90 {wait.get('p90')} p99 {wait.get('p99')} "
        f"max {wait.get('max')}",
        "  by what made the pair possible: "
        + "; ".join(
            f"{k} n={v['count']} p50 {v.get('p50')} p99 {v.get('p99')}"
            for k, v in r["pairing_latency_ms_by_trigger"].items()
        ),
        f"listener joined after seeker (ms): {r['listener_joined_after_seeker_ms']}",
        f"matches/s: {r['matches_per_s']} overall, {r['matches_per_s_arrival_window']} in the "
        f"arrival window, busiest second {r['matches_busiest_second']}",
        f"seekers: {r['seekers']}, losses: {r['losses']}, violations: {r['violations']}",
        f"error frames / failures: {r['error_codes']}",
        f"languages: {r.get('languages', 'off')}",
        f"store at end: {r['store_at_end']}",
        f"server CPU (% of one core): {r['server_cpu_pct_of_core']}",
        f"harness CPU (% of one core per worker): {r['harness']['worker_cpu_pct_of_core']}, "
        f"parent {r['harness']['parent_cpu_s']} s",
        f"server log problems: { {k: v['problems'] for k, v in r['server_logs'].items()} }",
        f"load: before {r['machine']['load_before']} after {r['load_after']}",
        "OK" if r["ok"] and r["drained"] else "FAILED",
    ]
    print("\n".join(lines), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
