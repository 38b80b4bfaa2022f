"""The learned model at run time: a small JSON artifact and a pure-Python linear scorer.

``model.json`` (beside this module, rebuilt by ``python -m chatserver.safety.train``) holds
two linear heads over the feature sets of :mod:`chatserver.safety.features`:

- ``crisis``: every message a seeker sends;
- ``trauma_dump``: only messages of at least ``min_words`` words (a dump is long by
  definition, so short messages never pay for it).

A head's margin is ``bias + sum(weights[f] for f in features) / sqrt(len(features))``:
a logistic regression over unit-length presence vectors, exported as a plain dict so that
scoring needs no numpy or scikit-learn, loads in tens of milliseconds and costs a few
dict look-ups per character. Each head stores the threshold chosen on grouped
cross-validation when it was trained, and the artifact stores the SHA-256 of the corpus it
was built from (a test checks it against the corpus in the tree).

Thread-safe: a loaded model is never mutated, and the per-text margin cache is an
``lru_cache`` (its own lock).

Exceptions: ``ModelError`` (a ``ValueError``): the artifact is missing or malformed.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from chatserver.safety.features import features
from chatserver.safety.normalize import analyze

__all__ = ["ARTIFACT_PATH", "FORMAT", "Head", "ModelError", "SafetyModel", "load_model"]

ARTIFACT_PATH = Path(__file__).with_name("model.json")
FORMAT = 1
_CACHE = 4096  # margins kept per model: a sender's recent messages are scored once


class ModelError(ValueError):
    """The model artifact is missing or malformed (our data, not the peer's)."""


@dataclass(frozen=True, slots=True)
class Head:
    """One linear classifier: ``margin >= threshold`` fires its label."""

    bias: float
    weights: Mapping[str, float]
    threshold: float

    def margin(self, feats: set[str]) -> float:
        """The raw linear score of a feature set (see the module docstring)."""
        if not feats:
            return self.bias
        get = self.weights.get
        return self.bias + sum([get(f, 0.0) for f in feats]) / math.sqrt(len(feats))

    def confidence(self, margin: float) -> float:
        """A score in [0, 1] with 1.0 at the threshold: 2 * sigmoid(margin - threshold)."""
        x = margin - self.threshold
        if x >= 0:
            return 1.0
        return round(2.0 / (1.0 + math.exp(-x)), 3)


def _head(raw: Any) -> Head:
    if not isinstance(raw, dict) or not isinstance(raw.get("weights"), dict):
        raise ModelError("each head needs 'bias', 'threshold' and a 'weights' object")
    return Head(float(raw["bias"]), raw["weights"], float(raw["threshold"]))


class SafetyModel:
    """The two heads plus the context rule; see the module docstring."""

    def __init__(self, artifact: Mapping[str, Any]) -> None:
        if artifact.get("format") != FORMAT:
            raise ModelError(f"model artifact format {artifact.get('format')!r}, want {FORMAT}")
        heads = artifact.get("heads")
        if not isinstance(heads, dict):
            raise ModelError("model artifact has no 'heads'")
        self.crisis = _head(heads.get("crisis"))
        self.trauma = _head(heads.get("trauma_dump"))
        self.context_threshold = float(heads["crisis"]["context_threshold"])
        self.trauma_min_words = int(heads["trauma_dump"]["min_words"])
        self.meta: Mapping[str, Any] = dict(artifact.get("meta", {}))
        self.margins = functools.lru_cache(maxsize=_CACHE)(self._margins)

    def _margins(self, text: str) -> tuple[float, float | None]:
        """(crisis margin, trauma margin or None below ``trauma_min_words``), features once."""
        a = analyze(text)
        feats = features(a.text)
        trauma = self.trauma.margin(feats) if a.n_words >= self.trauma_min_words else None
        return self.crisis.margin(feats), trauma

    def crisis_margin(self, text: str) -> float:
        """The crisis head's margin of one message (cached: see ``margins``)."""
        return self.margins(text)[0]

    def crisis_after(self, margin: float, recent: tuple[str, ...]) -> bool:
        """A message that is not crisis alone, read after the sender's recent messages.

        Fires when its own margin clears the (lower) context threshold and one of the last
        three messages cleared the full one: "thank you for everything, bye" after "there's
        no point any more". The earlier margins come from the cache in live use.
        """
        if margin < self.context_threshold or not recent:
            return False
        limit = self.crisis.threshold
        return any(self.crisis_margin(t) >= limit for t in recent[-3:])

    def trauma_margin(self, text: str) -> float | None:
        """The trauma head's margin, or None below ``trauma_min_words`` (never a dump)."""
        return self.margins(text)[1]


@functools.lru_cache(maxsize=4)
def load_model(path: Path | str | None = None) -> SafetyModel:
    """Read and check the artifact once per path (shared by every filter of a process)."""
    file = Path(path) if path is not None else ARTIFACT_PATH
    try:
        data = orjson.loads(file.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ModelError(f"cannot read safety model {file}; rebuild it with "
                         "`python -m chatserver.safety.train`") from exc
    if not isinstance(data, dict):
        raise ModelError("model artifact must hold a JSON object")
    return SafetyModel(data)
