#!/usr/bin/env bash
# The numbers behind docs/operations.md's capacity model: what every extra
# chatd instance costs when all of them LISTEN on one PostgreSQL.
#
# For N = 1, 2 and 4 instances on one database (plain PostgreSQL, so the
# figures are chatd's and not the standby's), it drives load at instance 1
# only and reads process_cpu_seconds_total from every instance's /metrics
# before and after:
#   - send-ws: 64 WebSocket senders, as fast as acks come back;
#   - e2e: 1,000 msg/s offered between pairs of sockets, with delivery latency.
# Instances 2..N have no sockets: what they spend is the price of hearing
# every reference (one NOTIFY per committed batch) and discarding it.
# Prints one JSON object per measurement and a table; results go to
# var/bench/capacity-<time>.jsonl.
# Usage: bench/capacity.sh [--quick]   (--quick: 3 s runs, for a smoke test)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
D=10
[ "${1:-}" = "--quick" ] && D=3
USERS=128

scripts/install-deps.sh build db bench
CHATD_WERROR=ON scripts/build.sh "$root/build" chatd chatd_loadgen
bin="$root/build"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

work="$(mktemp -d /tmp/chatd-capacity.XXXXXX)"
chmod 755 "$work"
pids=()
stop_instances() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]:-}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_instances
  scripts/pg.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. bench/lib.sh

bench_database "$work" "$bin/chatd"
"${psql_cmd[@]}" -d bench -v users=$USERS -v members=200 -v history=1000 -f bench/setup.sql >/dev/null
"${psql_cmd[@]}" -d bench -c "VACUUM ANALYZE" >/dev/null

cpu() { curl -sf "127.0.0.1:$1/metrics" | awk '$1 == "process_cpu_seconds_total" {print $2}'; }
jget() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1"; }

results="$root/var/bench"
mkdir -p "$results"
out="$results/capacity-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
: > "$out"
rows=()

# measure N SCENARIO LOADGEN_ARGS...: runs the load at instance 1 and
# records throughput, latency and CPU per 1,000 messages on each instance.
measure() {
  local n=$1 name=$2; shift 2
  local before=() after=() i
  # Each run starts from fresh statistics and a checkpoint. Without the
  # ANALYZE, instances started after a run plan their statements for the
  # nearly empty tables of bench/setup.sql while the runs have added tens of
  # thousands of messages: measured, 1,400-1,500 msg/s and p99 80 ms instead
  # of 5,000-8,000 msg/s and p99 18 ms (docs/performance.md).
  "${psql_cmd[@]}" -d bench -c "VACUUM ANALYZE" -c "CHECKPOINT" >/dev/null
  for i in $(seq 0 $((n - 1))); do before+=("$(cpu "${ports[$i]}")"); done
  local r
  r=$("$bin/chatd_loadgen" "$@" --port "${ports[0]}" --users "$USERS")
  for i in $(seq 0 $((n - 1))); do after+=("$(cpu "${ports[$i]}")"); done
  local rate msgs
  rate=$(jget "$r" per_s); [ -n "$rate" ] || rate=$(jget "$r" delivered_per_s)
  msgs=$(jget "$r" sent); [ -n "$msgs" ] || msgs=$(awk -v r="$rate" -v d="$D" 'BEGIN{printf "%d", r*d}')
  local sender listeners=0
  sender=$(awk -v a="${before[0]}" -v b="${after[0]}" -v m="$msgs" 'BEGIN{printf "%.1f", (b-a)*1e6/m}')
  for i in $(seq 1 $((n - 1))); do
    listeners=$(awk -v s="$listeners" -v a="${before[$i]}" -v b="${after[$i]}" -v m="$msgs" \
                  'BEGIN{printf "%.1f", s + (b-a)*1e6/m}')
  done
  local per_listener=0
  [ "$n" -gt 1 ] && per_listener=$(awk -v s="$listeners" -v k=$((n - 1)) 'BEGIN{printf "%.1f", s/k}')
  local line="{\"instances\":$n,\"scenario\":\"$name\",\"msgs\":$msgs,\"per_s\":$rate,\"p99_ms\":$(jget "$r" p99_ms),\"sender_cpu_us_per_msg\":$sender,\"listener_cpu_us_per_msg\":$per_listener}"
  echo "$line" | tee -a "$out"
  rows+=("$(printf '%-3s %-10s %10s %9s %16s %18s' "$n" "$name" "$rate" "$(jget "$r" p99_ms)" "$sender" "$per_listener")")
}

for n in 1 2 4; do
  ports=()
  for i in $(seq 1 "$n"); do
    p=$(free_port)
    "$bin/chatd" --database-url "$url" --listen "127.0.0.1:$p" --log-level warn --threads 1 \
      --ws-max-queue 4096 --ws-accept-rate 0 --rate-sends 0 --rate-logins 0 \
      --data-dir "$work/data" > "$work/chatd-$n-$i.log" 2>&1 &
    pids+=($!)
    ports+=("$p")
  done
  for p in "${ports[@]}"; do
    for _ in $(seq 100); do curl -sf "127.0.0.1:$p/readyz" >/dev/null && break; sleep 0.1; done
  done
  sleep 1
  measure "$n" send-ws send-ws --conns 64 --seconds "$D"
  measure "$n" e2e-1000 e2e --rate 1000 --seconds "$D" --pairs "$USERS"
  stop_instances
done

echo
printf '%-3s %-10s %10s %9s %16s %18s\n' N scenario msg/s "p99 ms" "sender µs/msg" "per listener µs/msg"
printf '%s\n' "${rows[@]}"
echo "capacity.sh: results in $out"
