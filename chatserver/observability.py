"""Logging (structlog) and metrics (Prometheus), both built so that nobody can be identified.

Logs: JSON lines in production, readable console output on a terminal. A redaction
processor removes any field whose name suggests content or identity (text, address,
token, ...) before rendering, as a second line of defence behind the rule that call sites
never pass them.

Exceptions: an exception's message can quote the data it was handling (``could not
convert string to float: '<what someone wrote>'``), so no log line carries it. What an
operator needs to find the bug is its type and where it happened: :func:`exception_fields`
turns ``exc_info`` into ``exc_type`` (with the types of its causes) and ``exc_where``
(``file:line in function`` of the frames, innermost last). Foreign loggers (websockets'
"connection handler failed", asyncio's "Task exception was never retrieved") go through
the same processors, and keep only the first line of their message template.

Metrics: one :class:`Metrics` object per server, on its own registry, so several servers
in one process (tests) do not collide. Names start with ``chatserver_``.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Callable, MutableMapping
from typing import Any, Final

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

#: Field names that must never reach a log line, whatever a call site passes.
REDACTED_KEYS: Final = frozenset(
    {
        "text",
        "message_text",
        "body",
        "payload",
        "address",
        "addr",
        "remote",
        "remote_address",
        "ip",
        "host_ip",
        "token",
        "resume_token",
        "listener_token",
        "user_agent",
        "origin",
        "note",
    }
)


def redact(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in REDACTED_KEYS.intersection(event_dict):
        event_dict[key] = "[redacted]"
    return event_dict


#: Frames of a traceback a log line names (the innermost ones).
WHERE_FRAMES = 10
#: Causes (``raise ... from``) whose types a log line names.
CAUSES = 3
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _short(filename: str) -> str:
    """A frame's file, relative to the source tree (or the site-packages) it lives in."""
    path = os.path.abspath(filename)
    if path.startswith(_ROOT + os.sep):
        return os.path.relpath(path, _ROOT)
    marker = os.sep + "site-packages" + os.sep
    if marker in path:
        return path.split(marker, 1)[1]
    return os.path.basename(path)


def where(exc: BaseException) -> str:
    """``file:line`` where ``exc`` was raised (the innermost frame): enough to find the
    bug, with nothing of the data it was handling."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{os.path.basename(last.filename)}:{last.lineno}"


def frames_of(exc: BaseException, limit: int = WHERE_FRAMES) -> list[str]:
    """``file:line in function`` of the innermost ``limit`` frames, innermost last."""
    frames = traceback.extract_tb(exc.__traceback__)[-limit:]
    return [f"{_short(f.filename)}:{f.lineno} in {f.name}" for f in frames]


def type_of(exc: BaseException) -> str:
    """The exception's qualified type, then its causes' (``A <- B``): never its message."""
    names: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(names) <= CAUSES:
        kind = type(seen)
        module = "" if kind.__module__ == "builtins" else kind.__module__ + "."
        names.append(module + kind.__qualname__)
        seen = seen.__cause__ or seen.__context__
    return " <- ".join(names)


def _exception(info: Any) -> BaseException | None:
    if info is True:
        info = sys.exc_info()
    if isinstance(info, BaseException):
        return info
    if isinstance(info, tuple) and len(info) == 3 and isinstance(info[1], BaseException):
        return info[1]
    return None


def exception_fields(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace ``exc_info`` with the exception's type and frames (see the module docs)."""
    info = event_dict.pop("exc_info", None)
    event_dict.pop("exception", None)
    event_dict.pop("stack", None)
    exc = _exception(info) if info else None
    if exc is not None:
        event_dict["exc_type"] = type_of(exc)
        event_dict["exc_where"] = frames_of(exc)
    return event_dict


def _foreign(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A stdlib record keeps the first line of its message template, never its
    arguments (which can be anything the library was handling)."""
    record = event_dict.get("_record")
    if isinstance(record, logging.LogRecord):
        template = record.msg if isinstance(record.msg, str) else type(record.msg).__name__
        event_dict["event"] = template.split("\n", 1)[0][:200]
        event_dict["logger"] = record.name
        if record.exc_info:
            event_dict["exc_info"] = record.exc_info
    return event_dict


def configure_logging(fmt: str = "auto", level: str = "info") -> None:
    """Set up structlog once for the process, and route the standard library's logging
    (websockets, asyncio) through the same processors. ``fmt``: auto, json or console."""
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    common: list[Any] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        exception_fields,
        redact,
    ]
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, *common, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[_foreign, *common],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(getattr(logging, level.upper()), logging.INFO))


#: Distinct language label values one node exports before counting the rest as "other".
MAX_LANGUAGE_LABELS = 24


class Metrics:
    """Every metric the server exports. Labels never carry content or identities."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.connections = Gauge("chatserver_connections", "Open websocket connections", registry=r)
        self.connections_total = Counter(
            "chatserver_connections_opened", "Websocket connections accepted", registry=r
        )
        self.rooms = Gauge("chatserver_rooms", "Rooms with members on this node", registry=r)
        self.frames_in = Counter(
            "chatserver_frames_in", "Frames received, by type", ["type"], registry=r
        )
        self.frames_out = Counter(
            "chatserver_frames_out",
            "Frames written to sockets (fan-out counted per socket)",
            registry=r,
        )
        self.messages = Counter("chatserver_messages", "Messages accepted for relay", registry=r)
        self.errors = Counter(
            "chatserver_errors", "Error frames sent, by code", ["code"], registry=r
        )
        self.closes = Counter(
            "chatserver_closes", "Connections closed by the server, by code", ["code"], registry=r
        )
        self.relay_latency = Histogram(
            "chatserver_relay_seconds",
            "From accepting a say to fanning it out on this node",
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=r,
        )
        self.filter_verdicts = Counter(
            "chatserver_filter_verdicts",
            "Safety filter decisions, by label and action",
            ["label", "action"],
            registry=r,
        )
        self.broker_up = Gauge(
            "chatserver_broker_up", "1 when the broker (Redis) is reachable", registry=r
        )
        self._support_and_moderation(r)

    def _support_and_moderation(self, r: CollectorRegistry) -> None:
        """The metrics of queues, moderation and resends (apart so each part reads alone)."""
        self.queue_length = Gauge(
            "chatserver_queue_length", "Seekers waiting, by topic", ["topic"], registry=r
        )
        self.queue_wait = Histogram(
            "chatserver_queue_wait_seconds",
            "Time from asking for support to being paired",
            buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800),
            registry=r,
        )
        self.moderation = Counter(
            "chatserver_moderation_actions", "Moderation actions, by kind", ["kind"], registry=r
        )
        self.resends = Counter(
            "chatserver_resends",
            "Messages sent again after a lost connection, by outcome",
            ["outcome"],
            registry=r,
        )
        self._belonging(r)

    def _belonging(self, r: CollectorRegistry) -> None:
        """Queues per language, language choices and reactions: counts only. Language
        labels are bounded (:meth:`language`)."""
        self.queue_at_risk = Gauge(
            "chatserver_queue_at_risk", "Seekers marked at risk waiting, by topic", ["topic"],
            registry=r,
        )  # fmt: skip
        self.queue_languages = Gauge(
            "chatserver_queue_language_length",
            "Seekers waiting, by topic and the language they write in",
            ["topic", "language"],
            registry=r,
        )
        self.language_unavailable = Counter(
            "chatserver_language_unavailable",
            "Seekers told that no listener who speaks their language (or none at all: "
            'language="none") is on duty, by language',
            ["language"],
            registry=r,
        )
        self.pairs = Counter(
            "chatserver_pairs",
            "One-to-one chats opened, by whether the listener speaks the seeker's language",
            ["shared"],
            registry=r,
        )
        self.reactions = Counter(
            "chatserver_reactions", "Supportive reactions given, by reaction", ["reaction"],
            registry=r,
        )  # fmt: skip
        self._languages: set[str] = set()

    def language(self, code: str) -> str:
        """``code`` as a label value: the first :data:`MAX_LANGUAGE_LABELS` languages seen
        by this node keep their code, any later one is ``other`` (bounded series)."""
        if code in self._languages:
            return code
        if len(self._languages) < MAX_LANGUAGE_LABELS:
            self._languages.add(code)
            return code
        return "other"

    def watch_broker(self, crashed: Callable[[], int]) -> None:
        """Export how many of the broker's background tasks crashed (each is restarted by
        the broker's supervisor; ``chatserver_broker_up`` is 0 until it runs again).
        Read at every scrape from the broker's ``statistics()``."""
        gauge = Gauge(
            "chatserver_broker_task_crashes",
            "Broker background tasks (publisher, reconnector, presence...) that crashed",
            registry=self.registry,
        )
        gauge.set_function(lambda: float(crashed()))

    def render(self) -> bytes:
        return generate_latest(self.registry)
