#!/usr/bin/env bash
# Benchmarks chatd beside its baselines, in the same run, on this machine.
#   bench/run.sh           full run (~15 min)
#   bench/run.sh --quick   smoke-sized run (< 3 min)
# Prints a table (scenario, chatd, baseline, ratio) and one JSON line per
# scenario; the JSON lines are also written to var/bench/<timestamp>.jsonl.
# Stops everything it started, whatever happens.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

scripts/install-deps.sh build db bench
# The same optimised build (-O2, with symbols for perf) that scripts/test.sh
# makes, with the same options (-Werror included): after the tests nothing
# needs rebuilding. (A differing option reconfigured and rebuilt everything,
# and the build's disk writes then slowed the first scenarios' commits.)
CHATD_WERROR=ON scripts/build.sh "$root/build" chatd chatd_loadgen chatd_asio_floor
bin="$root/build"
# 50k sockets need far more descriptors than the usual soft limit: root may
# raise the hard limit too; others get what the hard limit allows.
if [ "$(id -u)" -eq 0 ]; then ulimit -Hn 1048576 2>/dev/null || true; fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

if [ $quick -eq 1 ]; then
  D=3; USERS=128; MEMBERS=200; FAN_MSGS=8; CONNS_N=2000; HISTORY=50000; RATES="1000"; HTTP_CONNS="64"
  SEARCH_CONVS=200; SEARCH_MSGS=50000
  SUSTAIN_RATES=""
  MEDIA_CONC=2; MEDIA_ROUNDS=8
else
  D=15; USERS=128; MEMBERS=1000; FAN_MSGS=30; CONNS_N=50000; HISTORY=1000000; RATES="1000 5000 10000"; HTTP_CONNS="64 256"
  SEARCH_CONVS=200; SEARCH_MSGS=1000000
  SUSTAIN_RATES="2000 4000 6000 8000 10000 12000 14000"
  MEDIA_CONC=4; MEDIA_ROUNDS=10
fi
# e2e senders: one per direct conversation.
PAIRS=$USERS

work="$(mktemp -d /tmp/chatd-bench.XXXXXX)"
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  scripts/pg.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

# shellcheck source=bench/lib.sh
. bench/lib.sh

# ---- PostgreSQL, schema, fixtures
bench_database "$work" "$bin/chatd"
"${psql_cmd[@]}" -d bench -v users=$USERS -v members=$MEMBERS -v history=$HISTORY -f bench/setup.sql
"${psql_cmd[@]}" -d bench -v convs=$SEARCH_CONVS -v msgs=$SEARCH_MSGS -f bench/setup-search.sql
# Settle the bulk load (hint bits, visibility map, the checkpoint it owes), so
# neither chatd nor a baseline pays for it during its turn.
"${psql_cmd[@]}" -d bench -c "VACUUM ANALYZE" -c "CHECKPOINT"
HIST_CONV=$((USERS + 2))
SEARCHER=$("${psql_cmd[@]}" -d bench -c "SELECT id FROM users WHERE username = 'searcher'")

# ---- chatd and nginx
port=$(free_port)
"$bin/chatd" --database-url "$url" --listen "127.0.0.1:$port" --log-level warn \
  --ws-max-queue 4096 --ws-accept-rate 0 --rate-sends 0 --rate-logins 0 \
  --data-dir "$work/data" > "$work/chatd.log" 2>&1 &
chatd_pid=$!; pids+=("$chatd_pid")
for _ in $(seq 100); do curl -sf "127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
nginx_port=$(free_port)
mkdir -p "$work/nginx"
sed "s|NGINX_DIR|$work/nginx|g; s|NGINX_PORT|$nginx_port|g; s|WORKERS|1|" bench/nginx.conf > "$work/nginx/nginx.conf"
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
media_port=$(free_port)
mkdir -p "$work/nginx-media/media"
chmod 777 "$work/nginx-media/media"  # nginx workers (nobody, when started as root) store PUTs there
sed "s|NGINX_DIR|$work/nginx-media|g; s|NGINX_PORT|$media_port|g; s|WORKERS|auto|" bench/nginx.conf \
  > "$work/nginx-media/nginx.conf"
nginx -c "$work/nginx-media/nginx.conf" -p "$work/nginx-media" &
pids+=($!)
# The floor under /healthz: Asio answering chatd's bytes with chatd's
# threading and nothing else (bench/asio_floor.cpp), with one IO thread (as
# nginx's one worker) and with chatd's default two.
floor_port=$(free_port)
"$bin/chatd_asio_floor" "$floor_port" 1 &
pids+=($!)
floor2_port=$(free_port)
"$bin/chatd_asio_floor" "$floor2_port" 2 &
floor2_pid=$!; pids+=("$floor2_pid")
sleep 0.5

results="$root/var/bench"
mkdir -p "$results"
out="$results/$(date -u +%Y%m%dT%H%M%SZ).jsonl"
: > "$out"
rows=()

# emit NAME CHATD BASELINE UNIT [EXTRA_JSON]
emit() {
  local name=$1 chatd=$2 base=$3 unit=$4 extra=${5:-}
  local ratio
  ratio=$(awk -v a="$chatd" -v b="$base" 'BEGIN { if (b+0 > 0) printf "%.2f", a / b; else print "null" }')
  local line="{\"scenario\":\"$name\",\"chatd\":$chatd,\"baseline\":$base,\"ratio\":$ratio,\"unit\":\"$unit\"${extra:+,$extra}}"
  echo "$line" >> "$out"
  rows+=("$(printf '%-28s %14s %14s %8s  %s' "$name" "$chatd" "$base" "$ratio" "$unit")")
  echo "$line"
}
jget() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1"; }
loadgen() { "$bin/chatd_loadgen" "$@" --port "$port" --users "$USERS"; }
# pgb CLIENTS SCRIPT [pgbench args]: transactions/s of pgbench on the bench database.
pgb() {
  local c=$1 script=$2; shift 2
  pgbench -n -M prepared -h 127.0.0.1 -p "$pg_port" -U postgres -c "$c" -j 2 -T "$D" "$@" \
    -f "$script" bench 2>/dev/null | awk '/^tps/ {print $3; exit}'
}
# Before each scenario: fresh planner statistics for the rows the earlier
# ones added (a plan made for a table analysed nearly empty cost a later
# scenario 5x), the vacuum autovacuum would otherwise run during a later
# scenario, and the checkpoint they owe, so no scenario pays for another.
settle() { "${psql_cmd[@]}" -d bench -c "VACUUM ANALYZE" -c "CHECKPOINT"; }

# 1. http-floor: the same wrk command against chatd and nginx, and against
# the Asio floor (what the library and the threading cost before any of
# chatd's code: chatd / floor is what chatd's own request path costs).
# Like for like: nginx's one worker beside a chatd with one IO thread (a
# second process on the same database, up for this scenario only), then
# chatd's default two IO threads beside nginx with a worker per core. wrk
# shares the two cores: a server with two threads competes with it for them.
chatd1_port=$(free_port)
"$bin/chatd" --database-url "$url" --listen "127.0.0.1:$chatd1_port" --log-level warn --threads 1 \
  --data-dir "$work/data1" > "$work/chatd1.log" 2>&1 &
chatd1_pid=$!; pids+=("$chatd1_pid")
for _ in $(seq 100); do curl -sf "127.0.0.1:$chatd1_port/readyz" >/dev/null && break; sleep 0.1; done
rps() { wrk -t1 -c"$1" -d"${D}s" --latency "http://127.0.0.1:$2/healthz" | awk '/Requests\/sec/ {print $2}'; }
vs() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0) printf "%.3f", a / b; else print "null" }'; }
for c in $HTTP_CONNS; do
  a=$(rps "$c" "$chatd1_port"); b=$(rps "$c" "$nginx_port"); f=$(rps "$c" "$floor_port")
  emit "http-floor-c$c" "$a" "$b" "req/s, one IO thread (baseline: nginx, one worker; target >= 1.0x)" \
    "\"threads\":1,\"asio_floor\":$f,\"vs_asio_floor\":$(vs "$a" "$f")"
  emit "http-asio-floor-c$c" "$f" "$b" "req/s, Asio answering fixed bytes, one thread (baseline: nginx, one worker)"
  a=$(rps "$c" "$port"); b=$(rps "$c" "$media_port"); f=$(rps "$c" "$floor2_port")
  emit "http-floor-2t-c$c" "$a" "$b" "req/s, two IO threads (baseline: nginx, a worker per core)" \
    "\"threads\":2,\"asio_floor\":$f,\"vs_asio_floor\":$(vs "$a" "$f")"
done
kill "$chatd1_pid" 2>/dev/null || true
wait "$chatd1_pid" 2>/dev/null || true

# 2. send-durable: acknowledged (committed) messages/s at 64 and 128 clients,
# beside two baselines on the same schema:
# - naive: pgbench running chatd's send as one message per transaction
#   (bench/pgbench/send.sql), with as many clients;
# - ceiling: pgbench inserting 64 messages per transaction in one statement
#   (bench/pgbench/ceiling.sql) with 4 and 16 clients, the best of the two:
#   what PostgreSQL itself commits on this machine with nothing around it.
# Each row also says where the CPU went per message (cpu_json, bench/lib.sh):
# PostgreSQL's share against the ceiling's is what bounds the sends.
# msgs RATE: the messages a run of D seconds at RATE per second carried.
msgs() { awk -v r="$1" -v d="$D" 'BEGIN { printf "%.0f", r * d }'; }
settle
for c in 64 128; do
  cpu_mark "" "$work/pg"
  n=$(pgb "$c" bench/pgbench/send.sql -D users=$USERS)
  emit "pg-naive-c$c" "$n" "$n" "msg/s, pgbench, one message per transaction (baseline: itself)" \
    "$(cpu_json "$(msgs "$n")")"
  if [ "$c" = 64 ]; then naive64=$n; else naive128=$n; fi
done
cpu_mark "" "$work/pg"
ceil4=$(awk -v t="$(pgb 4 bench/pgbench/ceiling.sql -D users=$USERS)" 'BEGIN { printf "%.1f", t * 64 }')
ceil4_cpu=$(cpu_json "$(msgs "$ceil4")")
cpu_mark "" "$work/pg"
ceil16=$(awk -v t="$(pgb 16 bench/pgbench/ceiling.sql -D users=$USERS)" 'BEGIN { printf "%.1f", t * 64 }')
ceil16_cpu=$(cpu_json "$(msgs "$ceil16")")
# The better of the two, and its CPU (compared as numbers, kept as printed).
if awk -v a="$ceil4" -v b="$ceil16" 'BEGIN { exit !(a >= b) }'; then
  ceiling=$ceil4; ceiling_cpu=$ceil4_cpu
else
  ceiling=$ceil16; ceiling_cpu=$ceil16_cpu
fi
emit "pg-ceiling-64-per-txn" "$ceiling" "$ceiling" "msg/s, pgbench (baseline: itself)" \
  "\"c4\":$ceil4,\"c16\":$ceil16,$ceiling_cpu"
# - the same ceiling in the shape of the send benchmark: one message to each
#   of 64 conversations per transaction (bench/pgbench/ceiling-spread.sql),
#   with as many clients as there are disjoint sets of 64 conversations
spread_clients=$(( USERS / 64 )); [ "$spread_clients" -lt 1 ] && spread_clients=1
cpu_mark "" "$work/pg"
spread=$(awk -v t="$(pgb "$spread_clients" bench/pgbench/ceiling-spread.sql)" 'BEGIN { printf "%.1f", t * 64 }')
emit "pg-ceiling-64-spread" "$spread" "$spread" "msg/s, pgbench, 64 conversations per transaction (baseline: itself)" \
  "\"clients\":$spread_clients,$(cpu_json "$(msgs "$spread")")"
settle
best_send=0
for c in 64 128; do
  naive=$naive64; [ "$c" = 128 ] && naive=$naive128
  for t in rest ws; do
    cpu_mark "$chatd_pid" "$work/pg"
    r=$(loadgen "send-$t" --conns "$c" --seconds "$D")
    per=$(jget "$r" per_s)
    cpu=$(cpu_json "$(msgs "$per")")
    best_send=$(awk -v a="$per" -v b="$best_send" 'BEGIN { print (a > b) ? a : b }')
    emit "send-durable-$t-c$c" "$per" "$naive" "msg/s (baseline: naive pgbench; target >= 3x)" \
      "\"p50_ms\":$(jget "$r" p50_ms),\"p99_ms\":$(jget "$r" p99_ms),\"errors\":$(jget "$r" errors),\"ceiling_ratio\":$(awk -v a="$per" -v b="$ceiling" 'BEGIN { printf "%.3f", a / b }'),\"spread_ceiling_ratio\":$(awk -v a="$per" -v b="$spread" 'BEGIN { printf "%.3f", a / b }'),$cpu"
  done
done
emit "send-durable-vs-ceiling" "$best_send" "$ceiling" "msg/s, best send row (baseline: pg ceiling; target >= 0.5x)" \
  "\"spread_ceiling\":$spread,\"vs_spread_ceiling\":$(awk -v a="$best_send" -v b="$spread" 'BEGIN { printf "%.3f", a / b }')"

# 3. e2e-delivery at fixed offered rates (target: p99 < 5 ms at 10k msg/s)
settle
for rate in $RATES; do
  e=$(loadgen e2e --rate "$rate" --seconds "$D" --pairs "$PAIRS")
  emit "e2e-delivery-$rate" "$(jget "$e" p99_ms)" 5 "p99 ms (baseline: target)" \
    "\"p50_ms\":$(jget "$e" p50_ms),\"p999_ms\":$(jget "$e" p999_ms),\"delivered_per_s\":$(jget "$e" delivered_per_s),\"sent\":$(jget "$e" sent),\"delivered\":$(jget "$e" delivered)"
done

# 3b. the highest offered rate delivered in full with p99 under 50 ms (full run only).
# Every rate is tried (a 4 s window can catch one stall and fail a rate the
# next one passes); two failures in a row end the climb.
if [ -n "$SUSTAIN_RATES" ]; then
  best=0; failed=0
  for rate in $SUSTAIN_RATES; do
    e=$(loadgen e2e --rate "$rate" --seconds 4 --pairs "$PAIRS")
    ok=$(awk -v d="$(jget "$e" delivered)" -v s="$(jget "$e" sent)" -v p="$(jget "$e" p99_ms)" \
           'BEGIN { print (d >= 0.99 * s && p < 50) ? 1 : 0 }')
    echo "e2e at $rate/s: p99 $(jget "$e" p99_ms) ms, delivered $(jget "$e" delivered)/$(jget "$e" sent)" >&2
    if [ "$ok" = 1 ]; then best=$rate; failed=0; else failed=$((failed + 1)); fi
    [ "$failed" -lt 2 ] || break
  done
  emit "e2e-max-sustained" "$best" 10000 "msg/s delivered with p99 < 50 ms (baseline: target rate)"
fi

# 3c. pipelining: 100 closed-loop pairs, W sends in flight per sender socket
# (target: W = 8 delivers at least 1.5x what W = 1 does, with p99 < 50 ms)
WIN_PAIRS=$(( USERS < 100 ? USERS : 100 ))
w1=$(loadgen window --pairs "$WIN_PAIRS" --window 1 --seconds "$D")
w8=$(loadgen window --pairs "$WIN_PAIRS" --window 8 --seconds "$D")
emit "window-w1" "$(jget "$w1" per_s)" "$(jget "$w1" per_s)" "msg/s delivered, 1 in flight (baseline: itself)" \
  "\"p50_ms\":$(jget "$w1" p50_ms),\"p99_ms\":$(jget "$w1" p99_ms),\"errors\":$(jget "$w1" errors)"
emit "window-w8-vs-w1" "$(jget "$w8" per_s)" "$(jget "$w1" per_s)" "msg/s delivered, 8 in flight (baseline: W=1)" \
  "\"p50_ms\":$(jget "$w8" p50_ms),\"p99_ms\":$(jget "$w8" p99_ms),\"errors\":$(jget "$w8" errors)"

# 4. fan-out: send to a group whose members are all connected (target: p99 < 20 ms),
# once the presence frames of their connecting have drained (settle_s)
settle
f=$(loadgen fanout --members "$MEMBERS" --messages "$FAN_MSGS")
emit "fan-out-$MEMBERS" "$(jget "$f" last_p99_ms)" 20 "p99 ms to last member (baseline: target)" \
  "\"last_p50_ms\":$(jget "$f" last_p50_ms),\"deliveries_per_s\":$(jget "$f" deliveries_per_s),\"complete\":$(jget "$f" complete),\"connect_s\":$(jget "$f" connect_s),\"settle_s\":$(jget "$f" settle_s),\"settle_frames\":$(jget "$f" settle_frames)"
# ... and from the moment the last member is connected, while their presence is
# still on its way (a group of mutual contacts reconnecting at once: each
# member hears up to M-1 presence changes). Presence is written after a
# socket's other frames (docs/realtime.md), so the messages should not wait
# behind it; the baseline is the settled row above. How much presence was
# still to come depends on how quickly the members connected (connect_s,
# frames_at_first_send; about M*(M-1)/2 frames in all).
sleep 3  # the offline presence of the members above drains
settle
fd=$(loadgen fanout --members "$MEMBERS" --messages "$FAN_MSGS" --settle-ms 0)
emit "fan-out-$MEMBERS-in-presence" "$(jget "$fd" last_p99_ms)" "$(jget "$f" last_p99_ms)" "p99 ms to last member while presence drains (baseline: settled)" \
  "\"last_p50_ms\":$(jget "$fd" last_p50_ms),\"complete\":$(jget "$fd" complete),\"connect_s\":$(jget "$fd" connect_s),\"frames_at_first_send\":$(jget "$fd" settle_frames)"

# 5. connections: idle authenticated sockets; chatd RSS per socket (target: <= 4 KiB)
# and new authenticated sockets per second (target: >= 10,000, a reconnect storm)
# Each socket is a descriptor in chatd and in the load generator: a hard limit
# below the count (and not raisable here) caps it, and the scenario says so.
settle
fd_cap=$(( $(ulimit -Hn) - 1000 ))
if [ "$CONNS_N" -gt "$fd_cap" ]; then
  echo "connections: descriptor hard limit $(ulimit -Hn) caps the run at $fd_cap sockets (asked: $CONNS_N)" >&2
  CONNS_N=$fd_cap
fi
# The floor under the storm: the same storm against the two-thread Asio floor,
# whose /v1/ws is Beast's handshake and an idle read, nothing else (no token,
# database, session or presence). Run first: its sockets cost nothing to close.
# Before both, one storm unmeasured: the first storm after the earlier
# scenarios ran at a third of the rate of the next ones whichever server
# answered it (the floor: 5,902/s, then 14,973-17,041/s; docs/performance.md),
# a cost of the machine's state that neither server's figure should carry.
# storm PORT OUT HOLD_SECONDS: a storm of CONNS_N sockets in the background
# (its pid in lg), the load generator's output in OUT.
storm() {
  "$bin/chatd_loadgen" connections --port "$1" --users "$USERS" --count "$CONNS_N" --sources 4 \
    --seconds "$3" > "$2" &
  lg=$!; pids+=("$lg")
}
# held_cpu OUT: once every socket of the storm writing OUT is open (polled
# every 50 ms), the CPU per socket since cpu_mark: the measured storms'
# CPU is read over the opening alone, not while they idle or close.
held_cpu() {
  for _ in $(seq 6000); do grep -q holding "$1" && break; sleep 0.05; done
  cpu_json "$(jget "$(grep holding "$1")" holding)"
}
storm "$floor2_port" "$work/warm.out" 1
wait "$lg" || true
sleep 2
cpu_mark "$floor2_pid" "$work/pg"
storm "$floor2_port" "$work/floor.out" 5
floor_cpu=$(held_cpu "$work/floor.out")
wait "$lg" || true
fl=$(tail -n 1 "$work/floor.out")
floor_rate=$(jget "$fl" connect_per_s | grep . || echo 0)
sleep 2
rss() { awk '/VmRSS/ {print $2}' "/proc/$chatd_pid/status"; }
before=$(rss)
cpu_mark "$chatd_pid" "$work/pg"
storm "$port" "$work/conns.out" 5
storm_cpu=$(held_cpu "$work/conns.out")
sleep 1
during=$(rss)
wait "$lg" || true
c=$(tail -n 1 "$work/conns.out")
opened=$(jget "$c" opened); opened=${opened:-0}
per=$(awk -v a="$during" -v b="$before" -v n="$opened" 'BEGIN { if (n > 0) printf "%.2f", (a - b) / n; else print "null" }')
emit "connections-$CONNS_N" "$per" 4 "KiB RSS per socket (baseline: target)" "\"opened\":$opened"
rate=$(jget "$c" connect_per_s | grep . || echo 0)
emit "connect-rate" "$rate" 10000 \
  "authenticated sockets opened/s (baseline: target)" \
  "\"concurrent\":$(jget "$c" concurrent),\"connect_p50_ms\":$(jget "$c" connect_p50_ms),\"connect_p99_ms\":$(jget "$c" connect_p99_ms),\"tcp_p99_ms\":$(jget "$c" tcp_p99_ms),\"frames_received\":$(jget "$c" frames_received),\"asio_floor\":$floor_rate,\"vs_asio_floor\":$(vs "$rate" "$floor_rate"),$storm_cpu"
emit "connect-rate-vs-floor" "$rate" "$floor_rate" \
  "authenticated sockets opened/s (baseline: bare Beast WebSocket, same storm)" \
  "\"floor_p50_ms\":$(jget "$fl" connect_p50_ms),\"floor_p99_ms\":$(jget "$fl" connect_p99_ms),$storm_cpu,$(sed 's/"cpu_us_/"floor_cpu_us_/g; s/"idle_pct"/"floor_idle_pct"/' <<<"$floor_cpu")"

# 6. history: newest and an older page of a long conversation vs pgbench on the same SELECT
# (target: newest >= 1.0x)
settle
pg=$(pgbench -n -M prepared -h 127.0.0.1 -p "$pg_port" -U postgres -c 64 -j 2 -T "$D" -D conv=$HIST_CONV \
       -f bench/pgbench/history.sql bench 2>/dev/null | awk '/^tps/ {print $3; exit}')
h=$(loadgen history --conns 64 --seconds "$D" --conv "$HIST_CONV")
emit "history-newest" "$(jget "$h" per_s)" "$pg" "req/s" \
  "\"p50_ms\":$(jget "$h" p50_ms),\"p99_ms\":$(jget "$h" p99_ms),\"errors\":$(jget "$h" errors)"
h=$(loadgen history --conns 64 --seconds "$D" --conv "$HIST_CONV" --before $((HISTORY / 2)))
emit "history-older" "$(jget "$h" per_s)" "$pg" "req/s" \
  "\"p50_ms\":$(jget "$h" p50_ms),\"p99_ms\":$(jget "$h" p99_ms),\"errors\":$(jget "$h" errors)"

# 6b. history latency without queueing: one client (target: p99 < 1 ms)
h=$(loadgen history --conns 1 --seconds "$D" --conv "$HIST_CONV")
emit "history-newest-c1-p99" "$(jget "$h" p99_ms)" 1 "p99 ms, one client (baseline: target)" \
  "\"p50_ms\":$(jget "$h" p50_ms),\"per_s\":$(jget "$h" per_s),\"errors\":$(jget "$h" errors)"

# 7. search: the searcher's 200 conversations, SEARCH_MSGS messages, 16 clients
# (target: p99 < 50 ms), beside pgbench running the statements chatd runs for
# that term. "music" is in one message of ten: chatd walks the conversations
# newest first (search-walk.sql). "zanzibar" is in one of ten thousand: the
# walk gives up after 1,000 messages, chatd remembers the terms as rare and
# asks the trigram index (search.sql). pgbench plans each query for its term,
# as chatd does (a generic plan swung the baseline 8x).
settle
for q in music zanzibar; do
  script=bench/pgbench/search.sql
  [ "$q" = music ] && script=bench/pgbench/search-walk.sql
  pg=$(PGOPTIONS='-c plan_cache_mode=force_custom_plan' \
       pgbench -n -M prepared -h 127.0.0.1 -p "$pg_port" -U postgres -c 16 -j 2 -T "$D" -D q=$q \
         -D uid="$SEARCHER" -f "$script" bench 2>/dev/null | awk '/^tps/ {print $3; exit}')
  s=$(loadgen search --conns 16 --seconds "$D" --q "$q" --user "$SEARCHER")
  emit "search-$q" "$(jget "$s" per_s)" "${pg:-0}" "req/s (p99 target 50 ms)" \
    "\"p50_ms\":$(jget "$s" p50_ms),\"p99_ms\":$(jget "$s" p99_ms),\"errors\":$(jget "$s" errors)"
done

# 8. media: a 25 MiB attachment uploaded and downloaded by MEDIA_CONC
# concurrent curl processes, beside the same curl commands against nginx
# (a WebDAV PUT stored to disk; the same file served with sendfile).
# chatd's RSS is sampled throughout: its growth per concurrent upload
# (target: under 2 MiB) shows that uploads stream rather than buffer.
media="$work/media.jpg"
{ printf '\xff\xd8\xff\xe0'; head -c $((25 * 1024 * 1024 - 4)) /dev/urandom; } > "$media"
curl -sf -X POST "127.0.0.1:$port/v1/users" -H 'Content-Type: application/json' \
  -d '{"username":"media_bench","password":"media-bench-password"}' >/dev/null
media_token=$(curl -sf -X POST "127.0.0.1:$port/v1/sessions" -H 'Content-Type: application/json' \
  -d '{"username":"media_bench","password":"media-bench-password"}' | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
# media_run METHOD URL [curl args]: MEDIA_CONC curls, MEDIA_ROUNDS each; prints MiB/s.
media_run() {
  local method=$1 url=$2; shift 2
  local t0 t1 j
  t0=$(date +%s.%N)
  for j in $(seq "$MEDIA_CONC"); do
    ( for _ in $(seq "$MEDIA_ROUNDS"); do
        curl -sf -o /dev/null -X "$method" "$@" "$url" \
          || { echo "curl failed: $method $url" >&2; touch "$work/media.failed"; }
      done ) &
  done
  wait
  t1=$(date +%s.%N)
  # A failed transfer would make a figure up: stop instead.
  if [ -e "$work/media.failed" ]; then echo "bench: a media transfer failed" >&2; exit 1; fi
  awk -v n=$((MEDIA_CONC * MEDIA_ROUNDS)) -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", n * 25 / (b - a) }'
}
rss_now() { awk '/VmRSS/ {print $2}' "/proc/$chatd_pid/status"; }
rss_watch() {  # the highest VmRSS (KiB) until the file $1 appears
  local peak=0 v
  while [ ! -e "$1" ]; do v=$(rss_now); [ "$v" -gt "$peak" ] && peak=$v; sleep 0.02; done
  echo "$peak"
}
auth=(-H "Authorization: Bearer $media_token")
# Warm both (page cache, first-use allocations), then measure.
curl -sf -o /dev/null -X PUT -T "$media" "127.0.0.1:$media_port/media/warm.jpg"
curl -sf -o /dev/null -X POST -T "$media" "${auth[@]}" -H 'Content-Type: image/jpeg' "127.0.0.1:$port/v1/attachments"
rss_before=$(rss_now)
rm -f "$work/rss.done"; rss_watch "$work/rss.done" > "$work/rss.peak" &
up_chatd=$(media_run POST "127.0.0.1:$port/v1/attachments" -T "$media" "${auth[@]}" -H 'Content-Type: image/jpeg')
touch "$work/rss.done"; wait "$!" 2>/dev/null || true
rss_peak=$(cat "$work/rss.peak")
up_nginx=$(media_run PUT "127.0.0.1:$media_port/media/up.jpg" -T "$media")
growth=$(awk -v a="$rss_before" -v b="$rss_peak" -v c="$MEDIA_CONC" 'BEGIN { printf "%.2f", (b - a) / 1024 / c }')
emit "upload-25MiB-c$MEDIA_CONC" "$up_chatd" "$up_nginx" "MiB/s (target >= 0.8x)" \
  "\"rss_growth_mib_per_upload\":$growth"
att_id=$(curl -sf -X POST -T "$media" "${auth[@]}" -H 'Content-Type: image/jpeg' \
  "127.0.0.1:$port/v1/attachments" | sed -n 's/.*"id": *\([0-9]*\).*/\1/p')
cp "$media" "$work/nginx-media/media/file.jpg"
down_chatd=$(media_run GET "127.0.0.1:$port/v1/attachments/$att_id" "${auth[@]}")
down_nginx=$(media_run GET "127.0.0.1:$media_port/media/file.jpg")
emit "download-25MiB-c$MEDIA_CONC" "$down_chatd" "$down_nginx" "MiB/s (target >= 0.8x)"

echo
printf '%-28s %14s %14s %8s  %s\n' scenario chatd baseline ratio unit
for r in "${rows[@]}"; do echo "$r"; done
echo "results: $out"
