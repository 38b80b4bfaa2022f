"""Write protocol/vectors/frames.json: one example of every frame, with its bytes in each
encoding. Run after changing protocol/messages.py; tests/protocol/test_vectors.py checks
that the file still matches the code.

    .venv/bin/python scripts/gen_vectors.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from protocol import JSON, MSGPACK, encode, frame_to_dict  # noqa: E402
from protocol.examples import EXAMPLES  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "protocol" / "vectors" / "frames.json"


def main() -> None:
    vectors = []
    for direction, name, frame in EXAMPLES:
        vectors.append(
            {
                "name": name,
                "direction": direction,
                "frame": frame_to_dict(frame),
                "json": encode(frame, JSON).decode(),
                "msgpack_hex": encode(frame, MSGPACK).hex(),
            }
        )
    OUT.write_text(
        json.dumps({"version": "chat.v1", "vectors": vectors}, indent=2, ensure_ascii=False) + "\n"
    )
    print(f"wrote {len(vectors)} vectors to {OUT}")


if __name__ == "__main__":
    main()
