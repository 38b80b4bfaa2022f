"""Logs an operator can debug without reading anyone's words: an exception is logged with
its type, its causes' types and its frames (``file:line in function``), never with its
message; foreign loggers (websockets, asyncio) go through the same processors."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from contextlib import redirect_stderr

import pytest
import structlog

from chatserver.observability import configure_logging, exception_fields, type_of, where

PRIVATE = "words someone wrote 4711"


def _fails() -> None:
    float(PRIVATE)


def _wrapped() -> None:
    try:
        _fails()
    except ValueError as exc:
        raise RuntimeError(PRIVATE) from exc


def test_exception_fields_name_type_causes_and_frames_never_the_message() -> None:
    try:
        _wrapped()
    except RuntimeError as exc:
        fields = dict(exception_fields(None, "error", {"event": "x", "exc_info": exc}))
    assert "exc_info" not in fields
    assert fields["exc_type"] == "RuntimeError <- ValueError"
    frames = fields["exc_where"]
    assert frames[-1].startswith("tests/chatserver/test_observability.py:")
    assert frames[-1].endswith(" in _wrapped")
    assert all(re.fullmatch(r"[\w/.-]+\.py:\d+ in \S+", f) for f in frames), frames
    assert PRIVATE not in repr(fields)


def test_exc_info_true_reads_the_exception_being_handled() -> None:
    try:
        _fails()
    except ValueError:
        fields = dict(exception_fields(None, "error", {"event": "x", "exc_info": True}))
    assert fields["exc_type"] == "ValueError"
    assert where(ValueError()) == "?"
    assert type_of(KeyError("k")) == "KeyError"


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """Logging configured as a node does, into a buffer; restored afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    with redirect_stderr(buffer):
        configure_logging("json", "info")
        try:
            yield buffer
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
            structlog.reset_defaults()


def test_structlog_and_foreign_loggers_log_type_and_frames_only(logged: io.StringIO) -> None:
    try:
        _fails()
    except ValueError:
        structlog.get_logger("t").exception("handler_failed")
        logging.getLogger("websockets.server").error(
            "connection handler failed: %s", PRIVATE, exc_info=True
        )
        logging.getLogger("asyncio").error(
            "Task exception was never retrieved\nfuture: %s", PRIVATE
        )
    lines = [json.loads(line) for line in logged.getvalue().splitlines() if line.strip()]
    assert [e["event"] for e in lines] == [
        "handler_failed",
        "connection handler failed: %s",
        "Task exception was never retrieved",
    ]
    for entry in lines[:2]:
        assert entry["exc_type"] == "ValueError" and entry["level"] == "error"
        assert any("test_observability.py:" in f for f in entry["exc_where"])
    assert PRIVATE not in logged.getvalue()
