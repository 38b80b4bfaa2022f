#!/usr/bin/env bash
# The one test command (README, .ci/run): set up everything on a fresh Debian machine,
# then run ruff, mypy and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. Debian packages the tests need: redis-server (integration tests start their own
#    instances on free ports), chromium (widget tests, driven by Playwright) and
#    prometheus for its promtool (the alert rules and the /metrics exposition are checked
#    with it; the tests use no Prometheus server).
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# 2. The project and its test extras in .venv.
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

# 3. Lint, types, tests. pytest's exit code 5 (nothing collected) is not a failure.
.venv/bin/ruff check .
.venv/bin/mypy
set +e
.venv/bin/pytest "$@"
rc=$?
set -e
[ "$rc" -eq 5 ] && rc=0
exit "$rc"
