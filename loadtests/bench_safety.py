"""Benchmark the safety pipeline on one core: messages/s and per-message latency.

    python -m loadtests.bench_safety [--messages N] [--filters crisis,trauma_dump,pii]
                                     [--corpus DIR] [--repeats 3] [--min-rate R]

The default pipeline is the server's and ``chatserver classify``'s: rules plus the learned
model. Printed:

- messages per wall-clock second and per CPU-second of this process (the one-core figure
  that stays honest when other work shares the machine), p50/p99/max per message;
- the model's load time (read + parse ``model.json``) and the memory it holds
  (tracemalloc, so the figure is the model's own, not the interpreter's);
- the event loop's worst stall while ``await pipeline.run`` classifies the same messages
  next to a 1 ms heartbeat task (what a room would feel).

The messages are generated here from templates written for this benchmark (chat small
talk, venting, long posts, idioms, contact details, some risk language), seeded so every
run measures the same ones, plus the training corpus's texts (``--corpus``; real lengths
and languages). Texts repeat only after the caches have forgotten them, so caches do not
flatter the figures. The blind dev set is never read here.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

from chatserver.safety.base import FilterInput
from chatserver.safety.corpus import CORPUS_DIR, load_corpus
from chatserver.safety.model import ARTIFACT_PATH, SafetyModel, load_model
from chatserver.safety.normalize import analyze
from chatserver.safety.pipeline import Pipeline, build_pipeline

_OPENERS = ["hey", "hi all", "ok so", "honestly", "ugh", "idk", "lol", "so", "today", "tbh"]
_SHORT = [
    "anyone else awake?", "brb getting tea", "thanks for listening earlier",
    "my cat knocked my plant over again", "work was long but fine", "how is everyone doing",
    "i finally called the dentist", "the rain here is nonstop", "good morning from the bus",
    "that meme killed me", "this playlist is everything", "new here, hi",
    "i'm so tired of group chats", "can't sleep, again", "made pasta for the first time",
    "my exam is killing me", "dead tired after the gym", "my phone died halfway home",
    "we lost the match but whatever", "reading a murder mystery tonight",
]
_FEELINGS = ["lonely", "anxious", "stuck", "overwhelmed", "sad", "numb", "stressed", "hopeful"]
_TOPICS = ["my job", "uni", "my mum", "my partner", "money", "my flatmate", "my health",
           "the move", "my exams", "my friends"]
_LONG = [
    "i've been feeling {f} about {t} for weeks and i don't really know who to talk to. "
    "every day feels the same and i keep telling myself it'll get easier once {t2} settles "
    "down, but it keeps dragging on. i made a list of small things to do this weekend, like "
    "a walk and calling my sister, and maybe that helps. thanks for reading this far.",
    "long post sorry. {t} has been a lot lately. i work, i come home, i scroll, i sleep. my "
    "therapist says to notice when i feel {f} and write it down, so here i am writing it "
    "down. i'm not in danger or anything, just tired and a bit {f2}. how do you all keep "
    "going when {t2} feels like a mountain?",
]
_PII = [
    "text me on 07700 900123 if you want", "my email is sam.example@mail.test",
    "i live at 42 Elm Street lol", "add me on snap: sunny_day22", "follow @quiet.river",
    "call +34 612 345 678 later", "meet at 5:30 on 12/03?", "i'm 24 and 5'6",
]
_RISK = [
    "i don't want to be here anymore", "i keep thinking about ending it",
    "i'm not suicidal, just really tired", "my friend said she wants to die, how do i help",
    "are you thinking about hurting yourself?", "i used to cut, 3 years clean now",
    "he's outside yelling and i'm locked in my room", "je suis fatigué de tout",
    "estoy muy cansada hoy", "ich bin so müde", "tô exausta", "sono stanchissima",
]


def generate(n: int, seed: int = 7) -> list[str]:
    """``n`` varied chat messages; mostly short, some long, a few with PII or risk words."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        roll = rng.random()
        if roll < 0.55:
            text = f"{rng.choice(_OPENERS)} {rng.choice(_SHORT)}"
        elif roll < 0.75:
            feeling, topic = rng.choice(_FEELINGS), rng.choice(_TOPICS)
            text = f"{rng.choice(_OPENERS)}, feeling {feeling} about {topic}"
        elif roll < 0.85:
            text = rng.choice(_LONG).format(
                f=rng.choice(_FEELINGS), f2=rng.choice(_FEELINGS), t=rng.choice(_TOPICS),
                t2=rng.choice(_TOPICS))
        elif roll < 0.93:
            text = rng.choice(_PII)
        else:
            text = rng.choice(_RISK)
        out.append(f"{text} #{i}" if rng.random() < 0.5 else f"{text} {'!' * (i % 3)}")
    return out


def corpus_texts(folder: Path) -> list[str]:
    """The training corpus's texts (none when the folder is absent or empty)."""
    return [e.text for e in load_corpus(sorted(folder.glob("*.jsonl")))] if folder.is_dir() else []


def model_cost(path: Path = ARTIFACT_PATH) -> dict[str, float]:
    """Seconds to read and parse the artifact, and the MiB the parsed model holds."""
    import orjson

    start = time.perf_counter()
    SafetyModel(orjson.loads(path.read_bytes()))
    seconds = time.perf_counter() - start
    tracemalloc.start()
    model = SafetyModel(orjson.loads(path.read_bytes()))
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del model
    return {"load_s": seconds, "mib": held / 2**20, "file_mib": path.stat().st_size / 2**20}


def _clear_caches() -> None:
    """Every pass pays for normalisation and model scoring, as live traffic does."""
    analyze.cache_clear()
    load_model().margins.cache_clear()


async def _loop_stall(pipeline: Pipeline, texts: Sequence[str]) -> float:
    """The longest gap (s) a 1 ms heartbeat sees while ``run`` classifies ``texts``."""
    worst = 0.0
    done = False

    async def heartbeat() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last - 0.001)
            last = now

    async with asyncio.TaskGroup() as tg:
        tg.create_task(heartbeat())
        for i, t in enumerate(texts):
            await pipeline.run(FilterInput(t))
            if i % 50 == 0:
                await asyncio.sleep(0)  # a server yields between frames
        done = True
    return worst


def run(texts: Sequence[str], filters: Sequence[str], repeats: int = 3) -> dict[str, float]:
    """Time ``run_sync`` on each text; best of ``repeats`` passes (least disturbed by other
    load on the machine). Returns rate and latency percentiles in microseconds."""
    # A generous budget: over-budget warnings would only measure scheduler hiccups here.
    pipeline = build_pipeline(filters, budget_ms=1000.0)
    for t in texts[:200]:  # warm up: regex caches, imports
        pipeline.run_sync(FilterInput(t))
    best: dict[str, float] = {}
    clock = time.perf_counter
    for _ in range(max(1, repeats)):
        _clear_caches()
        lat: list[float] = []
        start, cpu_start = clock(), time.process_time()
        for t in texts:
            t0 = clock()
            pipeline.run_sync(FilterInput(t))
            lat.append(clock() - t0)
        wall, cpu = clock() - start, time.process_time() - cpu_start
        q = statistics.quantiles(lat, n=100)
        res = {"messages": len(texts), "rate": len(texts) / wall,
               "cpu_rate": len(texts) / max(cpu, 1e-9), "p50_us": q[49] * 1e6,
               "p99_us": q[98] * 1e6, "max_us": max(lat) * 1e6}
        if res["rate"] > best.get("rate", 0.0):
            best = res
    return best


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--messages", type=int, default=50_000)
    ap.add_argument("--filters", default="crisis,trauma_dump,pii")
    ap.add_argument("--corpus", type=Path, default=CORPUS_DIR, help="add these texts")
    ap.add_argument("--repeats", type=int, default=3, help="report the best of N passes")
    ap.add_argument("--min-rate", type=float, default=0.0, help="exit 1 below this msg/s")
    args = ap.parse_args(argv)
    texts = generate(args.messages) + corpus_texts(args.corpus)
    filters = [f for f in args.filters.split(",") if f]
    cost = model_cost()
    print(f"model: loads in {cost['load_s'] * 1000:.0f} ms, holds {cost['mib']:.1f} MiB "
          f"(file {cost['file_mib']:.1f} MiB)")
    res = run(texts, filters, args.repeats)
    print(f"safety pipeline [{args.filters}]: {res['messages']:.0f} messages, "
          f"{res['rate']:,.0f} msg/s wall ({res['cpu_rate']:,.0f} msg/s per CPU-second), "
          f"p50 {res['p50_us']:.1f} µs, p99 {res['p99_us']:.1f} µs, max {res['max_us']:.0f} µs")
    _clear_caches()
    stall = asyncio.run(_loop_stall(build_pipeline(filters, budget_ms=1000.0), texts[:20_000]))
    print(f"event loop: worst heartbeat stall {stall * 1000:.2f} ms while `run` classified "
          f"{min(len(texts), 20_000)} messages")
    return 1 if res["rate"] < args.min_rate else 0


if __name__ == "__main__":
    sys.exit(main())
