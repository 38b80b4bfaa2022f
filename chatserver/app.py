"""serve(): one TaskGroup owns the listener, the broker and the sweepers.

Shutdown: SIGINT closes every socket with 1001 (going away). SIGTERM drains: the node
stops accepting, tells every client to reconnect with 1012 (service restart) so they
resume on another node, and exits within ``drain_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import signal
import time
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.typing import Subprotocol

from chatserver.broker.base import Broker, BrokerError
from chatserver.chat import Chat
from chatserver.config import LOOPBACK, Settings
from chatserver.connection import ConnectionHandler
from chatserver.context import NodeContext
from chatserver.control import ControlPlane
from chatserver.factories import (
    make_broker,
    make_pairing_store,
    make_pipeline,
    make_reaction_store,
    make_report_store,
    make_session_store,
)
from chatserver.features.messaging import Messaging
from chatserver.features.moderation import Moderation
from chatserver.features.reactions import SupportiveReactions
from chatserver.features.support import Support
from chatserver.features.verdicts import Verdicts
from chatserver.http import HttpRoutes, MetricsRoutes
from chatserver.hub import Hub
from chatserver.keepalive import keep_alive
from chatserver.limits import AddressCounter
from chatserver.node import ChatConfig
from chatserver.observability import Metrics, frames_of, type_of
from chatserver.rooms import Rooms
from chatserver.routing import Feature, Router
from chatserver.session import Session
from chatserver.sessions import SessionRegistry
from chatserver.tokens import Claims, issue
from protocol import SUBPROTOCOLS, CloseCode
from protocol.messages import Limits

if TYPE_CHECKING:
    pass

#: longest wait for a room-settings refresh after the broker reconnects
REFRESH_DEADLINE = 10.0
#: a local demo listener's sign-in lasts a working shift
LOCAL_TOKEN_SECONDS = 8 * 3600
log = structlog.get_logger("chatserver.app")

SWEEP_SECONDS = 1.0
#: Allocations between young GCs (CPython: 700): fewer full ones, the filters' p99 (issue 17)
GC_YOUNG = 20_000


def select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """The first encoding we speak among those offered; none offered or known: JSON."""
    for name in offered:
        if name in SUBPROTOCOLS:
            return name
    return None


def build_features(ctx: NodeContext, settings: Settings) -> list[Feature]:
    """The routing table's features, in the order they register and sweep. Adding a
    feature is a module and a line here; the core imports none of them."""
    return [
        Messaging(ctx, make_pipeline(settings)),
        Verdicts(ctx),
        Support(ctx, make_pairing_store(settings), choice_again=settings.language_choice_again),
        Moderation(
            ctx,
            make_report_store(settings),
            cooldown=settings.removal_cooldown,
            retention=settings.report_retention,
        ),
        SupportiveReactions(ctx, make_reaction_store(settings)),
    ]


def chat_config(settings: Settings) -> ChatConfig:
    return ChatConfig(
        node_id=settings.node_id,
        topics=settings.topics,
        max_text=settings.max_text,
        room_capacity=settings.room_capacity,
        resume_grace=settings.resume_grace,
        default_language=settings.default_language,
        room_languages=settings.room_languages,
        listener_secret=settings.listener_secret,
        revoked_listeners_file=settings.revoked_listeners_file,
        limits=Limits(
            max_frame_bytes=settings.max_frame_bytes,
            rate_per_minute=round(settings.rate_per_second * 60),
            rate_burst=settings.rate_burst,
            room_capacity=settings.room_capacity,
            resume_grace=round(settings.resume_grace),
        ),
        listener_token_ttl=settings.listener_token_ttl,
        max_group_rooms=settings.max_group_rooms,
        seats_per_connection=settings.seats_per_connection,
        address_topic_share=settings.address_topic_share,
        max_seats=settings.max_seats,
    )


def build_context(settings: Settings, broker: Broker, hub: Hub, metrics: Metrics) -> NodeContext:
    config = chat_config(settings)
    router = Router(metrics)
    sessions = SessionRegistry(config, make_session_store(settings))
    rooms = Rooms(config, broker, hub, metrics, sessions, router.events)
    control = ControlPlane(settings.node_id, broker, hub, router)
    return NodeContext(config, broker, hub, sessions, rooms, control, router, metrics)


class ChatServer:
    """One node. ``run()`` serves until ``stop()`` (or a signal), then returns."""

    def __init__(self, settings: Settings, *, broker: Broker | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.broker = broker if broker is not None else make_broker(settings)
        self.metrics.watch_broker(lambda: self.broker.statistics().crashed)
        self.hub = Hub(self.broker, send_limit=settings.send_queue_bytes, on_slow=self._slow)
        self.ctx = build_context(settings, self.broker, self.hub, self.metrics)
        self.router = self.ctx.router
        self.chat = Chat(self.ctx, self._spawn)
        self.features: list[Feature] = [self.chat, *build_features(self.ctx, settings)]
        for feature in self.features:
            feature.register(self.router)
        self.addresses = AddressCounter(settings.max_connections_per_address)
        self.handler = ConnectionHandler(
            self.chat, self.router, settings, self.metrics, self.addresses
        )
        self.port: int | None = None
        self.started = asyncio.Event()
        self.draining = False
        self._stop = asyncio.Event()
        self._close_code = CloseCode.GOING_AWAY
        self._server: Server | None = None
        #: the node's TaskGroup while it serves: the parent of every short job it starts
        self._tg: asyncio.TaskGroup | None = None

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
                self._spawn(self._refresh_settings())
                self._spawn(self._save_snapshots())

    def _spawn(self, job: Coroutine[Any, Any, None]) -> None:
        """Run a short job under the node's TaskGroup (its parent); outside ``run`` (start-up
        or shutdown) there is nothing to refresh or close, so the job is dropped."""
        if self._tg is None:
            job.close()
            return
        self._tg.create_task(self._guarded(job))

    @staticmethod
    async def _guarded(job: Coroutine[Any, Any, None]) -> None:
        """A short job's bug is logged (type and ``file:line``, never its message), not
        allowed to take the node down through its TaskGroup."""
        try:
            await job
        except Exception as exc:  # noqa: BLE001 -- logged with where it came from
            log.error("job_failed", exc_type=type_of(exc), exc_where=frames_of(exc))

    async def _refresh_settings(self) -> None:
        try:
            async with asyncio.timeout(REFRESH_DEADLINE):
                await self.hub.refresh_settings()
        except (BrokerError, TimeoutError) as exc:  # the next reconnect refreshes them
            log.warning("settings_refresh_failed", error=type(exc).__name__)

    async def _save_snapshots(self) -> None:
        """After the broker reconnected: save again the snapshot of every session with
        something to resume. Redis may have restarted empty, and if this node dies next
        its people must still resume elsewhere."""
        sessions, busy = self.ctx.sessions, self.ctx.events.is_busy
        try:
            async with asyncio.timeout(REFRESH_DEADLINE):
                for session in sessions:
                    if session.rooms or busy(session):
                        await sessions.persist(session)
        except TimeoutError:  # the periodic refresh catches up
            log.warning("snapshots_save_late")

    def _slow(self, session: Session) -> None:
        ws = session.ws
        if ws is not None:
            self.metrics.closes.labels(str(int(CloseCode.SLOW_CONSUMER))).inc()
            self._spawn(ws.close(int(CloseCode.SLOW_CONSUMER), "too slow"))

    # ------------------------------------------------------------------ lifecycle

    def stop(self, code: CloseCode = CloseCode.GOING_AWAY) -> None:
        self._close_code = code
        self._stop.set()

    def _routes(self) -> HttpRoutes:
        s = self.settings
        local_token = None
        if s.local_demo:
            claims = Claims(lid="local-demo", name="Local listener", topics=s.topics,
                            exp=0)  # fmt: skip

            def local_token() -> str:
                exp = int(time.time()) + LOCAL_TOKEN_SECONDS
                return issue(dataclasses.replace(claims, exp=exp), s.listener_secret)

        return HttpRoutes(
            self.health, self.ready, self.metrics.render, self.addresses,
            trust_forwarded_for=s.trust_forwarded_for,
            metrics_public=not s.metrics_address, local_token=local_token,
        )  # fmt: skip

    def _metrics_server(self) -> contextlib.AbstractAsyncContextManager[Any]:
        """The separate metrics address, when ``--metrics-address`` names one."""
        if not self.settings.metrics_address:
            return contextlib.nullcontext()
        host, _, port = self.settings.metrics_address.rpartition(":")

        async def refuse(ws: ServerConnection) -> None:  # only HTTP is served there
            await ws.close()

        routes = MetricsRoutes(self.metrics.render, self.health, self.ready)
        return serve(refuse, host.strip("[]"), int(port), process_request=routes,
                     server_header=None)  # fmt: skip

    def _announce(self) -> None:
        """One start-up line with the addresses a person opens first."""
        s = self.settings
        # loopback and wildcard hosts are shown as localhost: the link works, and no
        # address appears in a log line
        host = "localhost" if s.host in (*LOOPBACK, "0.0.0.0", "::", "") else s.host
        base = f"http://{host if ':' not in host else f'[{host}]'}:{self.port}"
        extra: dict[str, Any] = {"demo": base + "/demo", "listener": base + "/listener"}
        if s.local_demo:
            extra["local_listener"] = "open the listener page and choose the local sign-in"
        if s.metrics_address:
            extra["metrics"] = f"http://{s.metrics_address}/metrics"
        log.info("listening", port=self.port, node=s.node_id, **extra)

    def _serve_options(self) -> dict[str, Any]:
        """The websockets server's settings, from ours."""
        s = self.settings
        return {
            "select_subprotocol": select_subprotocol,
            "max_size": s.max_frame_bytes,
            "compression": "deflate" if s.compression else None,
            "backlog": s.listen_backlog,
            "ping_interval": None,  # one node-level pinger instead (chatserver/keepalive.py)
            # browsers always send Origin; other clients (no header) are not at risk of
            # cross-site hijacking, so None is allowed alongside the list
            "origins": [*s.allowed_origins, None] if s.allowed_origins else None,
            "server_header": None,
        }

    async def run(self) -> None:
        s = self.settings
        self.metrics.broker_up.set(0)
        await self.broker.start(self.hub.deliver, self._on_health, self.ctx.rooms.evicted)
        if self.broker.healthy:
            self.metrics.broker_up.set(1)
        await self.ctx.control.start()
        try:
            async with (
                serve(
                    self.handler, s.host, s.port, process_request=self._routes(),
                    **self._serve_options(),
                ) as server,
                self._metrics_server(),
            ):  # fmt: skip
                self._server = server
                self.port = server.sockets[0].getsockname()[1]
                self._install_signals()
                self.started.set()
                self._announce()
                async with asyncio.TaskGroup() as tg:
                    self._tg = tg
                    sweeper = tg.create_task(self._sweep())
                    inbox = tg.create_task(self.ctx.control.run())
                    pinger = tg.create_task(keep_alive(lambda: server.connections, s.ping_interval))
                    await self._stop.wait()
                    sweeper.cancel()
                    inbox.cancel()
                    pinger.cancel()
                    await self._shutdown(server)
                    self._tg = None
        finally:
            self._tg = None
            await self.ctx.sessions.close()
            for feature in self.features:
                await feature.close()
            await self.broker.close()
            log.info("stopped", node=s.node_id)

    async def _shutdown(self, server: Server) -> None:
        code = self._close_code
        self.draining = True
        log.info("shutting_down", code=int(code), connections=len(server.connections))
        server.close(close_connections=False)
        self.chat.stop_all(quietly=code != CloseCode.SERVICE_RESTART)
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
                for feature in self.features:
                    await feature.sweep()
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
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])
    await server.run()
