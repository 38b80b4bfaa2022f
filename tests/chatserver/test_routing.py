"""The routing table: one handler per frame type, errors become error frames, and the
core modules import no feature."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from chatserver.broker.base import BrokerUnavailable
from chatserver.observability import Metrics
from chatserver.routing import RequestFailed, Router, Withheld
from chatserver.session import Session
from protocol import JSON, ErrorCode, ServerFrame
from protocol.messages import Ping, Say

CORE = (
    "chat", "connection", "context", "control", "envelopes", "hub", "node", "rooms",
    "routing", "session", "sessions",
)  # fmt: skip
PACKAGE = Path(__file__).resolve().parents[2] / "chatserver"


class Recording(Session):
    """A session that keeps the frames sent to it."""

    def send(self, frame: ServerFrame) -> None:
        self.__dict__.setdefault("sent", []).append(frame)


def test_a_frame_type_is_routed_once() -> None:
    router = Router(Metrics())

    async def handler(session: Session, frame: Any) -> None:
        return None

    router.frame(Ping, handler)
    with pytest.raises(ValueError, match="routed twice"):
        router.frame(Ping, handler)


@pytest.mark.parametrize(
    ("raised", "code"),
    [
        (RequestFailed(ErrorCode.NOT_IN_ROOM, "no"), "not_in_room"),
        (BrokerUnavailable("down"), "unavailable"),
        (Withheld(), None),
        (None, "unknown_type"),
    ],
)
async def test_outcomes_become_error_frames_or_nothing(
    raised: BaseException | None, code: str | None
) -> None:
    router = Router(Metrics())

    async def handler(session: Session, frame: Any) -> None:
        assert raised is not None
        raise raised

    if raised is not None:
        router.frame(Say, handler)
    session = Recording(id="s", handle="H", role="seeker", codec=JSON, resume_token="t")
    assert await router.handle(session, Say(room="r", text="hi", ref="7")) is session
    sent = session.__dict__.get("sent", [])
    if code is None:
        assert sent == []
    else:
        assert [(e.code, e.ref) for e in sent] == [(code, "7")]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", CORE)
def test_the_core_imports_no_feature(module: str) -> None:
    imported = _imports(PACKAGE / f"{module}.py")
    assert not {n for n in imported if n.startswith("chatserver.features")}
