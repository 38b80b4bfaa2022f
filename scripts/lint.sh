#!/usr/bin/env bash
# ruff and mypy only (the test command runs them too).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/mypy
