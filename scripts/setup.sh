#!/usr/bin/env bash
# Sets up the project: a virtual environment in .venv with the package and its dev dependencies.
# --with-system-deps also installs the Debian packages some tests need (Redis for addok, Chromium,
# PostgreSQL for the register of decisions: the tests start their own temporary cluster).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--with-system-deps" ]]; then
  if command -v apt-get >/dev/null 2>&1; then
    missing=()
    for pkg in redis-server chromium postgresql; do
      dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if ((${#missing[@]})); then
      SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
      $SUDO apt-get update -qq
      $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
  fi
fi
PY=${PYTHON:-python3}
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
.venv/bin/python -m pip install -q -e ".[dev]" 2>&1 | grep -vE '^WARNING: Location|^\s*$' || true
.venv/bin/python -c "import eligibility, qpv_cli"
# The package's bytecode, compiled once: an editable install leaves none, and where PYTHONDONTWRITEBYTECODE is set
# every command would compile the ~55 modules it imports again (~0.1 s of each start). Stale files are harmless:
# Python checks each against its source and recompiles a changed module in memory.
.venv/bin/python -m compileall -q -j 0 eligibility cli >/dev/null
# Derived indexes (spatial grids, demo address index) are built once here, not in the user's first query.
.venv/bin/qpv data prepare | tail -1
echo "Environnement prêt : .venv (commande .venv/bin/qpv)"
