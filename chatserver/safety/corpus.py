"""The safety training corpus: loading, schema checks and the near-duplicate check.

The corpus lives in ``chatserver/safety/corpus/*.jsonl``, one labelled chat message per
line, written for this project (never taken from the blind dev set). Each line::

    {"id", "text", "lang", "crisis", "trauma_dump", "kind", "group"}

``group`` names the batch a message was written in. Grouped cross-validation keeps a
group on one side of every split, and the near-duplicate check below guards the other
way: two messages from *different* groups must not be near-copies (Jaccard similarity of
their character 5-shingle sets above 0.7), or a split would test on its own training data.

The check uses prefix filtering (rarest shingles first), so it runs in a second or two on
thousands of messages instead of comparing every pair. Run it by hand with
``python -m chatserver.safety.corpus [files...]``.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

__all__ = [
    "CORPUS_DIR",
    "CRISIS_KINDS",
    "KINDS",
    "LANGS",
    "NEGATIVE_KINDS",
    "TRAUMA_KINDS",
    "Example",
    "load_corpus",
    "near_duplicates",
    "schema_errors",
]

CORPUS_DIR = Path(__file__).with_name("corpus")

CRISIS_KINDS = (
    "explicit_ideation",
    "passive_ideation",
    "plan_means",
    "attempt_now",
    "goodbye",
    "self_harm",
    "danger_now",
    "euphemism",
    "obfuscated",
    "long_crisis",
)
TRAUMA_KINDS = ("trauma_violence", "trauma_sexual", "trauma_gore", "trauma_selfharm_detail")
BOTH_KINDS = ("trauma_plus_crisis",)
NEGATIVE_KINDS = (
    "idiom_hyperbole",
    "recovery_past",
    "third_person_media",
    "listener_reply",
    "negation",
    "venting",
    "grief",
    "long_venting",
    "trauma_mention",
    "benign_means",
    "smalltalk",
)
#: kind -> (crisis, trauma_dump): the labels follow from the kind.
KINDS: dict[str, tuple[bool, bool]] = {
    **{k: (True, False) for k in CRISIS_KINDS},
    **{k: (False, True) for k in TRAUMA_KINDS},
    **{k: (True, True) for k in BOTH_KINDS},
    **{k: (False, False) for k in NEGATIVE_KINDS},
}
LANGS = ("en", "es", "fr", "de", "pt", "it", "nl", "pl", "tr", "ru")
FIELDS = ("id", "text", "lang", "crisis", "trauma_dump", "kind", "group")
SHINGLE = 5
THRESHOLD = 0.7


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled message of the corpus."""

    id: str
    text: str
    lang: str
    crisis: bool
    trauma_dump: bool
    kind: str
    group: str


def load_corpus(paths: Iterable[Path] | None = None) -> list[Example]:
    """Every example in ``paths`` (default: every ``*.jsonl`` in :data:`CORPUS_DIR`)."""
    files = sorted(CORPUS_DIR.glob("*.jsonl")) if paths is None else list(paths)
    out: list[Example] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                d = orjson.loads(line)
                out.append(Example(**{f: d[f] for f in FIELDS}))
    return out


def schema_errors(path: Path) -> list[str]:
    """Problems with one corpus file, as ``file:line: what`` strings (empty when clean)."""
    errors: list[str] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name}:{n}"
        try:
            d = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            errors.append(f"{where}: not JSON ({exc})")
            continue
        if not isinstance(d, dict) or set(d) != set(FIELDS):
            errors.append(f"{where}: keys must be exactly {FIELDS}")
            continue
        if d["kind"] not in KINDS:
            errors.append(f"{where}: unknown kind {d['kind']!r}")
        elif (d["crisis"], d["trauma_dump"]) != KINDS[d["kind"]]:
            errors.append(f"{where}: labels do not follow kind {d['kind']}")
        if d["lang"] not in LANGS:
            errors.append(f"{where}: lang {d['lang']!r} not in {LANGS}")
        if not isinstance(d["text"], str) or not d["text"].strip():
            errors.append(f"{where}: empty text")
    return errors


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"\s+", " ", text).strip()


def shingles(text: str) -> frozenset[str]:
    """Character 5-shingles of the normalised text (the whole text when shorter)."""
    t = _norm(text)
    if len(t) <= SHINGLE:
        return frozenset((t,))
    return frozenset(t[i : i + SHINGLE] for i in range(len(t) - SHINGLE + 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard similarity of two shingle sets."""
    return len(a & b) / len(a | b) if a or b else 1.0


def near_duplicates(
    examples: Sequence[Example], threshold: float = THRESHOLD
) -> list[tuple[Example, Example, float]]:
    """Pairs from different groups whose shingle sets have Jaccard similarity > threshold."""
    sets = [shingles(e.text) for e in examples]
    freq: Counter[str] = Counter(s for ss in sets for s in ss)
    index: defaultdict[str, list[int]] = defaultdict(list)
    found: list[tuple[Example, Example, float]] = []
    for i, ss in enumerate(sets):
        ordered = sorted(ss, key=lambda s: (freq[s], s))
        prefix = len(ordered) - math.ceil(threshold * len(ordered)) + 1
        seen: set[int] = set()
        for s in ordered[:prefix]:
            for j in index[s]:
                if j in seen:
                    continue
                seen.add(j)
                if examples[i].group == examples[j].group:
                    continue
                sim = jaccard(ss, sets[j])
                if sim > threshold:
                    found.append((examples[j], examples[i], sim))
            index[s].append(i)
    return found


def main(argv: Sequence[str] | None = None) -> int:
    """Check corpus files (default: all) and print schema errors, near-duplicates, counts."""
    args = list(sys.argv[1:] if argv is None else argv)
    paths = [Path(a) for a in args] if args else sorted(CORPUS_DIR.glob("*.jsonl"))
    errors = [e for p in paths for e in schema_errors(p)]
    for e in errors:
        print(e)
    if errors:
        return 1
    examples = load_corpus(paths)
    ids = Counter(e.id for e in examples)
    dup_ids = [i for i, c in ids.items() if c > 1]
    for i in dup_ids:
        print(f"duplicate id {i}")
    dups = near_duplicates(examples)
    for a, b, sim in dups:
        print(f"near-duplicate {sim:.2f}: {a.id} ({a.group}) ~ {b.id} ({b.group})")
    by_lang = Counter(e.lang for e in examples)
    neg = sum(1 for e in examples if e.kind in NEGATIVE_KINDS)
    print(f"{len(examples)} examples, {neg} hard negatives, by lang: {dict(by_lang)}")
    print(f"by kind: {dict(Counter(e.kind for e in examples))}")
    return 1 if dups or dup_ids else 0


if __name__ == "__main__":
    raise SystemExit(main())
