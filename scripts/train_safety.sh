#!/usr/bin/env bash
# Rebuild the learned safety model (chatserver/safety/model.json) from the corpus, then
# print its grouped cross-validation. Deterministic: the same corpus gives the same bytes.
#   scripts/train_safety.sh            # retrain + measure
#   scripts/train_safety.sh --check    # exit 1 if model.json is stale for the corpus
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/python -c "import sklearn" 2>/dev/null || .venv/bin/pip install -q -e '.[train]'
if [[ "${1:-}" == "--check" ]]; then
  exec .venv/bin/python -m chatserver.safety.train --check
fi
.venv/bin/python -m chatserver.safety.train
.venv/bin/python -m chatserver.safety.evaluate "$@"
