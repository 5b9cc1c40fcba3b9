# Shared by bench/run.sh and bench/capacity.sh (sourced, from the repository root).

# A TCP port nothing listens on, from 20000-31999:
# Below Linux's ephemeral range (32768 up): an outgoing connection's
# TIME_WAIT on a port there makes a later listen on it fail (PostgreSQL's
# bind got EADDRINUSE from a test client's closed connection).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}

# bench_database WORK_DIR CHATD_BINARY: a throwaway PostgreSQL in WORK_DIR/pg
# with a migrated database `bench`. Sets pg_port, psql_cmd and url.
bench_database() {
  local work=$1 chatd=$2
  pg_port=$(free_port)
  scripts/pg.sh init "$work/pg" "$pg_port"
  scripts/pg.sh start "$work/pg" "$pg_port"
  psql_cmd=(psql -h 127.0.0.1 -p "$pg_port" -U postgres -qtAX)
  "${psql_cmd[@]}" -d postgres -c "CREATE DATABASE bench"
  url="host=127.0.0.1 port=$pg_port user=postgres dbname=bench"
  "$chatd" migrate --database-url "$url" --log-level warn
}
