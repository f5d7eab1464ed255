#!/usr/bin/env bash
# Install everything the tests need and run the whole suite (browser tests included).
# As root on Debian/Ubuntu it installs Chromium (and PostgreSQL for the PostgreSQL
# tests) with apt; otherwise those must already be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install.sh test

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "Missing $*: install it (Debian/Ubuntu: sudo apt-get install $*)" >&2
    return 1
  fi
  if [ -z "${_apt_updated:-}" ]; then
    apt-get update -qq
    _apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v chromium >/dev/null && [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium for the browser tests…"
  apt_install chromium
fi
# tilemaker builds the offline basemap (kei-drive tiles build; tests/integration/test_basemap.py).
command -v tilemaker >/dev/null || apt_install tilemaker || true

# Under CI (CI=true) a test server that cannot start is a failure; elsewhere its tests skip.
postgres_started="" redis_started="" redis_port=63799
cleanup() {
  [ -n "$postgres_started" ] && bash scripts/start_postgres.sh stop >/dev/null 2>&1
  [ -n "$redis_started" ] && redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1
  true
}
trap cleanup EXIT
unavailable() {
  if [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
    echo "CI=true: $1 could not start, so its tests cannot run. Failing." >&2
    exit 1
  fi
  echo "$1 unavailable: its tests will be skipped." >&2
}

# A throwaway PostgreSQL on 127.0.0.1 for the PostgreSQL variants of the database tests.
if [ -z "${KEI_DRIVE_TEST_POSTGRES_URL:-}" ] && [ "${KEI_DRIVE_SKIP_POSTGRES:-}" != 1 ]; then
  if url=$(bash scripts/start_postgres.sh 2>/tmp/kei-drive-postgres.log); then
    export KEI_DRIVE_TEST_POSTGRES_URL="$url"
    postgres_started=1
  else
    unavailable "PostgreSQL (see /tmp/kei-drive-postgres.log)"
  fi
fi
# A throwaway Redis on 127.0.0.1 for the several-workers test (Reflex keeps state in Redis).
if [ -z "${KEI_DRIVE_TEST_REDIS_URL:-}" ] && [ "${KEI_DRIVE_SKIP_REDIS:-}" != 1 ]; then
  if command -v redis-server >/dev/null || apt_install redis-server; then
    redis_dir=$(mktemp -d /tmp/kei-drive-redis.XXXXXX)
    if redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$redis_dir" --daemonize yes --logfile "$redis_dir/redis.log"; then
      export KEI_DRIVE_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
      redis_started=1
    else
      unavailable "Redis (see $redis_dir/redis.log)"
    fi
  else
    unavailable "Redis"
  fi
fi

export REFLEX_TELEMETRY_ENABLED=false REFLEX_CHECK_LATEST_VERSION=false

echo "== ruff"
.venv/bin/ruff check .
echo "== pytest"
.venv/bin/python -m pytest "$@"
