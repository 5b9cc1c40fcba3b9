#!/usr/bin/env bash
# Builds chatd and runs it in the foreground. Without DATABASE_URL it first
# initialises and starts a PostgreSQL of its own under var/ (kept between runs,
# stopped when chatd exits). Extra arguments go to chatd, e.g.
#   scripts/run.sh --listen 0.0.0.0:8080 --log-format json
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh build test db
scripts/build.sh "$root/build" chatd

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ -z "${DATABASE_URL:-}" ]; then
  port="${CHATD_PG_PORT:-54329}"
  data="$root/var/pg"
  mkdir -p "$root/var"
  # The server runs as `postgres` when we are root: it must be able to reach var/.
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$root/var"; then
    data="/var/tmp/chatd-pg-$(echo "$root" | md5sum | cut -c1-8)"
    echo "run.sh: $root is not reachable by the postgres user; keeping the database in $data"
  fi
  scripts/pg.sh init "$data" "$port"
  scripts/pg.sh start "$data" "$port"
  trap 'scripts/pg.sh stop "$data" "$port"' EXIT
  psql_cmd=(psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qtAX)
  if [ "$("${psql_cmd[@]}" -c "SELECT 1 FROM pg_database WHERE datname = 'chatd'")" != "1" ]; then
    "${psql_cmd[@]}" -c "CREATE DATABASE chatd"
  fi
  export DATABASE_URL="host=127.0.0.1 port=$port user=postgres dbname=chatd"
  echo "run.sh: local PostgreSQL on 127.0.0.1:$port (data in $data)"
fi

# Forward SIGTERM/SIGINT to chatd and wait for its graceful exit.
"$root/build/chatd" "$@" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' TERM INT
set +e
wait "$pid"; code=$?
if kill -0 "$pid" 2>/dev/null; then wait "$pid"; code=$?; fi
exit "$code"
