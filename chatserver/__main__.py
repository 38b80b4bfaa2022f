"""``chatserver`` / ``python -m chatserver``: run a node, or one of the helper commands.

chatserver [settings...]            serve (embedded broker unless --redis-url)
chatserver classify [--filters ..]  run the safety pipeline over JSON lines on stdin
chatserver listener-token ...       issue a signed listener token
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Sequence

from chatserver.config import ConfigError, add_arguments, settings_from


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "classify":
        return _classify(argv[1:])
    if argv and argv[0] == "listener-token":
        from chatserver.tokens import token_main

        return token_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="chatserver",
        description="Real-time server for anonymous peer support. "
        "Other commands: 'chatserver classify', 'chatserver listener-token'.",
    )
    add_arguments(parser)
    try:
        settings = settings_from(parser.parse_args(argv))
    except ConfigError as exc:
        parser.error(str(exc))
    from chatserver.app import serve_forever
    from chatserver.observability import configure_logging

    configure_logging(settings.log_format, settings.log_level)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_forever(settings))
    except Exception as exc:  # noqa: BLE001 -- a known bad start becomes one line
        from chatserver.startup import explain

        known = explain(exc, host=settings.host, port=settings.port, redis_url=settings.redis_url)
        if known is None:
            raise
        print(known[1], file=sys.stderr)
        return known[0]
    return 0


def _classify(argv: Sequence[str]) -> int:
    from chatserver.safety.classify import run_classify
    from chatserver.safety.pipeline import build_pipeline

    parser = argparse.ArgumentParser(
        prog="chatserver classify",
        description="Read JSON lines {id, text, lang} on stdin; write {id, labels, action} lines.",
    )
    add_arguments(parser)
    try:
        settings = settings_from(parser.parse_args(argv))
    except ConfigError as exc:
        parser.error(str(exc))
    from chatserver.observability import configure_logging

    configure_logging("json", "warning")
    pipeline = build_pipeline(settings.filters, budget_ms=settings.filter_budget_ms)
    return run_classify(sys.stdin, sys.stdout, pipeline)


if __name__ == "__main__":
    sys.exit(main())
