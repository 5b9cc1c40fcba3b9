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

# ---- Where a scenario's CPU went (what bounds it, measured in every run).
# cpu_mark SERVER_PID PG_DATA: remembers the machine's CPU counters, the
# server's, and PostgreSQL's (the postmaster and every child: a backend that
# exits meanwhile is counted in the postmaster's reaped-children time).
# cpu_json UNITS: the CPU spent since the mark per unit of work (a message, a
# socket), in microseconds, split into the server (chatd, or the floor; 0 for
# pgbench, whose server is PostgreSQL), PostgreSQL, and the rest (the load
# generator, the kernel's work not charged to either), and the machine's idle
# share (and the share a VM's host took, steal): JSON fields for emit. Clock
# ticks (10 ms): read over seconds, not milliseconds. (chatd's own CPU is also
# in its /metrics, which bench/capacity.sh reads; /proc serves the processes
# that have no metrics too: PostgreSQL, the Asio floor, the load generator.)
clk_tck=$(getconf CLK_TCK)
# Ticks of process $1 (all its threads) and of its reaped children.
ticks_of() {
  [ -n "$1" ] && [ -r "/proc/$1/stat" ] || { echo 0; return; }
  { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null || true; } |
    awk '{ t = $12 + $13 + $14 + $15 } END { print t + 0 }'
}
# Ticks of the postmaster of data directory $1 and its live children.
pg_ticks() {
  local pm
  pm=$(head -n 1 "$1/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  # A process may exit between the glob and its read: cat's failure is not ours.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | sed 's/^\([0-9]*\) (.*) /\1 /' |
    awk -v pm="$pm" '$1 == pm || $3 == pm { t += $13 + $14 + $15 + $16 } END { print t + 0 }'
}
# Busy and idle ticks of the machine; steal (time a VM's host took) is neither.
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6, $9 }' /proc/stat; }
cpu_mark() {
  cpu_server_pid=$1 cpu_pg_dir=$2
  read -r cpu_busy0 cpu_idle0 cpu_steal0 < <(machine_ticks)
  cpu_server0=$(ticks_of "$cpu_server_pid")
  cpu_pg0=$(pg_ticks "$cpu_pg_dir")
}
cpu_json() {
  local units=$1 busy idle steal server pg
  read -r busy idle steal < <(machine_ticks)
  server=$(ticks_of "$cpu_server_pid")
  pg=$(pg_ticks "$cpu_pg_dir")
  awk -v n="$units" -v hz="$clk_tck" -v b=$((busy - cpu_busy0)) -v i=$((idle - cpu_idle0)) \
      -v s=$((server - cpu_server0)) -v p=$((pg - cpu_pg0)) -v st=$((steal - cpu_steal0)) 'BEGIN {
    if (n + 0 <= 0) { printf "\"cpu_us_server\":null,\"cpu_us_postgres\":null,\"cpu_us_other\":null,\"idle_pct\":null,\"steal_pct\":null"; exit }
    if (s < 0) s = 0
    o = b - s - p; if (o < 0) o = 0
    u = 1e6 / hz / n
    t = b + i + st
    printf "\"cpu_us_server\":%.1f,\"cpu_us_postgres\":%.1f,\"cpu_us_other\":%.1f,\"idle_pct\":%.1f,\"steal_pct\":%.1f", \
      s * u, p * u, o * u, (t > 0) ? 100 * i / t : 0, (t > 0) ? 100 * st / t : 0 }'
}
