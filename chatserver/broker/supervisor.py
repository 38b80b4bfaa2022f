"""The parent of a broker's background tasks: nothing the broker runs is a bare task.

Why: a task that dies alone is the failure to design out. A dead publisher left every
``publish()`` waiting on a future for ever, and nobody heard of it. Here every task has a
parent; when a kept task (publisher, reconnector, presence) crashes, the supervisor logs
why (the exception's type and the ``file:line`` it was raised at, never its message,
which may quote a payload), tells the owner (which fails what the task was carrying and
reports itself unhealthy) and starts the task again after a backoff. One-shot children
(a gap fill, a batch's replies, a socket reader) are tracked the same way but not
restarted: their owner starts them again when needed.

Cancelling is not crashing: ``close()`` cancels every child and waits a bounded time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import structlog

from chatserver.observability import where

log = structlog.get_logger("chatserver.broker.supervisor")

Job = Callable[[], Coroutine[Any, Any, None]]
#: Told of every crash: (task name, exception). Must not block.
Crashed = Callable[[str, BaseException], None]


class Supervisor:
    """Owns a set of tasks; restarts the kept ones after a crash (see the module docs)."""

    def __init__(
        self,
        name: str,
        on_crash: Crashed,
        *,
        restart_min: float = 0.05,
        restart_max: float = 5.0,
    ) -> None:
        self.name = name
        self._on_crash = on_crash
        self._restart_min = restart_min
        self._restart_max = restart_max
        self._jobs: dict[str, Job] = {}
        self._kept: dict[str, asyncio.Task[None]] = {}
        self._children: set[asyncio.Task[Any]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._streak: dict[str, int] = {}
        self._closing = False
        self._all_up = asyncio.Event()
        self._all_up.set()
        #: crashes since start, every task counted
        self.crashes = 0

    @property
    def down(self) -> frozenset[str]:
        """Kept tasks that crashed and wait for their restart."""
        return frozenset(self._timers)

    def keep(self, name: str, job: Job) -> None:
        """Run ``job()`` as the kept task ``name``: started again after each crash."""
        self._closing = False
        self._jobs[name] = job
        self._start(name)

    def spawn(self, name: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a one-shot child; a crash is logged and reported, never restarted."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self.name}.{name}")
        self._children.add(task)
        task.add_done_callback(lambda t: self._child_done(name, t))
        return task

    async def wait_all_up(self) -> None:
        """Return once no kept task waits for its restart."""
        await self._all_up.wait()

    async def close(self, timeout: float) -> int:
        """Cancel every task; wait at most ``timeout``. Returns how many did not stop."""
        self._closing = True
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        self._all_up.set()
        tasks = [*self._kept.values(), *self._children]
        self._kept.clear()
        for task in tasks:
            task.cancel()
        if not tasks:
            return 0
        _, stuck = await asyncio.wait(tasks, timeout=timeout)
        return len(stuck)

    def _start(self, name: str) -> None:
        self._timers.pop(name, None)
        if not self._timers:
            self._all_up.set()
        if self._closing:
            return
        task = asyncio.get_running_loop().create_task(
            self._jobs[name](), name=f"{self.name}.{name}"
        )
        self._kept[name] = task
        task.add_done_callback(lambda t: self._kept_done(name, t))

    def _kept_done(self, name: str, task: asyncio.Task[None]) -> None:
        if self._kept.get(name) is task:
            del self._kept[name]
        if self._closing:
            return
        exc = _failure(task)  # a kept task that returns or is cancelled died too
        self._crashed(name, exc)
        streak = self._streak[name] = self._streak.get(name, 0) + 1
        delay = min(self._restart_min * 2 ** (streak - 1), self._restart_max)
        self._all_up.clear()
        self._timers[name] = asyncio.get_running_loop().call_later(delay, self._start, name)

    def _child_done(self, name: str, task: asyncio.Task[Any]) -> None:
        self._children.discard(task)
        if task.cancelled() or self._closing:
            return
        exc = task.exception()
        if exc is not None:
            self._crashed(name, exc)

    def _crashed(self, name: str, exc: BaseException) -> None:
        self.crashes += 1
        log.error(
            "task_crashed", owner=self.name, task=name, error=type(exc).__name__, at=where(exc)
        )
        self._on_crash(name, exc)

    def ran_well(self, name: str) -> None:
        """The kept task ``name`` did its work: its next crash restarts it quickly again."""
        self._streak.pop(name, None)


def _failure(task: asyncio.Task[None]) -> BaseException:
    if task.cancelled():
        return asyncio.CancelledError()
    exc = task.exception()
    return exc if exc is not None else RuntimeError("task returned")
