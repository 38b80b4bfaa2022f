"""The filter pipeline: ordered filters, per-filter time budgets and failure policy.

Every message goes through the same ordered list. A filter that redacts hands the redacted
text to the filters after it, so no later filter (or log) sees what was removed. A filter
that raises or overruns its budget must not take the room down with it: it is logged by
name and reason code (never the text) and its verdict becomes ALLOW (``fail_open``, the
default: a person in distress must not be silenced by our bug) or BLOCK (fail-closed, for
filters whose miss is worse than a dropped message).

What a label *means* comes from the filters, never from a name here: a filter declares the
labels it may emit (``labels``), and its verdict's action says what to do; ``at_risk`` is
simply "some filter escalated". Both runners share one filter loop (``_steps``, a
generator that yields each filter to run), so they cannot drift apart.

``run`` is the server path: cheap filters run inline, ``cpu_heavy`` ones in a worker thread
under ``asyncio.wait_for``; ``run_sync`` is for the classify command and benchmarks, where
a budget overrun is logged but the result kept (nothing can preempt a synchronous call, and
throwing away a finished answer helps nobody).

Filters are found by name through the ``chatserver.filters`` entry-point group, so a
third-party package can ship one without touching this repository.

Exceptions: ``FilterError`` (base) <- ``UnknownFilterError`` (a name no package provides),
``FilterLoadError`` (the entry point failed to import or build).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections import Counter
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

from chatserver.safety.base import Action, Filter, FilterInput, Verdict
from chatserver.safety.result import PipelineResult, PipelineStatistics, combine

__all__ = [
    "ENTRY_POINT_GROUP",
    "FilterError",
    "FilterLoadError",
    "FilterSettings",
    "Pipeline",
    "PipelineResult",
    "PipelineStatistics",
    "UnknownFilterError",
    "available_filters",
    "build_pipeline",
]

ENTRY_POINT_GROUP = "chatserver.filters"


class Logger(Protocol):
    """The slice of a structlog logger the pipeline uses."""

    def warning(self, event: str, **kw: Any) -> Any: ...


def _default_logger() -> Logger:
    # Imported on first use: failures are rare, and structlog's import is slow enough to
    # show in the classify command's start-up time.
    import structlog

    logger: Logger = structlog.get_logger("chatserver.safety")
    return logger


_FAIL_CLOSED_NOTICE = (
    "We couldn't check your message just now, so it hasn't been sent yet. Please try again in "
    "a moment."
)


class FilterError(Exception):
    """Base of the errors this module raises (configuration errors, our side)."""


class UnknownFilterError(FilterError, LookupError):
    """No installed package provides a filter of that name."""


class FilterLoadError(FilterError):
    """A filter's entry point failed to import or construct."""


@dataclass(frozen=True, slots=True)
class FilterSettings:
    """How the pipeline treats one filter."""

    budget_ms: float = 50.0
    fail_open: bool = True


_Step = tuple[Filter, FilterInput, float]  # a filter to run, its input, its budget (s)
_Outcome = tuple[Verdict, bool]  # its verdict, and whether it failed or overran


def _declared(f: Filter) -> frozenset[str]:
    """The labels a filter declares (optional class attribute ``labels``; none if absent)."""
    labels = getattr(f, "labels", None)
    return labels if isinstance(labels, frozenset) else frozenset()


class Pipeline:
    """Runs filters in order; see the module docstring for the failure policy."""

    def __init__(
        self,
        filters: Sequence[Filter],
        settings: Mapping[str, FilterSettings] | None = None,
        *,
        clock: Callable[[], float] = time.perf_counter,
        logger: Logger | None = None,
    ) -> None:
        self.filters: tuple[Filter, ...] = tuple(filters)
        self._settings = dict(settings or {})
        self._names = tuple(f.name for f in self.filters)
        self._budgets_s = [self.settings_for(n).budget_ms / 1000.0 for n in self._names]
        self._clock = clock
        self._logger = logger
        self._messages = 0
        self._plain = 0
        self._decisions: Counter[tuple[str, str]] = Counter()
        self._failures: Counter[tuple[str, str]] = Counter()

    @property
    def labels(self) -> frozenset[str]:
        """Every label the pipeline's filters declare they may emit (``Filter`` ``labels``)."""
        return frozenset(lab for f in self.filters for lab in _declared(f))

    def label_scores(self, result: PipelineResult) -> dict[str, float]:
        """Label -> the highest score a filter declaring it gave (0.0 when none scored)."""
        out: dict[str, float] = {}
        for f, v in zip(self.filters, result.verdicts, strict=True):
            for lab in _declared(f):
                out[lab] = max(out.get(lab, 0.0), v.score)
        return out

    @property
    def log(self) -> Logger:
        """structlog by default (resolved lazily); never given message text."""
        if self._logger is None:
            self._logger = _default_logger()
        return self._logger

    def settings_for(self, name: str) -> FilterSettings:
        return self._settings.get(name, FilterSettings())

    # ------------------------------------------------------------------ failure policy
    def _failed(self, f: Filter, reason: str, exc: BaseException | None = None) -> Verdict:
        s = self.settings_for(f.name)
        self._failures[(f.name, reason)] += 1
        # Never log the text, nor the exception message (it may quote the text).
        self.log.warning(
            "safety_filter_failed",
            filter=f.name,
            reason=reason,
            error_type=type(exc).__name__ if exc else None,
            fail_open=s.fail_open,
        )
        if s.fail_open:
            return Verdict(frozenset(), Action.ALLOW, reason)
        return Verdict(
            frozenset({"filter_unavailable"}), Action.BLOCK, reason, notice=_FAIL_CLOSED_NOTICE
        )

    def _overran(self, f: Filter, started: float, budget_s: float) -> bool:
        elapsed = self._clock() - started
        if elapsed > budget_s:
            elapsed_ms = elapsed * 1000.0
            self._failures[(f.name, "over_budget")] += 1
            self.log.warning(
                "safety_filter_over_budget",
                filter=f.name,
                reason="over_budget",
                elapsed_ms=round(elapsed_ms, 3),
            )
            return True
        return False

    @staticmethod
    def _redacted(inp: FilterInput, v: Verdict) -> FilterInput:
        """Later filters see the redacted text, never the original."""
        if v.text is None:
            return inp
        return FilterInput(
            v.text, inp.role, inp.recent, inp.lang, inp.room_consent, inp.confirmed_warning
        )

    def _finish(
        self, inp: FilterInput, verdicts: list[Verdict], degraded: list[str], plain: bool
    ) -> PipelineResult:
        result = combine(inp.text, verdicts, self._names, degraded, plain)
        self._messages += 1
        if plain:
            self._plain += 1  # counted apart: the hot path skips hashing a tuple key
            return result
        action = result.action.value
        if not result.labels:
            self._decisions[("none", action)] += 1
        for lab in result.labels:
            self._decisions[(lab, action)] += 1
        return result

    # ------------------------------------------------------------------ the filter loop
    def _steps(self, inp: FilterInput) -> Generator[_Step, _Outcome, PipelineResult]:
        """The one filter loop, free of I/O: yields each filter to run, receives its outcome.

        ``run_sync`` and ``run`` only differ in how they execute a step (inline, or in a
        worker thread under a deadline), so ordering, redaction hand-over and the result
        live here once.
        """
        verdicts: list[Verdict] = []
        degraded: list[str] = []
        plain = True
        for f, budget_s in zip(self.filters, self._budgets_s, strict=True):
            v, failed = yield f, inp, budget_s
            if failed:
                degraded.append(f.name)
            verdicts.append(v)
            if v.action is not Action.ALLOW or v.labels:
                plain = False
                if v.action is Action.REDACT:
                    inp = self._redacted(inp, v)
        return self._finish(inp, verdicts, degraded, plain)

    def _inline(self, f: Filter, inp: FilterInput, budget_s: float) -> _Outcome:
        """Run one filter in this thread; an overrun is logged and its answer kept."""
        started = self._clock()
        try:
            v = f.check(inp)
        except Exception as exc:
            return self._failed(f, "filter_error", exc), True
        if self._clock() - started > budget_s and self._overran(f, started, budget_s):
            return v, True
        return v, False

    async def _threaded(self, f: Filter, inp: FilterInput, budget_s: float) -> _Outcome:
        """Run a ``cpu_heavy`` filter in a worker thread, its budget enforced."""
        try:
            return await asyncio.wait_for(asyncio.to_thread(f.check, inp), budget_s), False
        except TimeoutError as exc:
            return self._failed(f, "timeout", exc), True
        except Exception as exc:
            return self._failed(f, "filter_error", exc), True

    # ------------------------------------------------------------------ runners
    def run_sync(self, inp: FilterInput) -> PipelineResult:
        """Run every filter in this thread (classify command, benchmarks, tests)."""
        steps = self._steps(inp)
        try:
            step = next(steps)
            while True:
                step = steps.send(self._inline(*step))
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    async def run(self, inp: FilterInput) -> PipelineResult:
        """Run every filter; ``cpu_heavy`` ones in a thread with the budget enforced."""
        steps = self._steps(inp)
        try:
            step = next(steps)
            while True:
                outcome = await self._threaded(*step) if step[0].cpu_heavy else self._inline(*step)
                step = steps.send(outcome)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]

    def statistics(self) -> PipelineStatistics:
        """Frozen snapshot of the counters."""
        decisions = dict(self._decisions)
        if self._plain:
            decisions[("none", Action.ALLOW.value)] = (
                decisions.get(("none", Action.ALLOW.value), 0) + self._plain
            )
        return PipelineStatistics(
            messages=self._messages,
            decisions=MappingProxyType(decisions),
            failures=MappingProxyType(dict(self._failures)),
        )


# ---------------------------------------------------------------------- loading
def available_filters() -> tuple[str, ...]:
    """Names of every filter installed in the ``chatserver.filters`` group."""
    return tuple(sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}))


def _instantiate(name: str, factory: Any, resources_path: Path | str | None) -> Filter:
    kwargs: dict[str, Any] = {}
    if resources_path is not None:
        try:
            params = inspect.signature(factory).parameters
        except (TypeError, ValueError):
            params = MappingProxyType({})
        if "resources_path" in params:
            kwargs["resources_path"] = resources_path
    obj = factory(**kwargs)
    if not isinstance(obj, Filter):
        raise FilterLoadError(f"filter {name!r} does not implement the Filter protocol")
    return obj


def build_pipeline(
    names: Sequence[str],
    *,
    budget_ms: float = 50,
    fail_open: Mapping[str, bool] | None = None,
    resources_path: Path | str | None = None,
    logger: Logger | None = None,
) -> Pipeline:
    """Load filters by entry-point name, in the given order. ``[]`` allows everything.

    ``fail_open`` overrides the default (True) per filter name; ``resources_path`` is passed
    to filters whose constructor accepts it (the crisis-line file).
    """
    eps = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    policy = dict(fail_open or {})
    unknown = sorted(set(policy) - set(names))
    if unknown:
        raise UnknownFilterError(f"fail_open given for filters not in the pipeline: {unknown}")
    filters: list[Filter] = []
    for name in names:
        ep = eps.get(name)
        if ep is None:
            known = ", ".join(sorted(eps)) or "none installed"
            raise UnknownFilterError(f"unknown safety filter {name!r} (available: {known})")
        try:
            filters.append(_instantiate(name, ep.load(), resources_path))
        except FilterLoadError:
            raise
        except Exception as exc:
            raise FilterLoadError(f"could not load safety filter {name!r}") from exc
    settings = {
        f.name: FilterSettings(budget_ms=budget_ms, fail_open=policy.get(n, True))
        for n, f in zip(names, filters, strict=True)
    }
    return Pipeline(filters, settings, logger=logger)
