#!/usr/bin/env bash
# A throwaway PostgreSQL server for the storage and server tests.
#
#   eval "$(bash .ci/postgres.sh)"      # install if missing, start, export LAWBRAIN_TEST_PG
#   bash .ci/postgres.sh stop           # stop it
#
# Installs Debian's `postgresql` package when no server binaries are there,
# makes a fresh cluster under $LAWBRAIN_PG_DIR (default /tmp/lawbrain-pg)
# owned by the `postgres` system user when run as root (the server refuses
# to run as root), starts it on 127.0.0.1 at a free port (password
# authentication over TCP), creates the database `lawbrain_test`, and prints
# the `export` line for the tests. Everything else goes to stderr.
set -euo pipefail
DIR="${LAWBRAIN_PG_DIR:-/tmp/lawbrain-pg}"
PASSWORD="lawbrain-test-pw"
log() { echo "postgres.sh: $*" >&2; }

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-start}" = stop ]; then
  BIN="$(bindir)"
  [ -n "$BIN" ] && [ -d "$DIR/data" ] && as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >&2 || true
  exit 0
fi

if [ -z "$(bindir)" ] || [ ! -x "$(bindir)/initdb" ]; then
  log "installing postgresql"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
BIN="$(bindir)"

# Stop one left by an earlier run, then start afresh.
if [ -f "$DIR/data/postmaster.pid" ]; then
  as_owner "$BIN/pg_ctl" -D "$DIR/data" -m immediate stop >&2 || true
fi
rm -rf "$DIR"
mkdir -p "$DIR"
if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
chmod 700 "$DIR"
echo "$PASSWORD" > "$DIR/pwfile"
if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR/pwfile"; fi

PORT="${LAWBRAIN_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
log "initdb in $DIR/data"
as_owner "$BIN/initdb" -D "$DIR/data" -U lawbrain --pwfile="$DIR/pwfile" \
  --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
  || { cat "$DIR/initdb.log" >&2; exit 1; }
rm -f "$DIR/pwfile"
log "starting on 127.0.0.1:$PORT"
as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >&2 \
  || { cat "$DIR/server.log" >&2; exit 1; }
as_owner "$BIN/createdb" -h "$DIR" -p "$PORT" -U lawbrain lawbrain_test
echo "export LAWBRAIN_TEST_PG=postgres://lawbrain:$PASSWORD@127.0.0.1:$PORT/lawbrain_test"
