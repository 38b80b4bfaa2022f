"""Why a node could not start, in one line an operator can act on, with a documented exit code.

A bad start used to end in a traceback (30 lines for a port in use, 80 chained lines for
an unreachable Redis). Operators and orchestrators need the reason and a stable exit code;
the traceback helps nobody who did not write the code. The codes (``docs/operations.md``):

====  ==========================================================================
 0    clean stop (SIGTERM drain or SIGINT)
 1    an unexpected error (a bug): logged with its type and code location
 2    a setting cannot be used (bad flag, URL or filter name); argparse uses 2 too
 3    the listening address cannot be bound (port in use, no permission)
 4    Redis cannot be reached at start: the node exits so that an orchestrator
      restarts it with back-off; once running, a lost Redis only makes
      ``/readyz`` answer 503 until it is back
====  ==========================================================================

Nothing here prints an exception's message for errors that may carry user data; the
messages translated below are our own or the operating system's.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from urllib.parse import urlsplit

from chatserver.broker.base import BrokerUnavailable
from chatserver.config import ConfigError
from chatserver.safety.pipeline import FilterError

__all__ = ["EXIT_BIND", "EXIT_CONFIG", "EXIT_REDIS", "explain", "redacted_url"]

EXIT_CONFIG = 2
EXIT_BIND = 3
EXIT_REDIS = 4


def redacted_url(url: str) -> str:
    """``url`` without its user name and password, for a log line."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unreadable URL)"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _leaves(exc: BaseException) -> Iterator[BaseException]:
    """The exceptions inside (possibly nested) exception groups, and their causes."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from _leaves(inner)
        return
    yield exc
    if exc.__cause__ is not None:
        yield from _leaves(exc.__cause__)


def explain(exc: BaseException, *, host: str, port: int, redis_url: str) -> tuple[int, str] | None:
    """``(exit code, one line)`` for a known start-up failure, or None for a bug."""
    for leaf in _leaves(exc):
        if isinstance(leaf, ConfigError | FilterError):
            return EXIT_CONFIG, f"chatserver: {leaf}"
        if isinstance(leaf, BrokerUnavailable):
            return EXIT_REDIS, (
                f"chatserver: cannot reach Redis at {redacted_url(redis_url)}; start it or fix "
                "--redis-url (the node exits so that it can be restarted)"
            )
        if isinstance(leaf, OSError) and leaf.errno in (errno.EADDRINUSE, errno.EACCES):
            why = "is already in use" if leaf.errno == errno.EADDRINUSE else "is not allowed"
            return EXIT_BIND, (
                f"chatserver: cannot listen on {host}:{port}: the address {why}; "
                "stop the other process or choose --port"
            )
        if isinstance(leaf, OSError) and leaf.errno == errno.EADDRNOTAVAIL:
            return EXIT_BIND, f"chatserver: cannot listen on {host}:{port}: no such local address"
    return None
