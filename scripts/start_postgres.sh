#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for tests and print its URL on stdout.
#
#   url=$(scripts/start_postgres.sh)            # 127.0.0.1:54329, database kei_drive_test
#   KEI_DRIVE_TEST_POSTGRES_URL=$url pytest tests/integration
#   scripts/start_postgres.sh stop              # stop it and delete its data
#
# As root on Debian it apt-installs `postgresql` when missing and runs the server as the
# `postgres` user. Data lives in a temp dir; trust auth, listening on loopback only.
# Idempotent: when a server already answers on the port, it just prints the URL.
set -euo pipefail

PORT="${KEI_DRIVE_PG_PORT:-54329}"
DB="${KEI_DRIVE_PG_DB:-kei_drive_test}"
STATE="/tmp/kei-drive-pg-${PORT}.dir"
URL="postgresql://postgres@127.0.0.1:${PORT}/${DB}"

log() { echo "start_postgres: $*" >&2; }

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

BIN="$(find_bin || true)"

if [ "${1:-}" = "stop" ]; then
  if [ -f "$STATE" ]; then
    DIR="$(cat "$STATE")"
    as_pg "$BIN/pg_ctl" -D "$DIR/data" stop -m fast >&2 || true
    rm -rf "$DIR" "$STATE"
    log "stopped and removed $DIR"
  else
    log "no cluster recorded for port $PORT"
  fi
  exit 0
fi

if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
  if [ "$(id -u)" != 0 ]; then
    log "PostgreSQL is not installed and I am not root: apt-get install postgresql"
    exit 1
  fi
  log "installing postgresql (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  BIN="$(find_bin)"
fi

if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  log "a server already answers on 127.0.0.1:$PORT"
else
  DIR="$(mktemp -d /tmp/kei-drive-pg.XXXXXX)"
  chmod 755 "$DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR"; fi
  as_pg "$BIN/initdb" -D "$DIR/data" -U postgres -A trust --no-sync -E UTF8 >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 \
    -o "-h 127.0.0.1 -p $PORT -k $DIR -F -c fsync=off -c full_page_writes=off" start >&2
  echo "$DIR" >"$STATE"
  log "started in $DIR (stop: $0 stop)"
fi

if ! "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
fi
echo "$URL"
