"""serve(): one TaskGroup owns the listener, the broker and the sweepers.

Shutdown: SIGINT closes every socket with 1001 (going away). SIGTERM drains: the node
stops accepting, tells every client to reconnect with 1012 (service restart) so they
resume on another node, and exits within ``drain_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from chatserver.broker.base import Broker, BrokerError
from chatserver.broker.memory import MemoryBroker
from chatserver.chat import Chat, ChatConfig
from chatserver.config import Settings
from chatserver.connection import ConnectionHandler
from chatserver.http import HttpRoutes
from chatserver.hub import Hub
from chatserver.limits import AddressCounter
from chatserver.messaging import Messaging
from chatserver.moderation.service import Moderation
from chatserver.moderation.store import MemoryReportStore, ReportStore
from chatserver.observability import Metrics
from chatserver.pairing.base import PairingStore
from chatserver.pairing.memory import MemoryPairingStore
from chatserver.resume.base import SessionStore
from chatserver.resume.memory import MemorySessionStore
from chatserver.session import Session
from chatserver.support import Support
from protocol import SUBPROTOCOLS, CloseCode

if TYPE_CHECKING:
    from chatserver.safety.pipeline import Pipeline

log = structlog.get_logger("chatserver.app")

SWEEP_SECONDS = 1.0


def make_broker(settings: Settings) -> Broker:
    if not settings.redis_url:
        return MemoryBroker(
            settings.node_id,
            history_size=settings.history_size,
            history_seconds=settings.history_seconds,
        )
    from chatserver.broker.redis import RedisBroker

    return RedisBroker(
        settings.redis_url,
        settings.node_id,
        history_size=settings.history_size,
        history_seconds=settings.history_seconds,
        presence_ttl=settings.presence_ttl,
    )


def select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """The first encoding we speak among those offered; none offered or known: JSON."""
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None


def make_session_store(settings: Settings) -> SessionStore:
    if not settings.redis_url:
        return MemorySessionStore()
    from chatserver.resume.redis import RedisSessionStore

    return RedisSessionStore(settings.redis_url)


def make_report_store(settings: Settings) -> ReportStore:
    if not settings.redis_url:
        return MemoryReportStore(
            limit=settings.report_queue_size, retention=settings.report_retention
        )
    from chatserver.moderation.redis import RedisReportStore

    return RedisReportStore(
        settings.redis_url, limit=settings.report_queue_size, retention=settings.report_retention
    )


def make_pairing_store(settings: Settings) -> PairingStore:
    if not settings.redis_url:
        return MemoryPairingStore()
    from chatserver.pairing.redis import RedisPairingStore

    return RedisPairingStore(settings.redis_url)


def _pipeline(settings: Settings) -> Pipeline | None:
    if not settings.filters:
        return None
    from chatserver.safety.pipeline import build_pipeline

    return build_pipeline(settings.filters, budget_ms=settings.filter_budget_ms)


class ChatServer:
    """One node. ``run()`` serves until ``stop()`` (or a signal), then returns."""

    def __init__(self, settings: Settings, *, broker: Broker | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.broker = broker if broker is not None else make_broker(settings)
        self.metrics.watch_broker(lambda: self.broker.statistics().crashed)
        self.hub = Hub(self.broker, send_limit=settings.send_queue_bytes, on_slow=self._slow)
        self.pipeline = _pipeline(settings)
        self.chat = Chat(
            ChatConfig(
                node_id=settings.node_id,
                topics=settings.topics,
                max_text=settings.max_text,
                room_capacity=settings.room_capacity,
                resume_grace=settings.resume_grace,
                listener_secret=settings.listener_secret,
                revoked_listeners_file=settings.revoked_listeners_file,
            ),
            self.broker,
            self.hub,
            self.metrics,
            store=make_session_store(settings),
        )
        self.messaging = Messaging(self.chat, self.pipeline)
        self.support = Support(self.chat, make_pairing_store(settings))
        self.moderation = Moderation(
            self.chat,
            make_report_store(settings),
            cooldown=settings.removal_cooldown,
            retention=settings.report_retention,
        )
        self.hub.on_room_ended = lambda room: self.support.enqueue(
            {"k": "room_ended", "room": room}
        )
        self.addresses = AddressCounter(settings.max_connections_per_address)
        self.handler = ConnectionHandler(self.chat, settings, self.metrics, self.addresses)
        self.port: int | None = None
        self.started = asyncio.Event()
        self.draining = False
        self._stop = asyncio.Event()
        self._close_code = CloseCode.GOING_AWAY
        self._server: Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ------------------------------------------------------------------ status

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "node": self.settings.node_id,
            "connections": len(self.handler.last_rx),
        }

    def ready(self) -> tuple[bool, dict[str, Any]]:
        broker = self.broker.healthy
        ok = broker and not self.draining
        return ok, {"ready": ok, "broker": broker, "draining": self.draining}

    def _on_health(self, healthy: bool) -> None:
        self.metrics.broker_up.set(1 if healthy else 0)
        if self.started.is_set():
            self.chat.broker_health(healthy)
            log.warning("broker_health", healthy=healthy)
            if healthy:
                task = asyncio.get_running_loop().create_task(self._refresh_settings())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _refresh_settings(self) -> None:
        try:
            await self.hub.refresh_settings()
        except BrokerError as exc:  # down again: the next reconnect refreshes them
            log.warning("settings_refresh_failed", error=type(exc).__name__)

    def _slow(self, session: Session) -> None:
        ws = session.ws
        if ws is not None:
            self.metrics.closes.labels(str(int(CloseCode.SLOW_CONSUMER))).inc()
            task = asyncio.get_running_loop().create_task(
                ws.close(int(CloseCode.SLOW_CONSUMER), "too slow")
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ lifecycle

    def stop(self, code: CloseCode = CloseCode.GOING_AWAY) -> None:
        self._close_code = code
        self._stop.set()

    async def run(self) -> None:
        s = self.settings
        self.metrics.broker_up.set(0)
        await self.broker.start(self.hub.deliver, self._on_health, self.chat.evicted)
        if self.broker.healthy:
            self.metrics.broker_up.set(1)
        await self.support.start()
        await self.moderation.start()
        routes = HttpRoutes(
            self.health,
            self.ready,
            self.metrics.render,
            self.addresses,
            trust_forwarded_for=s.trust_forwarded_for,
        )
        try:
            async with serve(
                self.handler,
                s.host,
                s.port,
                select_subprotocol=select_subprotocol,
                process_request=routes,
                max_size=s.max_frame_bytes,
                compression="deflate" if s.compression else None,
                backlog=s.listen_backlog,
                ping_interval=s.ping_interval or None,
                ping_timeout=s.ping_interval or None,
                # browsers always send Origin; other clients (no header) are not at risk of
                # cross-site hijacking, so None is allowed alongside the list
                origins=[*s.allowed_origins, None] if s.allowed_origins else None,  # type: ignore[list-item]
                server_header=None,
            ) as server:
                self._server = server
                self.port = server.sockets[0].getsockname()[1]
                self._install_signals()
                self.started.set()
                log.info("listening", port=self.port, node=s.node_id)
                async with asyncio.TaskGroup() as tg:
                    sweeper = tg.create_task(self._sweep())
                    inbox = tg.create_task(self.support.run())
                    await self._stop.wait()
                    sweeper.cancel()
                    inbox.cancel()
                    await self._shutdown(server)
        finally:
            await self.chat.store.close()
            await self.support.close()
            await self.moderation.store.aclose()
            await self.broker.close()
            log.info("stopped", node=s.node_id)

    async def _shutdown(self, server: Server) -> None:
        code = self._close_code
        self.draining = True
        log.info("shutting_down", code=int(code), connections=len(server.connections))
        server.close(close_connections=False)
        for session in list(self.chat.sessions.values()):
            session.closing = code != CloseCode.SERVICE_RESTART
        reason = "server restart" if code == CloseCode.SERVICE_RESTART else "server shutting down"
        closes = [ws.close(int(code), reason) for ws in list(server.connections)]
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.drain_seconds):
                await asyncio.gather(*closes, return_exceptions=True)
                await server.wait_closed()

    async def _sweep(self) -> None:
        """Once a second: end expired sessions, retry matches, close idle sockets.
        A failure (Redis down, say) is logged and retried next time, never fatal."""
        counted = 0
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            self.metrics.frames_out.inc(self.hub.frames_out - counted)
            counted = self.hub.frames_out
            try:
                await self.chat.reap()
                await self.chat.refresh()
                await self.support.sweep()
                for ws in self.handler.idle(time.monotonic(), self.settings.idle_timeout):
                    self.metrics.closes.labels(str(int(CloseCode.IDLE_TIMEOUT))).inc()
                    await ws.close(int(CloseCode.IDLE_TIMEOUT), "idle")
            except Exception as exc:
                log.warning("sweep_failed", error=type(exc).__name__)

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGINT, self.stop, CloseCode.GOING_AWAY)
            loop.add_signal_handler(signal.SIGTERM, self.stop, CloseCode.SERVICE_RESTART)


async def serve_forever(settings: Settings) -> None:
    server = ChatServer(settings)
    # Start-up objects (modules, safety lexicons, settings) live as long as the process:
    # keep them out of every later full collection, whose pauses otherwise show in p99.
    gc.freeze()
    await server.run()
