"""The classify-stream command: JSON Lines in, one decision per line out.

Contract (``shared/safety/README.md``): each input line is ``{"id", "text", "lang"}``; each
output line is ``{"id", "labels", "action", "scores"}`` written and flushed at once, so a
scorer or an operator piping live traffic sees decisions as they happen. A line that is not
a JSON object with a string ``text`` produces no output; it is reported on stderr by line
number only, because the line may be someone's message.

Run it as ``python -m chatserver.safety.classify`` (default filters: crisis, trauma_dump,
pii) or through ``run_classify`` from the ``chatserver classify`` CLI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any, TextIO

import orjson

from chatserver.safety.base import FilterInput
from chatserver.safety.pipeline import Logger, Pipeline, build_pipeline

__all__ = ["DEFAULT_FILTERS", "main", "run_classify"]

DEFAULT_FILTERS = ("crisis", "trauma_dump", "pii")


def _loads(line: str) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)  # the stdlib also accepts lone surrogate escapes


def _decide(pipeline: Pipeline, msg: dict[str, Any]) -> bytes:
    text: str = msg["text"]
    lang = msg.get("lang")
    result = pipeline.run_sync(FilterInput(text=text, lang=lang if isinstance(lang, str) else None))
    declared = pipeline.labels
    labels = sorted(lab for lab in result.labels if lab in declared)
    scores = {lab: round(s, 3) for lab, s in sorted(pipeline.label_scores(result).items())}
    out = {"id": msg.get("id"), "labels": labels, "action": result.action.value, "scores": scores}
    try:
        return orjson.dumps(out) + b"\n"
    except orjson.JSONEncodeError:  # an id orjson won't encode (e.g. a lone surrogate)
        return json.dumps(out).encode() + b"\n"


def run_classify(stdin: TextIO, stdout: TextIO, pipeline: Pipeline) -> int:
    """Classify ``stdin`` line by line onto ``stdout``; returns the exit status (0)."""
    bad = 0
    for lineno, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            msg = _loads(line)
            if not isinstance(msg, dict) or not isinstance(msg.get("text"), str):
                raise ValueError("not an object with a string 'text'")
        except ValueError as exc:  # JSONDecodeError is a ValueError
            bad += 1
            print(f"classify: line {lineno}: skipped ({type(exc).__name__})", file=sys.stderr)
            continue
        stdout.write(_decide(pipeline, msg).decode())
        stdout.flush()
    if bad:
        print(f"classify: {bad} unparseable line(s) skipped", file=sys.stderr)
    return 0


class _StderrLogger:
    """structlog, configured to stderr on first use (keeps start-up fast)."""

    def __init__(self) -> None:
        self._log: Logger | None = None

    def warning(self, event: str, **kw: Any) -> Any:
        if self._log is None:
            import structlog

            structlog.configure(logger_factory=structlog.PrintLoggerFactory(sys.stderr))
            self._log = structlog.get_logger("chatserver.safety")
        return self._log.warning(event, **kw)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m chatserver.safety.classify [filter ...]``.

    stdout carries decisions only, so structlog is pointed at stderr here (the library
    modules never configure logging themselves).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    for stream, errors in ((sys.stdin, "replace"), (sys.stdout, "strict")):
        if hasattr(stream, "reconfigure"):  # UTF-8 whatever the locale; bad bytes -> U+FFFD
            stream.reconfigure(encoding="utf-8", errors=errors)
    pipeline = build_pipeline(args or DEFAULT_FILTERS, logger=_StderrLogger())
    return run_classify(sys.stdin, sys.stdout, pipeline)


if __name__ == "__main__":
    raise SystemExit(main())
