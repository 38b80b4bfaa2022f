"""The learned model: the scorer's arithmetic, rules-then-model order, context, the artifact.

Scorer tests use a tiny hand-made artifact, so they say exactly what the code does whatever
the shipped weights are. The shipped model is checked for what it must never lose: it
matches the corpus in the tree, it loads, and clear messages land on the right side.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from chatserver.safety.base import Action, FilterInput
from chatserver.safety.corpus import CORPUS_DIR, load_corpus
from chatserver.safety.crisis import CrisisFilter
from chatserver.safety.features import features
from chatserver.safety.model import ModelError, SafetyModel, load_model
from chatserver.safety.trauma import TraumaDumpFilter

W = "\x01"  # word-feature prefix (see chatserver.safety.features)


def _artifact(**over: Any) -> dict[str, Any]:
    crisis = {"bias": -1.0, "threshold": 1.0, "context_threshold": -0.5,
              "weights": {W + "pointless": 30.0, W + "bye": 6.0}}
    trauma = {"bias": -1.0, "threshold": 0.0, "min_words": 8, "weights": {W + "gushing": 40.0}}
    art: dict[str, Any] = {"format": 1, "meta": {}, "heads": {"crisis": crisis,
                                                             "trauma_dump": trauma}}
    art.update(over)
    return art


TOY = SafetyModel(_artifact())


def test_margin_is_bias_plus_weights_over_root_of_feature_count() -> None:
    text = "so pointless"
    n = len(features(text))
    assert TOY.crisis_margin(text) == pytest.approx(-1.0 + 30.0 / math.sqrt(n))
    assert TOY.crisis_margin("") == -1.0  # no features: the bias alone


def test_features_are_sets_of_char_grams_and_words() -> None:
    f = features("no point")
    assert {" n", "no", " poi", "oint", W + "no", W + "point", W + "no point"} <= f
    assert features("") == set()


def test_model_fires_when_rules_do_not() -> None:
    f = CrisisFilter(TOY)
    v = f.check(FilterInput("honestly it all feels pointless"))
    assert v.labels == {"crisis"} and v.action is Action.ESCALATE
    assert v.reason == "risk_language" and v.notice


def test_rules_answer_first_with_their_reason() -> None:
    v = CrisisFilter(TOY).check(FilterInput("i want to kill myself"))
    assert v.reason == "suicidal_ideation"


def test_listeners_never_trigger_the_model() -> None:
    v = CrisisFilter(TOY).check(FilterInput("it all feels pointless", role="listener"))
    assert v.action is Action.ALLOW and not v.labels


def test_goodbye_escalates_after_a_recent_crisis_message_only() -> None:
    f = CrisisFilter(TOY)
    bye = "ok bye now"
    alone = f.check(FilterInput(bye))
    assert not alone.labels and 0 < alone.score < 1
    after = f.check(FilterInput(bye, recent=("lunch was nice", "everything is pointless")))
    assert after.labels == {"crisis"} and after.reason == "risk_after_recent"
    calm = f.check(FilterInput(bye, recent=("lunch was nice",)))
    assert not calm.labels


def test_trauma_head_only_scores_long_messages() -> None:
    f = TraumaDumpFilter(TOY)
    assert TOY.trauma_margin("gushing") is None
    long = "it was gushing out of him and i could not make it stop at all"
    v = f.check(FilterInput(long))
    assert v.labels == {"trauma_dump"} and v.action is Action.HOLD and v.category
    v = f.check(FilterInput(long, room_consent=True))
    assert v.action is Action.CONTENT_WARNING


@pytest.mark.parametrize(
    "bad",
    [{"format": 99}, {"format": 1}, {"format": 1, "heads": {"crisis": {"bias": 0}}}],
)
def test_malformed_artifact_is_a_model_error(bad: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises((ModelError, KeyError)):
        SafetyModel(bad)
    path = tmp_path / "m.json"
    path.write_text("not json")
    with pytest.raises(ModelError):
        load_model(path)


# ---------------------------------------------------------------------- the shipped model
def test_artifact_was_built_from_the_corpus_in_the_tree() -> None:
    """Retrain (`python -m chatserver.safety.train`) whenever the corpus changes."""
    from chatserver.safety.train import corpus_sha256

    examples = load_corpus()
    assert examples, f"no corpus in {CORPUS_DIR}"
    meta = load_model().meta
    assert meta["corpus_sha256"] == corpus_sha256(examples)
    assert meta["examples"] == len(examples)


def test_shipped_thresholds_are_sane() -> None:
    m = load_model()
    assert m.context_threshold <= m.crisis.threshold
    assert len(m.crisis.weights) > 1000 and len(m.trauma.weights) > 100
    assert m.trauma_min_words >= 20


# Written for this test (not from the dev set or the corpus): unmistakable either way.
CLEAR_RISK = [
    "i have all my pills counted out on the desk and i am going to swallow them tonight",
    "ya tengo las pastillas en la mano, esta noche me las tomo todas y se acabo",
    "ich habe die tabletten schon gesammelt und heute nacht nehme ich alle",
]
CLEARLY_FINE = [
    "what a lovely sunny morning, off to the bakery with my dog",
    "que bonito dia, voy a la playa con mis amigos",
    "heute koche ich nudeln mit tomatensosse fuer meine familie",
]


@pytest.mark.parametrize("text", CLEAR_RISK)
def test_shipped_filter_flags_clear_risk(text: str) -> None:
    assert CrisisFilter().check(FilterInput(text)).labels == {"crisis"}


@pytest.mark.parametrize("text", CLEARLY_FINE)
def test_shipped_filter_leaves_everyday_chat_alone(text: str) -> None:
    v = CrisisFilter().check(FilterInput(text, recent=("hi", "how is everyone")))
    assert not v.labels and v.score < 1.0


def test_training_is_deterministic_on_a_slice() -> None:
    """Two trainings of the same slice give the same bytes (the full run is the CLI's)."""
    from chatserver.safety.train import build_artifact, dumps

    examples = load_corpus()[::12]
    first = dumps(build_artifact(examples))
    assert first == dumps(build_artifact(examples))
    assert SafetyModel(__import__("orjson").loads(first)).meta["examples"] == len(examples)
