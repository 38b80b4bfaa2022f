"""protocol/ is pure: it imports nothing from chatserver/ and no I/O library."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"asyncio", "websockets", "redis", "socket", "chatserver", "clients", "structlog"}


def test_protocol_imports_no_io() -> None:
    root = Path(__file__).resolve().parents[1] / "protocol"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"
