"""protocol/vectors/frames.json matches the code, byte for byte, in both encodings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from protocol import (
    CLIENT_FRAMES,
    JSON,
    MSGPACK,
    SERVER_FRAMES,
    decode_client,
    decode_server,
    encode,
    frame_from_dict,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "protocol" / "vectors" / "frames.json").read_text()
)["vectors"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    client = vector["direction"] == "client"
    registry = CLIENT_FRAMES if client else SERVER_FRAMES
    decode = decode_client if client else decode_server
    frame = frame_from_dict(vector["frame"], registry)  # type: ignore[type-var]
    assert decode(vector["json"], JSON) == frame
    assert decode(bytes.fromhex(vector["msgpack_hex"]), MSGPACK) == frame
    assert encode(frame, JSON).decode() == vector["json"]
    assert encode(frame, MSGPACK).hex() == vector["msgpack_hex"]


def test_every_frame_type_has_a_vector() -> None:
    seen = {(v["direction"], v["frame"]["type"]) for v in VECTORS}
    wanted = {("client", t) for t in CLIENT_FRAMES} | {("server", t) for t in SERVER_FRAMES}
    assert wanted <= seen


def test_spec_documents_every_frame_and_error_code() -> None:
    from protocol import ErrorCode

    spec = (Path(__file__).resolve().parents[2] / "protocol" / "SPEC.md").read_text()
    for name in {*CLIENT_FRAMES, *SERVER_FRAMES}:
        assert f"`{name}`" in spec, name
    for code in ErrorCode:
        assert f"`{code.value}`" in spec, code
