"""Pipeline: ordering, redaction hand-off, failure policy, budgets, loading by name."""

from __future__ import annotations

import threading
from importlib.metadata import EntryPoint

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from structlog.testing import capture_logs

from chatserver.safety import pipeline as pipeline_mod
from chatserver.safety.base import ALLOW_VERDICT, Action, Filter, FilterInput, Verdict
from chatserver.safety.crisis import CrisisFilter
from chatserver.safety.pii import PiiFilter
from chatserver.safety.pipeline import (
    FilterSettings,
    Pipeline,
    UnknownFilterError,
    available_filters,
    build_pipeline,
)

SECRET = "my very private message 0123"
# A huge budget: a scheduler stall on a busy machine must not count as a degraded filter.
BUILTIN = build_pipeline(["crisis", "trauma_dump", "pii"], budget_ms=600_000)


class Raising:
    name = "raising"
    cpu_heavy = False

    def check(self, inp: FilterInput) -> Verdict:
        raise RuntimeError(f"boom: {inp.text}")  # an error message that quotes the text


class Waiting:
    """A cpu_heavy filter that blocks until released (no sleeping in tests)."""

    name = "waiting"
    cpu_heavy = True

    def __init__(self) -> None:
        self.release = threading.Event()

    def check(self, inp: FilterInput) -> Verdict:
        self.release.wait(timeout=10)
        return ALLOW_VERDICT


class Recorder:
    name = "recorder"
    cpu_heavy = False

    def __init__(self) -> None:
        self.seen: list[str] = []

    def check(self, inp: FilterInput) -> Verdict:
        self.seen.append(inp.text)
        return ALLOW_VERDICT


class Shout:
    """A stand-in third-party filter, loaded through a fake entry point."""

    name = "shout"
    cpu_heavy = False

    def check(self, inp: FilterInput) -> Verdict:
        if inp.text.isupper():
            return Verdict(frozenset({"shouting"}), Action.CONTENT_WARNING, "all_caps",
                           category="shouting")
        return ALLOW_VERDICT


class Ticking:
    """Injected clock: every reading is one second later than the last."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def test_empty_pipeline_allows_everything() -> None:
    result = build_pipeline([]).run_sync(FilterInput("anything at all"))
    assert result.action is Action.ALLOW
    assert result.text == "anything at all"
    assert not (result.labels or result.actions or result.notices)
    assert not (result.escalate or result.hold or result.block or result.at_risk)


def test_redaction_feeds_later_filters() -> None:
    rec = Recorder()
    p = Pipeline([PiiFilter(), rec])
    result = p.run_sync(FilterInput("text me on 07700 900123"))
    assert rec.seen == ["text me on [phone removed]"]
    assert result.text == "text me on [phone removed]"
    assert result.labels == frozenset({"pii"})
    assert Action.REDACT in result.actions


def test_result_combines_labels_and_flags() -> None:
    p = build_pipeline(["crisis", "pii"])
    result = p.run_sync(FilterInput("i want to kill myself, my number is 07700 900123"))
    assert result.labels == frozenset({"crisis", "pii"})
    assert result.escalate and result.at_risk and not result.hold
    assert result.action is Action.ESCALATE
    assert len(result.notices) == 2
    assert "07700" not in result.text
    assert result.scores["crisis"] == 1.0


@pytest.mark.parametrize(("fail_open", "action"), [(True, Action.ALLOW), (False, Action.BLOCK)])
def test_raising_filter_policy_sync(fail_open: bool, action: Action) -> None:
    p = Pipeline([Raising()], {"raising": FilterSettings(fail_open=fail_open)})
    with capture_logs() as logs:
        result = p.run_sync(FilterInput(SECRET))
    assert result.action is action
    assert result.block is (not fail_open)
    assert result.degraded == ("raising",)
    assert logs and logs[0]["filter"] == "raising" and logs[0]["reason"] == "filter_error"
    assert SECRET not in repr(logs)  # never the text, not even via the exception message
    assert p.statistics().failures == {("raising", "filter_error"): 1}


@pytest.mark.parametrize(("fail_open", "action"), [(True, Action.ALLOW), (False, Action.BLOCK)])
async def test_raising_filter_policy_async(fail_open: bool, action: Action) -> None:
    p = Pipeline([Raising()], {"raising": FilterSettings(fail_open=fail_open)})
    result = await p.run(FilterInput(SECRET))
    assert result.action is action


@pytest.mark.parametrize(("fail_open", "action"), [(True, Action.ALLOW), (False, Action.BLOCK)])
async def test_slow_cpu_heavy_filter_times_out(fail_open: bool, action: Action) -> None:
    slow = Waiting()
    p = Pipeline([slow], {"waiting": FilterSettings(budget_ms=1, fail_open=fail_open)})
    try:
        with capture_logs() as logs:
            result = await p.run(FilterInput(SECRET))
    finally:
        slow.release.set()  # let the worker thread finish
    assert result.action is action
    assert result.degraded == ("waiting",)
    assert logs[0]["reason"] == "timeout"
    assert SECRET not in repr(logs)


def test_sync_overrun_is_logged_but_result_kept() -> None:
    p = Pipeline([CrisisFilter()], {"crisis": FilterSettings(budget_ms=1)}, clock=Ticking())
    with capture_logs() as logs:
        result = p.run_sync(FilterInput("i want to kill myself"))
    assert result.escalate
    assert result.degraded == ("crisis",)
    assert logs[0]["reason"] == "over_budget"


async def test_async_run_matches_sync() -> None:
    p = build_pipeline(["crisis", "trauma_dump", "pii"])
    inp = FilterInput("i keep thinking about ending my life")
    assert (await p.run(inp)).labels == p.run_sync(inp).labels == frozenset({"crisis"})


def test_statistics_count_decisions_without_text() -> None:
    p = build_pipeline(["crisis", "pii"])
    for text in ("hello", "hi", "i want to die", "mail me at a@b.co"):
        p.run_sync(FilterInput(text))
    stats = p.statistics()
    assert stats.messages == 4
    assert stats.decisions == {
        ("none", "allow"): 2,
        ("crisis", "escalate"): 1,
        ("pii", "redact"): 1,
    }
    with pytest.raises(TypeError):
        stats.decisions[("x", "y")] = 1  # type: ignore[index]


def test_builtin_filters_are_registered() -> None:
    assert {"crisis", "trauma_dump", "pii"} <= set(available_filters())
    p = build_pipeline(["crisis", "trauma_dump", "pii"])
    assert [f.name for f in p.filters] == ["crisis", "trauma_dump", "pii"]
    assert all(isinstance(f, Filter) for f in p.filters)


def test_unknown_filter_name_is_a_clear_error() -> None:
    with pytest.raises(UnknownFilterError, match="unknown safety filter 'nope'.*crisis"):
        build_pipeline(["crisis", "nope"])


def test_fail_open_for_filter_not_in_pipeline_is_an_error() -> None:
    with pytest.raises(UnknownFilterError):
        build_pipeline(["crisis"], fail_open={"pii": False})


@pytest.fixture
def third_party(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import entry_points as real

    def fake(*, group: str) -> list[EntryPoint]:
        extra = EntryPoint(name="shout", value="tests.safety.test_pipeline:Shout", group=group)
        return [*real(group=group), extra]

    monkeypatch.setattr(pipeline_mod, "entry_points", fake)


@pytest.mark.usefixtures("third_party")
def test_third_party_filter_plugs_in_by_entry_point() -> None:
    p = build_pipeline(["shout", "crisis"], fail_open={"shout": False})
    result = p.run_sync(FilterInput("WHY IS NOBODY ANSWERING"))
    assert result.content_warning == "shouting"
    assert p.settings_for("shout") == FilterSettings(budget_ms=50, fail_open=False)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=())))
def test_builtin_pipeline_never_degrades_on_any_text(text: str) -> None:
    result = BUILTIN.run_sync(FilterInput(text))
    assert result.degraded == ()


class Worried:
    """A third-party filter with a label the pipeline has never heard of, that escalates."""

    name = "worried"
    cpu_heavy = False
    labels = frozenset({"worry"})

    def check(self, inp: FilterInput) -> Verdict:
        if "worried" in inp.text:
            return Verdict(frozenset({"worry"}), Action.ESCALATE, "worry_words", score=1.0)
        return Verdict(frozenset(), Action.ALLOW, "no_match", score=0.25)


def test_label_behaviour_comes_from_the_filters_not_from_names() -> None:
    p = Pipeline([Worried(), PiiFilter()])
    assert p.labels == {"worry", "pii"}
    result = p.run_sync(FilterInput("i am worried"))
    assert result.at_risk and result.escalate and result.labels == {"worry"}
    assert p.label_scores(result) == {"worry": 1.0, "pii": 0.0}
    calm = p.run_sync(FilterInput("all fine"))
    assert not calm.at_risk and p.label_scores(calm)["worry"] == 0.25


async def test_run_and_run_sync_share_one_loop() -> None:
    """Same filters, same inputs: the async and sync runners give equal results."""
    texts = ["i am worried", "call me on 07700 900123", "all fine", ""]
    p = Pipeline([Worried(), PiiFilter(), Recorder()])
    for t in texts:
        assert await p.run(FilterInput(t)) == p.run_sync(FilterInput(t))
