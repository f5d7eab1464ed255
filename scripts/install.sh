#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install Kei Drive into it (editable).
#   bash scripts/install.sh            # the app
#   bash scripts/install.sh test       # the app + test tools
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$candidate"
      return
    fi
  done
  # pyenv installs that are not the global default
  for candidate in "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3; do
    [ -x "$candidate" ] && { echo "$candidate"; return; }
  done
  return 1
}

if [ ! -x .venv/bin/python ]; then
  python=$(find_python) || {
    echo "Kei Drive needs Python 3.12 or newer (set PYTHON=/path/to/python3.12)." >&2
    exit 1
  }
  echo "Creating .venv with $python"
  "$python" -m venv .venv
fi

extras=""
[ "${1:-}" = "test" ] && extras="[test]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}"
echo "Installed Kei Drive into .venv"
