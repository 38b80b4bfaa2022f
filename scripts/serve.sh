#!/usr/bin/env bash
# Run one chatserver node with the embedded broker (installs into .venv on first use).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/chatserver ] || { python3 -m venv .venv && .venv/bin/python -m pip install -q -e .; }
exec .venv/bin/chatserver "$@"
