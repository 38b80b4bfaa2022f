#!/usr/bin/env bash
# The benchmarks behind BENCHMARKS.md. Each starts its own servers (and Redis) on free
# loopback ports. Run on a quiet machine; see BENCHMARKS.md for the figures.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-all}" in
  relay)   .venv/bin/python -m loadtests.bench_relay ;;
  pairing) .venv/bin/python -m loadtests.bench_pairing ;;
  safety)  .venv/bin/python -m loadtests.bench_safety ;;
  all)
    .venv/bin/python -m loadtests.bench_safety
    .venv/bin/python -m loadtests.bench_pairing
    .venv/bin/python -m loadtests.bench_relay
    ;;
  *) echo "usage: scripts/bench.sh [relay|pairing|safety|all]" >&2; exit 2 ;;
esac
