"""Train the learned safety model and write ``model.json``: ONE command, deterministic.

    python -m chatserver.safety.train            # rebuild chatserver/safety/model.json
    python -m chatserver.safety.train --check    # exit 1 if the artifact is stale

Needs the ``[train]`` extra (numpy, scipy, scikit-learn); the server does not.

Steps, all deterministic (sorted vocabularies, a fixed fold split, liblinear with a fixed
seed, one BLAS thread, weights rounded to 4 decimals, keys sorted in the JSON):

1. Load the corpus (``chatserver/safety/corpus/*.jsonl``) and fold every text once.
2. Grouped, kind-stratified 5-fold cross-validation (no ``group`` on both sides) gives an
   out-of-fold margin for every message.
3. Thresholds are chosen on those out-of-fold margins *together with the rules* (the live
   filter is rules OR model): crisis at the lowest margin whose false-positive rate stays
   within ``FPR_TARGET``; trauma_dump where
   min(recall, precision) is best, but never below the head's bias (the message's own
   words must point towards a dump); the context threshold where the
   model alone flags ``CONTEXT_FPR`` of the negatives.
4. Both heads are refitted on the whole corpus and written with the thresholds and the
   corpus hash. The blind dev set is never read.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from chatserver.safety.base import FilterInput
from chatserver.safety.corpus import CORPUS_DIR, Example, load_corpus
from chatserver.safety.crisis import THRESHOLD as CRISIS_RULE_THRESHOLD
from chatserver.safety.crisis import assess
from chatserver.safety.features import CHAR_SIZES, features
from chatserver.safety.model import ARTIFACT_PATH, FORMAT, Head
from chatserver.safety.normalize import analyze
from chatserver.safety.trauma import rule_verdict as trauma_rule_verdict

__all__ = ["Prepared", "build_artifact", "corpus_sha256", "fit_head", "main", "prepare"]

C_CRISIS = 32.0  # inverse regularisation strength, chosen on grouped CV (2, 8, 32 tried)
C_TRAUMA = 8.0  # not tuned separately (the crisis default we started from)
KEEP = 20_000  # features kept per head (largest |weight|): size, memory and speed
FPR_TARGET = 0.03  # crisis false-positive rate the issue allows (chosen on CV, never on dev)
CONTEXT_FPR = 0.10  # share of negatives that a recent crisis message lifts to crisis
TRAUMA_MIN_WORDS = 40  # the trauma head only scores messages this long
FOLDS = 5


def corpus_sha256(examples: Sequence[Example]) -> str:
    """Hash of the corpus content (order- and file-name-independent)."""
    h = hashlib.sha256()
    for e in sorted(examples, key=lambda e: e.id):
        row = [e.id, e.text, e.lang, e.crisis, e.trauma_dump, e.kind, e.group]
        h.update(orjson.dumps(row) + b"\n")
    return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Prepared:
    """The corpus as training sees it: features, labels, groups and rule decisions."""

    examples: tuple[Example, ...]
    feats: tuple[set[str], ...]
    n_words: tuple[int, ...]
    rules_crisis: tuple[bool, ...]
    rules_trauma: tuple[bool, ...]


def prepare(examples: Sequence[Example]) -> Prepared:
    """Fold, featurise and run the rules on every example once."""
    feats, n_words, rc, rt = [], [], [], []
    for e in examples:
        a = analyze(e.text)
        feats.append(features(a.text))
        n_words.append(a.n_words)
        rc.append(assess(e.text).score >= CRISIS_RULE_THRESHOLD)
        rt.append(bool(trauma_rule_verdict(FilterInput(e.text)).labels))
    return Prepared(tuple(examples), tuple(feats), tuple(n_words), tuple(rc), tuple(rt))


def _matrix(feats: Sequence[set[str]], index: dict[str, int]) -> Any:
    """Unit-length presence rows (``1/sqrt(n)``, ``n`` counting unknown features too)."""
    import numpy as np
    from scipy.sparse import csr_matrix

    rows, cols, vals = [], [], []
    for r, fs in enumerate(feats):
        value = 1.0 / len(fs) ** 0.5 if fs else 0.0
        known = sorted(index[f] for f in fs if f in index)
        rows.extend([r] * len(known))
        cols.extend(known)
        vals.extend([value] * len(known))
    shape = (len(feats), len(index))
    return csr_matrix((np.array(vals), (np.array(rows), np.array(cols))), shape=shape)


def fit_head(
    feats: Sequence[set[str]], labels: Sequence[bool], c: float
) -> tuple[float, dict[str, float]]:
    """Fit one logistic-regression head; returns (bias, pruned rounded weights)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    vocab = sorted(set().union(*feats))
    index = {f: i for i, f in enumerate(vocab)}
    y = np.array(labels, dtype=np.int8)
    if y.min() == y.max():  # one class only (a tiny slice): a constant head
        return (4.0 if y[0] else -4.0), {}
    clf = LogisticRegression(
        C=c, class_weight="balanced", solver="liblinear", random_state=0, max_iter=2000
    )
    clf.fit(_matrix(feats, index), y)
    coef = clf.coef_[0]
    order = np.argsort(-np.abs(coef), kind="stable")[:KEEP]
    weights = {vocab[i]: round(float(coef[i]), 4) for i in sorted(order)}
    return round(float(clf.intercept_[0]), 4), {k: v for k, v in weights.items() if v}


def _trauma_rows(prep: Prepared, idx: Sequence[int]) -> list[int]:
    return [i for i in idx if prep.n_words[i] >= TRAUMA_MIN_WORDS]


def fit_heads(prep: Prepared, idx: Sequence[int]) -> tuple[Head, Head]:
    """Both heads fitted on the rows ``idx`` (thresholds left at 0)."""
    ex = prep.examples
    b, w = fit_head([prep.feats[i] for i in idx], [ex[i].crisis for i in idx], C_CRISIS)
    rows = _trauma_rows(prep, idx)
    tb, tw = fit_head([prep.feats[i] for i in rows], [ex[i].trauma_dump for i in rows], C_TRAUMA)
    return Head(b, w, 0.0), Head(tb, tw, 0.0)


def folds(prep: Prepared, k: int = FOLDS) -> list[tuple[list[int], list[int]]]:
    """Grouped folds stratified by kind: no group ever on both sides."""
    from sklearn.model_selection import StratifiedGroupKFold

    ex = prep.examples
    splitter = StratifiedGroupKFold(n_splits=k, shuffle=False)
    kinds = [e.kind for e in ex]
    groups = [e.group for e in ex]
    return [
        (list(map(int, tr)), list(map(int, te)))
        for tr, te in splitter.split(list(range(len(ex))), kinds, groups)
    ]


Split = tuple[list[int], list[int]]  # (train rows, test rows)


def out_of_fold(
    prep: Prepared, splits: Sequence[Split]
) -> tuple[list[float], list[float | None]]:
    """Every example's crisis and trauma margins from a model that never saw its group."""
    crisis: list[float] = [0.0] * len(prep.examples)
    trauma: list[float | None] = [None] * len(prep.examples)
    for train_idx, test_idx in splits:
        ch, th = fit_heads(prep, train_idx)
        for i in test_idx:
            crisis[i] = ch.margin(prep.feats[i])
            if prep.n_words[i] >= TRAUMA_MIN_WORDS:
                trauma[i] = th.margin(prep.feats[i])
    return crisis, trauma


def crisis_threshold(prep: Prepared, margins: Sequence[float]) -> float:
    """Lowest margin at which rules OR model keep the false-positive rate <= FPR_TARGET."""
    ex = prep.examples
    neg = [i for i, e in enumerate(ex) if not e.crisis]
    rule_fp = sum(prep.rules_crisis[i] for i in neg)
    free = sorted((margins[i] for i in neg if not prep.rules_crisis[i]), reverse=True)
    allowed = int(FPR_TARGET * len(neg)) - rule_fp  # model-only false alarms we can afford
    if allowed < 0 or not free:
        return max(free, default=0.0) + 1e-4
    if allowed >= len(free):
        return min(free)
    return round(free[allowed] + 1e-4, 4)  # just above the first false alarm we refuse


def context_threshold(prep: Prepared, margins: Sequence[float]) -> float:
    """The margin above which the model alone flags ``CONTEXT_FPR`` of the negatives."""
    neg = sorted((m for m, e in zip(margins, prep.examples, strict=True) if not e.crisis),
                 reverse=True)
    return round(neg[int(CONTEXT_FPR * len(neg))], 4) if neg else 0.0


def trauma_threshold(prep: Prepared, margins: Sequence[float | None]) -> float:
    """The margin where rules-OR-model has the best min(recall, precision).

    The issue asks for both >= 0.93 and weighs them alike (a missed dump reaches readers
    unwarned; a false hold costs a survivor their voice), so the balanced point it is.
    """
    ex = prep.examples
    scored = sorted(
        ((m, ex[i].trauma_dump) for i, m in enumerate(margins)
         if m is not None and not prep.rules_trauma[i]),
        reverse=True,
    )
    tp = sum(r and e.trauma_dump for r, e in zip(prep.rules_trauma, ex, strict=True))
    fp = sum(r and not e.trauma_dump for r, e in zip(prep.rules_trauma, ex, strict=True))
    pos = max(1, sum(e.trauma_dump for e in ex))
    best, best_score = (scored[0][0] + 1e-4 if scored else 0.0), -1.0
    for m, gold in scored:  # lower the threshold one message at a time
        tp, fp = tp + gold, fp + (not gold)
        balanced = min(tp / pos, tp / (tp + fp))
        if balanced > best_score:
            best, best_score = m, balanced
    return round(best, 4)


def build_artifact(examples: Sequence[Example]) -> dict[str, Any]:
    """Cross-validate, choose thresholds, refit on everything; the artifact as a dict."""
    prep = prepare(examples)
    crisis_m, trauma_m = out_of_fold(prep, folds(prep))
    theta = crisis_threshold(prep, crisis_m)
    ctx = min(theta, context_threshold(prep, crisis_m))
    theta_t = trauma_threshold(prep, trauma_m)
    ch, th = fit_heads(prep, range(len(examples)))
    # Every long message in the corpus is emotional (dumps, long venting, long crisis), so
    # the trauma head's bias leans towards "dump": a long message about a bread recipe
    # would clear a threshold below the bias. Require the words themselves to add evidence.
    theta_t = max(theta_t, round(th.bias + 1e-4, 4))
    meta = {
        "corpus_sha256": corpus_sha256(examples),
        "examples": len(examples),
        "features": {"char_sizes": list(CHAR_SIZES), "words": [1, 2]},
        "training": {"C_crisis": C_CRISIS, "C_trauma": C_TRAUMA, "keep": KEEP,
                     "fpr_target": FPR_TARGET, "context_fpr": CONTEXT_FPR, "folds": FOLDS},
    }
    return {
        "format": FORMAT,
        "meta": meta,
        "heads": {
            "crisis": {"bias": ch.bias, "threshold": theta, "context_threshold": ctx,
                       "weights": dict(ch.weights)},
            "trauma_dump": {"bias": th.bias, "threshold": theta_t,
                            "min_words": TRAUMA_MIN_WORDS, "weights": dict(th.weights)},
        },
    }


def dumps(artifact: dict[str, Any]) -> bytes:
    """The artifact's canonical bytes (sorted keys, one trailing newline)."""
    return orjson.dumps(artifact, option=orjson.OPT_SORT_KEYS) + b"\n"


def _single_thread() -> None:
    """One BLAS/OpenMP thread: the same sums in the same order on every machine."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m chatserver.safety.train",
                                 description="Rebuild the learned safety model.")
    ap.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="folder of *.jsonl")
    ap.add_argument("--out", type=Path, default=ARTIFACT_PATH)
    ap.add_argument("--check", action="store_true", help="exit 1 if --out is not up to date")
    args = ap.parse_args(argv)
    _single_thread()
    examples = load_corpus(sorted(args.corpus.glob("*.jsonl")))
    if not examples:
        print(f"train: no corpus files in {args.corpus}", file=sys.stderr)
        return 1
    data = dumps(build_artifact(examples))
    if args.check:
        same = args.out.exists() and args.out.read_bytes() == data
        print("train: model is up to date" if same else "train: model is STALE", file=sys.stderr)
        return 0 if same else 1
    args.out.write_bytes(data)
    print(f"train: wrote {args.out} ({len(data) / 1e6:.1f} MB, {len(examples)} examples)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
