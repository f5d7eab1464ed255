#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install Kei Drive into it (editable).
#   bash scripts/install.sh            # the app
#   bash scripts/install.sh test       # the app + test tools
set -euo pipefail
cd "$(dirname "$0")/.."

# CPython 3.12.1 crashes at exit (code 139) when ElementTree's iterparse is left after a
# parse error; the app no longer uses iterparse, but dependencies may. Prefer an interpreter
# that passes this probe (pyvalhalla's wheels are abi3 for CPython >= 3.12).
ITERPARSE_PROBE='import io, xml.etree.ElementTree as ET
def first(text):
    try:
        for _event, elem in ET.iterparse(io.StringIO(text), events=("start",)):
            return elem.tag
    except ET.ParseError:
        return None
first("<a><b></a>")'

is_312_plus() {
  "$1" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1
}

passes_probe() {
  { "$1" -c "$ITERPARSE_PROBE"; } >/dev/null 2>&1
}

candidates() {
  [ -n "${PYTHON:-}" ] && echo "$PYTHON"
  local name
  for name in python3.14 python3.13 python3.12 python3; do
    command -v "$name" 2>/dev/null || true
  done
  # pyenv installs that are not the global default, newest first
  ls -d "$HOME"/.pyenv/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -V -r || true
}

find_python() {
  local candidate fallback=""
  while read -r candidate; do
    [ -n "$candidate" ] && is_312_plus "$candidate" || continue
    if passes_probe "$candidate"; then
      echo "$candidate"
      return
    fi
    [ -n "$fallback" ] || fallback=$candidate
    echo "Skipping $candidate: its XML parser crashes after a parse error (CPython 3.12.1)" >&2
  done < <(candidates)
  [ -n "$fallback" ] && { echo "$fallback"; return; }
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
