#!/usr/bin/env bash
# The production topology on one machine: etcd, two PostgreSQL nodes under
# Patroni (a primary and a synchronous standby, automatic failover), N chatd
# instances following the primary through a libpq multi-host URL, and HAProxy
# in front (HTTP and WebSocket on one port, health checks on /readyz).
#
#   scripts/cluster.sh [--instances N] [--port P] [--dir DIR]
#       builds chatd, starts everything, prints the URL; Ctrl-C stops all of it.
#   scripts/cluster.sh up --detach [...]   the same, in the background (tests)
#   scripts/cluster.sh down --dir DIR      stops a detached cluster
#   scripts/cluster.sh status --dir DIR    who is primary, which chatd is up
#   scripts/cluster.sh kill-chatd I | start-chatd I | stop-chatd I
#   scripts/cluster.sh kill-primary        kill -9 the primary's Patroni and PostgreSQL
#   scripts/cluster.sh start-node pgN      bring a killed node back (it rejoins)
#   scripts/cluster.sh restart-haproxy
#   scripts/cluster.sh leader              prints the leader's name (pg1 or pg2)
#   scripts/cluster.sh sockets             open WebSockets per chatd instance
# Every listener is on 127.0.0.1. Ports: HAProxy on P (default 8080); the rest
# from --base B (default 27000): etcd B+1/B+2, PostgreSQL B+11/B+12, Patroni's
# REST API B+21/B+22, chatd B+31.., HAProxy's stats page B+3.
# docs/operations.md describes the topology and the fault tests that use it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

action=run
case "${1:-}" in
  up|down|status|sockets|kill-chatd|start-chatd|stop-chatd|kill-primary|start-node|restart-haproxy|leader)
    action="$1"; shift ;;
esac
instances=2 port=8080 base=27000 dir="$root/var/cluster" detach=0 binary="" arg=""
while [ $# -gt 0 ]; do
  case "$1" in
    --instances) instances="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --base) base="$2"; shift 2 ;;
    --dir) dir="$2"; shift 2 ;;
    --detach) detach=1; shift ;;
    --binary) binary="$2"; shift 2 ;;   # a chatd already built (tests)
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "cluster.sh: unknown option $1" >&2; exit 2 ;;
    *) arg="$1"; shift ;;
  esac
done
[ "$action" = run ] && action=up && detach=0
case "$instances" in ''|*[!0-9]*) echo "cluster.sh: --instances must be a number" >&2; exit 2 ;; esac

# A running cluster's settings live in its directory, so later commands need
# only --dir.
if [ "$action" != up ]; then
  [ -f "$dir/cluster.env" ] || { echo "cluster.sh: no cluster in $dir" >&2; exit 1; }
  dir="$(cd "$dir" && pwd)"
  # shellcheck disable=SC1091
  . "$dir/cluster.env"
fi

etcd_port=$((base + 1)) etcd_peer=$((base + 2)) stats_port=$((base + 3))
pg_port() { echo $((base + 10 + ${1#pg})); }
rest_port() { echo $((base + 20 + ${1#pg})); }
chatd_port() { echo $((base + 30 + $1)); }
# PostgreSQL's binaries (found again after `up` has installed packages).
find_bindir() { bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"; }
find_bindir

# As root, Patroni and PostgreSQL run as `postgres` (PostgreSQL refuses root).
# setpriv execs the program itself, so the pid we keep is Patroni's and a
# TERM reaches it directly (runuser would stay in between and SIGKILL it 2 s
# later), and the descriptor limit is kept.
as_pg=()
[ "$(id -u)" -eq 0 ] && as_pg=(setpriv --reuid=postgres --regid=postgres --init-groups --reset-env --)

log() { echo "cluster.sh: $*" >&2; }
pid_of() { cat "$dir/run/$1.pid" 2>/dev/null || true; }
alive() { local p; p="$(pid_of "$1")"; [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# start NAME LOGFILE CMD...: in its own process group, pid in run/NAME.pid.
start() {
  local name="$1" logf="$2"; shift 2
  setsid "$@" >>"$logf" 2>&1 < /dev/null &
  echo $! > "$dir/run/$name.pid"
}

# stop NAME [SIGNAL]: signals the process group, waits up to 30 s.
stop() {
  local name="$1" sig="${2:-TERM}" p
  p="$(pid_of "$name")"
  [ -n "$p" ] || return 0
  kill -"$sig" -- "-$p" 2>/dev/null || kill -"$sig" "$p" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$p" 2>/dev/null || true
  rm -f "$dir/run/$name.pid"
}

wait_for() {  # wait_for SECONDS DESCRIPTION CMD...
  local secs="$1" what="$2"; shift 2
  for _ in $(seq 1 $((secs * 10))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  log "timed out after ${secs}s waiting for $what"; return 1
}

http_ok() { curl -fsS --max-time 2 "$1" >/dev/null; }

# The node that holds the leader key, as Patroni's REST API says (200 on
# /primary only there).
leader() {
  local n
  for n in pg1 pg2; do
    alive "patroni-$n" || continue
    if curl -fsS --max-time 1 "http://127.0.0.1:$(rest_port $n)/primary" >/dev/null 2>&1; then
      echo "$n"; return 0
    fi
  done
  return 1
}

database_url() {
  echo "host=127.0.0.1,127.0.0.1 port=$(pg_port pg1),$(pg_port pg2) user=postgres dbname=chatd target_session_attrs=read-write connect_timeout=2"
}

write_patroni_config() {
  local n="$1" pgp restp
  pgp="$(pg_port "$n")" restp="$(rest_port "$n")"
  cat > "$dir/$n.yml" <<EOF
scope: chatd
name: $n
log:
  level: WARNING
restapi:
  listen: 127.0.0.1:$restp
  connect_address: 127.0.0.1:$restp
etcd3:
  host: 127.0.0.1:$etcd_port
bootstrap:
  dcs:
    # A dead primary's leader key expires after ttl seconds; then the
    # synchronous standby takes it. loop_wait + 2 * retry_timeout <= ttl.
    ttl: 20
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    # Every commit waits for the standby: an acknowledged message is on two
    # servers, so a failover loses none.
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 300
        wal_log_hints: "on"
        synchronous_commit: "on"
        wal_keep_size: 256MB
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
postgresql:
  listen: 127.0.0.1:$pgp
  connect_address: 127.0.0.1:$pgp
  data_dir: $dir/$n
  bin_dir: $bindir
  pgpass: $dir/run/pgpass-$n
  authentication:
    superuser: {username: postgres, password: postgres}
    replication: {username: replicator, password: replicator}
    rewind: {username: postgres, password: postgres}
  pg_hba:
    - local all all trust
    - host all all 127.0.0.1/32 trust
    - host replication all 127.0.0.1/32 trust
  parameters:
    unix_socket_directories: $dir/run
EOF
}

start_node() {  # start_node pgN
  local n="$1"
  alive "patroni-$n" && return 0
  start "patroni-$n" "$dir/logs/patroni-$n.log" "${as_pg[@]}" patroni "$dir/$n.yml"
}

start_chatd() {  # start_chatd I
  local i="$1" p
  alive "chatd-$i" && return 0
  p="$(chatd_port "$i")"
  DATABASE_URL="$(database_url)" CHATD_LISTEN="127.0.0.1:$p" CHATD_DATA_DIR="$dir/data" \
  CHATD_LOG_FORMAT=json start "chatd-$i" "$dir/logs/chatd-$i.log" "$binary"
  wait_for 60 "chatd-$i on :$p" http_ok "http://127.0.0.1:$p/readyz" ||
    { tail -n 20 "$dir/logs/chatd-$i.log" >&2; return 1; }
}

write_haproxy_config() {
  local i servers=""
  for i in $(seq 1 "$instances"); do
    servers+="  server chatd-$i 127.0.0.1:$(chatd_port "$i") check"$'\n'
  done
  # What HAProxy answers itself (no instance ready, a request it refuses),
  # in the API's error shape.
  for code in 502 503 504; do
    local text=unavailable
    [ "$code" = 504 ] && text=timeout
    local body="{\"error\":{\"code\":\"unavailable\",\"message\":\"no chatd instance could answer ($code $text); retry shortly\"}}"
    printf 'HTTP/1.1 %s Service Unavailable\r\nContent-Type: application/json\r\nCache-Control: no-store\r\nRetry-After: 1\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' \
      "$code" "${#body}" "$body" > "$dir/run/error-$code.http"
  done
  cat > "$dir/haproxy.cfg" <<EOF
# Generated by scripts/cluster.sh.
global
  # Each proxied connection holds two descriptors.
  maxconn $(( ($(ulimit -n) - 200) / 2 ))
  log stderr format raw local0 warning
  pidfile $dir/run/haproxy.pidfile

defaults
  mode http
  log global
  option httplog
  option dontlognull
  timeout connect 2s
  timeout client 75s          # longer than chatd's idle timeouts
  timeout server 75s
  timeout http-request 10s
  timeout client-fin 10s
  # An upgraded WebSocket is a tunnel: chatd pings every socket well inside
  # this, so only a dead peer reaches it.
  timeout tunnel 1h
  # A refused connect (an instance gone or stopping) is retried elsewhere.
  retries 3
  option redispatch 1
  errorfile 502 $dir/run/error-502.http
  errorfile 503 $dir/run/error-503.http
  errorfile 504 $dir/run/error-504.http

frontend chatd
  bind 127.0.0.1:$port
  default_backend chatd

backend chatd
  # Sockets are long-lived: send each new one to the instance with fewest.
  balance leastconn
  option httpchk GET /readyz
  http-check expect status 200
  # An instance that is draining (SIGTERM) or lost its database answers 503 on
  # /readyz and stops getting new requests within about a second; its open
  # WebSockets are closed by chatd itself (1001) and clients come back here.
  default-server inter 500ms fastinter 250ms downinter 1s fall 2 rise 2
$servers
listen stats
  bind 127.0.0.1:$stats_port
  stats enable
  stats uri /
EOF
  haproxy -c -q -f "$dir/haproxy.cfg"
}

start_haproxy() {
  alive haproxy && return 0
  start haproxy "$dir/logs/haproxy.log" haproxy -W -db -f "$dir/haproxy.cfg"
  wait_for 10 "HAProxy on :$port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
}

down() {
  local i
  stop haproxy
  for f in "$dir"/run/chatd-*.pid; do [ -e "$f" ] && stop "$(basename "$f" .pid)"; done
  stop patroni-pg2; stop patroni-pg1
  # A PostgreSQL whose Patroni was killed outlives it: stop it too.
  for n in pg1 pg2; do
    if [ -n "$bindir" ] && [ -f "$dir/$n/postmaster.pid" ]; then
      "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/$n" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
  done
  stop etcd
}

refuse_if_running() {
  if [ -f "$dir/cluster.env" ] && [ -n "$(ls "$dir"/run/*.pid 2>/dev/null)" ]; then
    log "$dir already has a cluster running; scripts/cluster.sh down --dir $dir first"; exit 1
  fi
}

up() {
  "$root/scripts/install-deps.sh" build db cluster
  find_bindir
  [ -x "$bindir/pg_ctl" ] || { log "PostgreSQL server binaries not found"; exit 1; }
  if [ -z "$binary" ]; then
    "$root/scripts/build.sh" "$root/build" chatd
    binary="$root/build/chatd"
  fi
  binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
  refuse_if_running
  rm -rf "$dir"; mkdir -p "$dir"/{run,logs,data,etcd}
  dir="$(cd "$dir" && pwd)"
  printf 'instances=%q port=%q base=%q binary=%q\n' "$instances" "$port" "$base" "$binary" > "$dir/cluster.env"
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  # PostgreSQL runs as `postgres` when we are root; it must reach $dir.
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$dir" "$dir/run" "$dir/logs"
    chmod 755 "$dir"
    local d="$dir"
    while [ "$d" != / ]; do d="$(dirname "$d")"; runuser -u postgres -- test -x "$d" || chmod o+x "$d"; done
  fi

  log "etcd on 127.0.0.1:$etcd_port"
  start etcd "$dir/logs/etcd.log" etcd --name etcd1 --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-cluster "etcd1=http://127.0.0.1:$etcd_peer" --initial-cluster-state new \
    --log-level warn
  wait_for 30 etcd http_ok "http://127.0.0.1:$etcd_port/health"

  log "PostgreSQL pg1 (:$(pg_port pg1)) and pg2 (:$(pg_port pg2)) under Patroni"
  write_patroni_config pg1; write_patroni_config pg2
  start_node pg1
  wait_for 90 "pg1 to become primary" leader || { tail -n 30 "$dir/logs/patroni-pg1.log" >&2; exit 1; }
  start_node pg2
  # Synchronous: the standby must be streaming and named synchronous before
  # chatd acknowledges anything.
  wait_for 120 "pg2 to stream as the synchronous standby" \
    bash -c "curl -fsS --max-time 1 http://127.0.0.1:$(rest_port pg1)/cluster | grep -q '\"sync_standby\"'" ||
    { tail -n 30 "$dir/logs/patroni-pg2.log" >&2; exit 1; }
  psql -h 127.0.0.1 -p "$(pg_port "$(leader)")" -U postgres -d postgres -qtAX \
    -c "CREATE DATABASE chatd" >/dev/null

  for i in $(seq 1 "$instances"); do
    log "chatd-$i on 127.0.0.1:$(chatd_port "$i")"
    start_chatd "$i"
  done
  write_haproxy_config
  start_haproxy
  echo "chatd cluster: http://127.0.0.1:$port  (ws://127.0.0.1:$port/v1/ws; HAProxy stats http://127.0.0.1:$stats_port/)"
  echo "  $instances chatd instance(s), PostgreSQL primary $(leader) with a synchronous standby; logs in $dir/logs"
}

case "$action" in
  up)
    if [ "$detach" = 1 ]; then up; exit 0; fi
    refuse_if_running  # before the traps: they would stop the running one
    trap 'log "stopping"; down; exit 0' INT TERM
    trap 'down' EXIT
    up
    log "Ctrl-C stops the cluster"
    while true; do sleep 1; done
    ;;
  down) down ;;
  leader) leader ;;
  sockets)
    for i in $(seq 1 "$instances"); do
      n="$(curl -fsS --max-time 2 "http://127.0.0.1:$(chatd_port "$i")/metrics" 2>/dev/null |
             awk '$1 == "chatd_websocket_connections" {print $2}')"
      echo "chatd-$i ${n:-down}"
    done
    ;;
  status)
    echo "primary: $(leader || echo none)"
    for n in pg1 pg2; do
      curl -fsS --max-time 1 "http://127.0.0.1:$(rest_port $n)/cluster" 2>/dev/null |
        python3 -c 'import json,sys; [print("%s: %s, %s" % (m["name"], m["role"], m["state"])) for m in json.load(sys.stdin)["members"]]' &&
        break
    done
    for f in "$dir"/run/*.pid; do
      n="$(basename "$f" .pid)"
      if alive "$n"; then echo "$n: running (pid $(pid_of "$n"))"; else echo "$n: not running"; fi
    done
    ;;
  kill-chatd) stop "chatd-$arg" KILL ;;
  stop-chatd) stop "chatd-$arg" TERM ;;
  start-chatd) start_chatd "$arg" ;;
  kill-primary)
    n="$(leader)" || { log "no primary"; exit 1; }
    # The whole node dies at once: Patroni first (so it cannot restart
    # PostgreSQL), then every PostgreSQL process of that data directory.
    stop "patroni-$n" KILL
    pm="$(head -n 1 "$dir/$n/postmaster.pid" 2>/dev/null || true)"
    # Only a postmaster of this data directory (the pid file may be stale);
    # stopped first so that it forks nothing while its children die.
    if [ -n "$pm" ] && [ "$(readlink "/proc/$pm/cwd" 2>/dev/null)" = "$dir/$n" ]; then
      kill -STOP "$pm" 2>/dev/null || true
      pkill -KILL -P "$pm" 2>/dev/null || true
      kill -KILL "$pm" 2>/dev/null || true
    fi
    echo "$n"
    ;;
  start-node) start_node "$arg" ;;
  restart-haproxy) stop haproxy KILL; start_haproxy ;;
esac
