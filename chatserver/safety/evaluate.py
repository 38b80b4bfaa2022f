"""Measure the safety filters on the corpus: grouped CV and leave-one-language-out.

    python -m chatserver.safety.evaluate           # grouped 5-fold CV, per kind and language
    python -m chatserver.safety.evaluate --lolo    # plus leave-one-language-out

Prints Markdown tables (the ones in ``docs/safety.md``). Every figure is out-of-fold: a
message is scored by heads trained without its group (CV) or without its language (LOLO),
through the same ``Head.margin`` the server runs, OR-ed with the rules exactly as the live
filter does, at the thresholds stored in ``model.json`` (chosen by ``train`` on the same
CV split; one scalar per head). The context rule (recent messages) is not in these
figures: the corpus holds single messages. Needs the ``[train]`` extra. The blind dev set
is never read here; it is scored only through ``shared/safety/score.py``.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chatserver.safety.corpus import CORPUS_DIR, CRISIS_KINDS, KINDS, LANGS, load_corpus
from chatserver.safety.model import ARTIFACT_PATH, load_model
from chatserver.safety.train import (
    TRAUMA_MIN_WORDS,
    Prepared,
    fit_heads,
    folds,
    out_of_fold,
    prepare,
)

__all__ = ["Decisions", "decide", "leave_one_language_out", "main", "report"]


@dataclass(frozen=True, slots=True)
class Decisions:
    """Per example: (rules, model, combined) for each label."""

    crisis: tuple[tuple[bool, bool, bool], ...]
    trauma: tuple[tuple[bool, bool, bool], ...]


def decide(
    prep: Prepared, crisis_m: Sequence[float], trauma_m: Sequence[float | None],
    theta: float, theta_t: float,
) -> Decisions:
    """Turn margins into decisions at the artifact's thresholds, rules OR model."""
    c, t = [], []
    for i in range(len(prep.examples)):
        mc = crisis_m[i] >= theta
        c.append((prep.rules_crisis[i], mc, prep.rules_crisis[i] or mc))
        m = trauma_m[i]
        mt = m is not None and m >= theta_t
        t.append((prep.rules_trauma[i], mt, prep.rules_trauma[i] or mt))
    return Decisions(tuple(c), tuple(t))


def _prf(gold: Sequence[bool], pred: Sequence[bool]) -> tuple[float, float, float, int, int]:
    tp = sum(g and p for g, p in zip(gold, pred, strict=True))
    fp = sum(p and not g for g, p in zip(gold, pred, strict=True))
    pos = sum(gold)
    neg = len(gold) - pos
    recall = tp / pos if pos else float("nan")
    precision = tp / (tp + fp) if tp + fp else float("nan")
    fpr = fp / neg if neg else float("nan")
    return recall, precision, fpr, pos, neg


def _fmt(x: float) -> str:
    return "–" if x != x else f"{x:.3f}"


def _overall(prep: Prepared, d: Decisions) -> list[str]:
    ex = prep.examples
    lines = ["| system | crisis R | crisis P | crisis FPR | trauma R | trauma P | trauma FPR |",
             "|---|---|---|---|---|---|---|"]
    for j, name in enumerate(("rules only", "model only", "rules OR model (shipped)")):
        cr = _prf([e.crisis for e in ex], [x[j] for x in d.crisis])
        tr = _prf([e.trauma_dump for e in ex], [x[j] for x in d.trauma])
        lines.append(f"| {name} | {_fmt(cr[0])} | {_fmt(cr[1])} | {_fmt(cr[2])} "
                     f"| {_fmt(tr[0])} | {_fmt(tr[1])} | {_fmt(tr[2])} |")
    return lines


def _by(prep: Prepared, d: Decisions, key: str) -> list[str]:
    """Per kind or per language: crisis recall/FPR and trauma recall/precision (combined)."""
    rows: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(prep.examples):
        rows[getattr(e, key)].append(i)
    order = list(KINDS) if key == "kind" else list(LANGS)
    lines = [f"| {key} | n | crisis n | crisis R | crisis FPR | trauma n | trauma R | trauma P "
             "| trauma FPR |", "|---|---|---|---|---|---|---|---|---|"]
    for k in [k for k in order if k in rows]:
        idx = rows[k]
        ex = [prep.examples[i] for i in idx]
        cr = _prf([e.crisis for e in ex], [d.crisis[i][2] for i in idx])
        tr = _prf([e.trauma_dump for e in ex], [d.trauma[i][2] for i in idx])
        lines.append(f"| {k} | {len(idx)} | {cr[3]} | {_fmt(cr[0])} | {_fmt(cr[2])} "
                     f"| {tr[3]} | {_fmt(tr[0])} | {_fmt(tr[1])} | {_fmt(tr[2])} |")
    return lines


def report(prep: Prepared, d: Decisions, title: str) -> str:
    """Markdown: overall, per kind, per language."""
    parts = [f"### {title}", "", *_overall(prep, d), "", *_by(prep, d, "kind"), "",
             *_by(prep, d, "lang"), ""]
    return "\n".join(parts)


def leave_one_language_out(prep: Prepared, theta: float, theta_t: float) -> str:
    """Train without one language, test on it; one table row per language."""
    lines = ["| held-out language | n | crisis n | crisis R (model only) | crisis R (rules OR "
             "model) | crisis FPR (rules OR model) | trauma n | trauma R | trauma P |",
             "|---|---|---|---|---|---|---|---|---|"]
    langs = [lang for lang in LANGS if any(e.lang == lang for e in prep.examples)]
    for lang in langs:
        test = [i for i, e in enumerate(prep.examples) if e.lang == lang]
        train = [i for i, e in enumerate(prep.examples) if e.lang != lang]
        ch, th = fit_heads(prep, train)
        ex = [prep.examples[i] for i in test]
        model_c = [ch.margin(prep.feats[i]) >= theta for i in test]
        comb_c = [m or prep.rules_crisis[i] for m, i in zip(model_c, test, strict=True)]
        comb_t = [prep.rules_trauma[i] or (prep.n_words[i] >= TRAUMA_MIN_WORDS
                                           and th.margin(prep.feats[i]) >= theta_t) for i in test]
        m_only = _prf([e.crisis for e in ex], model_c)
        cr = _prf([e.crisis for e in ex], comb_c)
        tr = _prf([e.trauma_dump for e in ex], comb_t)
        lines.append(f"| {lang} | {len(test)} | {cr[3]} | {_fmt(m_only[0])} | {_fmt(cr[0])} "
                     f"| {_fmt(cr[2])} | {tr[3]} | {_fmt(tr[0])} | {_fmt(tr[1])} |")
    return "\n".join(["### Leave one language out", "", *lines, ""])


def _weak_kinds(prep: Prepared, d: Decisions) -> list[str]:
    """Crisis kinds under 0.90 recall: where the target is missed (for the summary)."""
    out = []
    for kind in CRISIS_KINDS:
        idx = [i for i, e in enumerate(prep.examples) if e.kind == kind]
        if idx:
            r = sum(d.crisis[i][2] for i in idx) / len(idx)
            if r < 0.90:
                out.append(f"{kind} {r:.2f}")
    return out


def _random_folds(prep: Prepared) -> list[tuple[list[int], list[int]]]:
    """Kind-stratified shuffled folds that ignore ``group``: how much of the grouped CV's
    gap is "a batch never seen" rather than "a message never seen"."""
    from sklearn.model_selection import StratifiedKFold

    kinds = [e.kind for e in prep.examples]
    split = StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(kinds, kinds)
    return [(list(map(int, tr)), list(map(int, te))) for tr, te in split]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m chatserver.safety.evaluate")
    ap.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    ap.add_argument("--model", type=Path, default=ARTIFACT_PATH, help="thresholds from here")
    ap.add_argument("--lolo", action="store_true", help="also leave-one-language-out")
    ap.add_argument("--ungrouped", action="store_true",
                    help="also a diagnostic random 5-fold split that ignores groups")
    args = ap.parse_args(argv)
    model = load_model(args.model)
    theta, theta_t = model.crisis.threshold, model.trauma.threshold
    prep = prepare(load_corpus(sorted(args.corpus.glob("*.jsonl"))))
    crisis_m, trauma_m = out_of_fold(prep, folds(prep))
    d = decide(prep, crisis_m, trauma_m, theta, theta_t)
    print(f"{len(prep.examples)} examples; thresholds crisis {theta}, trauma {theta_t}\n")
    print(report(prep, d, "Grouped 5-fold cross-validation (out-of-fold)"))
    weak = _weak_kinds(prep, d)
    print("crisis kinds under 0.90 recall: " + (", ".join(weak) if weak else "none") + "\n")
    if args.lolo:
        print(leave_one_language_out(prep, theta, theta_t))
    if args.ungrouped:
        cm, tm = out_of_fold(prep, _random_folds(prep))
        title = "Diagnostic only: random 5-fold, groups IGNORED (optimistic; not a target)"
        print("\n".join(report(prep, decide(prep, cm, tm, theta, theta_t), title)
                        .splitlines()[:7]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
