#!/usr/bin/env bash
# A PostgreSQL cluster in a directory of its own, for scripts and tests.
# Usage: scripts/pg.sh init|start|stop|status DIR PORT
# As root, the server runs as the unprivileged `postgres` user (PostgreSQL
# refuses root). The socket and log live in DIR; it listens on 127.0.0.1 only.
set -euo pipefail
action="${1:?usage: pg.sh init|start|stop|status DIR PORT}"
dir="${2:?data directory}"
port="${3:-5432}"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$bindir/pg_ctl" ] || { echo "pg.sh: PostgreSQL server binaries not found" >&2; exit 1; }

as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  as_owner=(runuser -u postgres --)
fi

case "$action" in
  init)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    if [ ! -f "$dir/PG_VERSION" ]; then
      "${as_owner[@]}" "$bindir/initdb" -D "$dir" -U postgres -A trust -E UTF8 \
        --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 ||
        { cat "$dir.initdb.log" >&2; exit 1; }
      rm -f "$dir.initdb.log"
    fi
    ;;
  start)
    if "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir" status >/dev/null 2>&1; then exit 0; fi
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=300" start >/dev/null ||
      { tail -n 20 "$dir/server.log" >&2; exit 1; }
    ;;
  stop)
    if [ -f "$dir/postmaster.pid" ]; then
      "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null || true
    fi
    ;;
  status)
    "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir" status
    ;;
  *)
    echo "pg.sh: unknown action $action" >&2; exit 2 ;;
esac
