"""Scenarios: a TOML file read once, validated, then frozen.

A scenario says who connects (populations), how fast they arrive (ramp stages), what they
do (role, think time or fixed rate, message sizes, the share of messages meant to trip each
safety filter), for how long, against which nodes, and which service levels must hold.
``docs/loadtest.md`` documents every key; :func:`load` refuses unknown keys so a typo is
an error, not a silently ignored setting.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROLES = ("group", "idle", "seeker", "listener")
ENCODINGS = ("json", "msgpack")
FILTERS = ("crisis", "trauma", "pii")
BUNDLED = Path(__file__).resolve().parent / "scenarios"


class ScenarioError(ValueError):
    """The scenario file cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class Stage:
    """Over ``seconds``, bring every population linearly up to ``to`` (0..1) of its count."""

    seconds: float
    to: float


@dataclass(frozen=True, slots=True)
class Population:
    name: str
    role: str
    count: int
    topics: tuple[str, ...] = ("general",)
    #: encoding -> weight
    encodings: tuple[tuple[str, float], ...] = (("json", 1.0),)
    #: messages per second per client, fixed schedule (0: closed loop with ``think``)
    rate: float = 0.0
    #: closed loop: uniform pause between messages, seconds
    think: tuple[float, float] = (1.0, 3.0)
    #: characters of text, uniform
    size: tuple[int, int] = (20, 120)
    #: filter -> share of messages written to trip it
    trip: tuple[tuple[str, float], ...] = ()
    #: > 0: close normally and come back as a new person after this long (churn)
    session_seconds: float = 0.0
    #: idle role: join a room (True) or only hold the socket with application pings
    join: bool = True
    #: seekers: messages each side sends before the seeker ends the chat
    chat_messages: int = 6
    #: seekers: pause between two chats, seconds, uniform
    between_chats: tuple[float, float] = (1.0, 3.0)
    #: listeners: concurrent one-to-one chats offered
    capacity: int = 2
    #: offer permessage-deflate, as browsers do
    deflate: bool = False
    #: join room ids (topic, topic-2, ...) filled ``room_capacity`` at a time, instead of
    #: the topic: skips the node's search for a room with a free seat
    explicit_rooms: bool = False


@dataclass(frozen=True, slots=True)
class Slo:
    delivery_p99_ms: float | None = None
    delivery_p50_ms: float | None = None
    connect_p99_ms: float | None = None
    pairing_p99_ms: float | None = None
    loss: int | None = None
    errors: int | None = None
    connect_failures: int | None = None
    min_deliveries_per_s: float | None = None
    max_harness_cpu: float | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str = ""
    duration: float = 10.0
    drain: float = 2.0
    workers: int = 2
    seed: int = 1
    targets: tuple[str, ...] = ("ws://127.0.0.1:8765",)
    listener_secret: str = ""
    server_args: tuple[str, ...] = ()
    scrape_metrics: bool = True
    #: the nodes' room capacity: on the bare relay (no capacity of its own) the harness
    #: joins rooms topic-1, topic-2, ... of this size, the layout a node would make
    room_capacity: int = 8
    ramp: tuple[Stage, ...] = ()
    populations: tuple[Population, ...] = ()
    slo: Slo = field(default_factory=Slo)

    @property
    def ramp_seconds(self) -> float:
        return sum(stage.seconds for stage in self.ramp)

    @property
    def total_seconds(self) -> float:
        """Ramp, then the steady window, then the drain."""
        return self.ramp_seconds + self.duration + self.drain

    @property
    def clients(self) -> int:
        return sum(p.count for p in self.populations)

    def start_offset(self, index: int, count: int) -> float:
        """Seconds after the start at which client ``index`` of a population of ``count``
        connects, following the ramp (no ramp: everyone at once)."""
        want = (index + 1) / count
        t = before = 0.0
        for stage in self.ramp:
            if stage.to >= want:
                span = stage.to - before
                part = 0.0 if span <= 0 else (want - before) / span
                return t + max(0.0, part) * stage.seconds
            t += stage.seconds
            before = stage.to
        return t

    def with_changes(self, **changes: Any) -> Scenario:
        return dataclasses.replace(self, **changes)

    def scaled(self, *, rate: float = 1.0, count: float = 1.0) -> Scenario:
        """The same scenario with message rates (or think times) and counts scaled."""
        pops = []
        for p in self.populations:
            think = (p.think[0] / rate, p.think[1] / rate)
            pops.append(
                dataclasses.replace(
                    p, rate=p.rate * rate, think=think, count=max(1, round(p.count * count))
                )
            )
        return dataclasses.replace(self, populations=tuple(pops))


# ---------------------------------------------------------------------- parsing


def _pair(value: Any, key: str, kind: type) -> tuple[Any, Any]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return kind(value), kind(value)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        lo, hi = kind(value[0]), kind(value[1])
        if lo < 0 or hi < lo:
            raise ScenarioError(f"{key}: need 0 <= min <= max, not {value}")
        return lo, hi
    raise ScenarioError(f"{key}: give a number or [min, max], not {value!r}")


def _weights(value: Any, key: str, allowed: tuple[str, ...]) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, dict):
        raise ScenarioError(f"{key}: give a table such as {{ {allowed[0]} = 1 }}")
    out = []
    for name, weight in value.items():
        if name not in allowed:
            raise ScenarioError(f"{key}: unknown {name!r} (known: {', '.join(allowed)})")
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
            raise ScenarioError(f"{key}.{name}: give a number >= 0")
        out.append((name, float(weight)))
    return tuple(out)


def _check_keys(table: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")


def _population(raw: Any, index: int) -> Population:
    where = f"population[{index}]"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: must be a table")
    names = {f.name for f in dataclasses.fields(Population)}
    _check_keys(raw, names, where)
    values: dict[str, Any] = {}
    for key, value in raw.items():
        k = f"{where}.{key}"
        if key in ("think", "between_chats"):
            values[key] = _pair(value, k, float)
        elif key == "size":
            values[key] = _pair(value, k, int)
        elif key == "encodings":
            values[key] = _weights(value, k, ENCODINGS)
        elif key == "trip":
            values[key] = _weights(value, k, FILTERS)
        elif key == "topics":
            if isinstance(value, str):
                value = [value]
            if not value or not all(isinstance(t, str) and t for t in value):
                raise ScenarioError(f"{k}: give a list of topic names")
            values[key] = tuple(value)
        else:
            values[key] = value
    pop = Population(**{"name": f"pop{index}", "role": "group", "count": 1, **values})
    _validate_population(pop, where)
    return pop


def _validate_population(p: Population, where: str) -> None:
    if p.role not in ROLES:
        raise ScenarioError(f"{where}.role: one of {', '.join(ROLES)}, not {p.role!r}")
    if not isinstance(p.count, int) or p.count < 1:
        raise ScenarioError(f"{where}.count: a whole number >= 1")
    if not isinstance(p.rate, int | float) or p.rate < 0:
        raise ScenarioError(f"{where}.rate: messages per second per client, >= 0")
    if p.size[0] < 1:
        raise ScenarioError(f"{where}.size: at least 1 character")
    if not p.encodings or sum(w for _, w in p.encodings) <= 0:
        raise ScenarioError(f"{where}.encodings: at least one positive weight")
    if sum(w for _, w in p.trip) > 1:
        raise ScenarioError(f"{where}.trip: shares add up to more than 1")
    if p.capacity < 0 or p.chat_messages < 1:
        raise ScenarioError(f"{where}: capacity >= 0 and chat_messages >= 1")


def parse(data: dict[str, Any], *, default_name: str = "scenario") -> Scenario:
    top = {f.name for f in dataclasses.fields(Scenario)} - {"populations"} | {"population"}
    _check_keys(data, top, "scenario")
    values: dict[str, Any] = {"name": default_name}
    for key, value in data.items():
        if key == "population":
            if not isinstance(value, list) or not value:
                raise ScenarioError("population: give at least one [[population]] table")
            values["populations"] = tuple(_population(v, i) for i, v in enumerate(value))
        elif key == "ramp":
            stages = []
            for i, raw in enumerate(value):
                _check_keys(raw, {"seconds", "to"}, f"ramp[{i}]")
                stage = Stage(float(raw.get("seconds", 0)), float(raw.get("to", 1.0)))
                if stage.seconds < 0 or not 0 <= stage.to <= 1:
                    raise ScenarioError(f"ramp[{i}]: seconds >= 0 and 0 <= to <= 1")
                stages.append(stage)
            if stages and stages[-1].to < 1:
                raise ScenarioError("ramp: the last stage must reach to = 1")
            values["ramp"] = tuple(stages)
        elif key == "slo":
            _check_keys(value, {f.name for f in dataclasses.fields(Slo)}, "slo")
            values["slo"] = Slo(**value)
        elif key in ("targets", "server_args"):
            values[key] = tuple(value)
        else:
            values[key] = value
    if "populations" not in values:
        raise ScenarioError("population: give at least one [[population]] table")
    scenario = Scenario(**values)
    if scenario.duration <= 0 or scenario.drain < 0 or scenario.workers < 1:
        raise ScenarioError("duration > 0, drain >= 0 and workers >= 1")
    if not scenario.targets:
        raise ScenarioError("targets: at least one ws:// URL")
    return scenario


def resolve(name: str) -> Path:
    """A path, or the name of a bundled scenario (``smoke``, ``steady``, ...)."""
    path = Path(name)
    if path.exists():
        return path
    bundled = BUNDLED / (name if name.endswith(".toml") else name + ".toml")
    if bundled.exists():
        return bundled
    raise ScenarioError(f"no scenario file {name!r} (bundled: {', '.join(bundled_names())})")


def bundled_names() -> list[str]:
    return sorted(p.stem for p in BUNDLED.glob("*.toml"))


def load(name: str) -> Scenario:
    path = resolve(name)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    return parse(data, default_name=path.stem)
