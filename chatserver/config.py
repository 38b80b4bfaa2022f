"""Settings: parsed and validated once at start-up, then frozen.

Every setting is a field of :class:`Settings` with a help text; the command line flag
(``--max-text``) and the environment variable (``CHATSERVER_MAX_TEXT``) are derived from
the field name, so ``chatserver --help`` always lists every setting. Precedence: flag, then
environment, then default.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatserver.tokens import SHIFT_SECONDS
from protocol.fields import LANGUAGE

ENV_PREFIX = "CHATSERVER_"
DEFAULT_TOPICS = (
    "anxiety",
    "depression",
    "grief",
    "loneliness",
    "relationships",
    "trauma",
    "general",
)
REDIS_SCHEMES = ("redis", "rediss", "redis+cluster", "unix")


LOOPBACK = ("127.0.0.1", "::1", "localhost")


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the setting."""


def _s(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = _s("127.0.0.1", "Address to listen on.")
    port: int = _s(8765, "TCP port for websockets and HTTP (/healthz, /readyz, /metrics).")
    node_id: str = _s("", "Name of this node in presence data (default: random).")
    redis_url: str = _s(
        "", "Redis URL (redis://, rediss://, or redis+cluster://). Empty: embedded broker."
    )
    topics: tuple[str, ...] = _s(DEFAULT_TOPICS, "Comma-separated topic catalogue.")
    max_text: int = _s(4000, "Longest message text, in characters.")
    max_frame_bytes: int = _s(65536, "Largest websocket frame accepted, in bytes.")
    compression: bool = _s(
        False,
        "Offer permessage-deflate (saves bandwidth on long messages; costs ~45 KiB of "
        "memory per connection).",
    )
    listen_backlog: int = _s(1024, "Pending TCP connections the kernel queues (connect storms).")
    room_capacity: int = _s(8, "Most members in one group room.")
    max_group_rooms: int = _s(
        1000, "Group rooms per topic (the topic's seats: this times room_capacity)."
    )
    seats_per_connection: int = _s(
        3, "Group rooms one seeker's connection may be in at once (staff: no limit)."
    )
    address_topic_share: float = _s(
        0.05,
        "Largest share of a topic's seats that one client address may hold on a node "
        "(never below one room; counted in memory only).",
    )
    max_seats: int = _s(
        0, "Seats this node gives out in all (0: no limit); past it newcomers are asked to wait."
    )
    history_size: int = _s(100, "Messages kept per room for resume (the replay history).")
    history_seconds: int = _s(600, "Longest time a message stays in the replay history.")
    resume_grace: float = _s(60.0, "Seconds a dropped session keeps its seats for resume.")
    presence_ttl: float = _s(15.0, "Seconds before a silent node's members are removed.")
    idle_timeout: float = _s(
        120.0, "Close a connection that is in no room or queue and sends nothing this long."
    )
    ping_interval: float = _s(20.0, "Seconds between websocket pings (0: none).")
    send_queue_bytes: int = _s(
        1_048_576, "Bytes buffered for a client before it is closed as too slow."
    )
    rate_per_second: float = _s(5.0, "Sustained frames per second per connection.")
    rate_burst: int = _s(20, "Frames a connection may send in a burst.")
    max_connections_per_address: int = _s(
        50, "Connections from one client address (kept in memory only, never logged)."
    )
    trust_forwarded_for: bool = _s(
        False, "Behind a proxy: take the client address from X-Forwarded-For (last hop)."
    )
    allowed_origins: tuple[str, ...] = _s(
        (), "Comma-separated Origin allow-list for browsers (empty: any origin)."
    )
    filters: tuple[str, ...] = _s(
        ("pii", "crisis", "trauma_dump"), "Comma-separated safety filters, in order."
    )
    filter_budget_ms: float = _s(50.0, "Time budget per filter, in milliseconds.")
    listener_secret: str = _s(
        "",
        "Secret that signs listener tokens (default: random; then, on a loopback address, "
        "/listener offers a local demo sign-in).",
    )
    revoked_listeners_file: str = _s(
        "", "File of revoked listener ids, one per line, re-read when it changes."
    )
    listener_token_ttl: int = _s(
        SHIFT_SECONDS,
        "Seconds a listener token lives (a shift and its handover); the server refuses a "
        "token that would live longer, and 'listener-token' issues this by default.",
    )
    removal_cooldown: float = _s(
        900.0, "Seconds before someone removed from a room may rejoin that topic's rooms."
    )
    report_retention: float = _s(72 * 3600.0, "Seconds a moderation report is kept.")
    report_queue_size: int = _s(1000, "Most open moderation reports kept (oldest dropped).")
    drain_seconds: float = _s(10.0, "Longest time a draining node waits before exiting.")
    default_language: str = _s(
        "en",
        "Language of a seeker who does not say one, of a listener token without languages, "
        "and of the topics' first group rooms.",
    )
    room_languages: tuple[str, ...] = _s(
        (),
        "Comma-separated languages that get their own group rooms per topic (grief@es), "
        "besides the default language's.",
    )
    language_choice_again: float = _s(
        180.0,
        "Seconds before a waiting seeker is told again that no listener who speaks their "
        "language (or no listener at all) is on duty.",
    )
    metrics_address: str = _s(
        "",
        "host:port to serve /metrics on, apart from the public port (empty: on the public "
        "port). Set, /metrics is no longer served on the public port.",
    )
    log_format: str = _s("auto", "Log format: auto (console on a terminal), json or console.")
    log_level: str = _s("info", "Log level: debug, info, warning or error.")
    #: derived, not a flag: the secret is random and the node listens on loopback only, so
    #: /listener may hand a local demo sign-in to a browser on this machine
    local_demo: bool = field(default=False, metadata={"internal": True})

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be 0..65535, not {self.port}")
        for name in (
            "max_text", "max_frame_bytes", "room_capacity", "history_size", "max_group_rooms",
            "seats_per_connection", "listener_token_ttl",
        ):  # fmt: skip
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")
        if not 0 < self.address_topic_share <= 1:
            raise ConfigError("address_topic_share must be above 0 and at most 1")
        if self.max_seats < 0:
            raise ConfigError("max_seats must be 0 (no limit) or more")
        if not self.topics:
            raise ConfigError("topics must name at least one topic")
        if self.log_format not in ("auto", "json", "console"):
            raise ConfigError("log_format must be auto, json or console")
        if self.log_level not in ("debug", "info", "warning", "error"):
            raise ConfigError("log_level must be debug, info, warning or error")
        scheme = self.redis_url.partition("://")[0] if "://" in self.redis_url else None
        if self.redis_url and scheme not in REDIS_SCHEMES:
            raise ConfigError(
                "redis_url must start with " + ", ".join(f"{s}://" for s in REDIS_SCHEMES)
            )
        if not self.node_id:
            object.__setattr__(self, "node_id", secrets.token_hex(4))
        if not self.listener_secret:
            object.__setattr__(self, "listener_secret", secrets.token_hex(32))
            object.__setattr__(self, "local_demo", self.host in LOOPBACK)
        self._check_languages()
        if self.metrics_address:
            host, _, port = self.metrics_address.rpartition(":")
            if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
                raise ConfigError("metrics_address must be host:port, e.g. 127.0.0.1:9100")

    def _check_languages(self) -> None:
        codes = (self.default_language, *self.room_languages)
        if not all(LANGUAGE.matches(code) for code in codes):
            raise ConfigError("default_language and room_languages must be codes such as en or es")
        if self.language_choice_again <= 0:
            raise ConfigError("language_choice_again must be above 0")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _convert(kind: Any, raw: str, name: str) -> Any:
    try:
        if kind is bool:
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if typing.get_origin(kind) is tuple:
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        return kind(raw)
    except ValueError as exc:
        raise ConfigError(
            f"{name}: cannot read {raw!r} as {getattr(kind, '__name__', kind)}"
        ) from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting; defaults stay None so the environment can fill them."""
    for f in dataclasses.fields(Settings):
        if f.metadata.get("internal"):
            continue
        env = ENV_PREFIX + f.name.upper()
        default = f.default
        shown = ",".join(default) if isinstance(default, tuple) else default
        parser.add_argument(
            _flag(f.name),
            dest=f.name,
            default=None,
            metavar=f.name.upper(),
            help=f"{f.metadata['help']} [env {env}; default {shown!r}]",
        )


def settings_from(
    args: argparse.Namespace | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the frozen settings: flags beat environment beats defaults; overrides beat all."""
    environ = os.environ if environ is None else environ
    hints = typing.get_type_hints(Settings)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(Settings):
        if f.metadata.get("internal"):
            continue
        raw = getattr(args, f.name, None) if args is not None else None
        if raw is None:
            raw = environ.get(ENV_PREFIX + f.name.upper())
        if raw is not None:
            values[f.name] = _convert(hints[f.name], raw, f.name)
    values.update(overrides)
    try:
        return Settings(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from exc


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    parser = argparse.ArgumentParser(prog="chatserver")
    add_arguments(parser)
    return settings_from(parser.parse_args(argv))
