#!/usr/bin/env bash
# The topology's fault tests (tests/topology/): starts scripts/cluster.sh
# (HAProxy, 2 chatd, Patroni with a primary and a synchronous standby, etcd)
# in a throwaway directory on free ports, runs chatd_topology_tests against
# it (kill -9 a chatd, kill -9 the PostgreSQL primary, restart HAProxy, each
# under load with an acknowledged-message ledger), prints the figures, and
# stops the cluster whatever happens. scripts/test.sh runs it as a stage.
# Usage: scripts/fault-test.sh [BUILD_DIR] [gtest arguments...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
build="${1:-$root/build}"
[ $# -gt 0 ] && shift

scripts/install-deps.sh build test db cluster
CHATD_WERROR=ON scripts/build.sh "$build" chatd chatd_topology_tests

dir="$(mktemp -d /tmp/chatd-cluster.XXXXXX)"
report="$dir.figures"
cleanup() {
  scripts/cluster.sh down --dir "$dir" >/dev/null 2>&1 || true
  if [ "${CHATD_KEEP_CLUSTER_LOGS:-0}" = 1 ]; then echo "fault-test.sh: logs in $dir/logs"; else rm -rf "$dir"; fi
  rm -f "$report"
}
trap cleanup EXIT

# Ten ports from a random base, all free, and all below Linux's ephemeral
# range (32768-60999), so that no outgoing connection takes one of them while
# a restarted process wants it back.
free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ok=0
for attempt in $(seq 1 50); do
  base=$((20000 + (RANDOM % 1250) * 10))
  ok=1
  for off in 1 2 3 4 11 12 21 22 31 32; do free $((base + off)) || ok=0; done
  [ "$ok" = 1 ] && break
done
[ "$ok" = 1 ] || { echo "fault-test.sh: no free ports for the cluster" >&2; exit 1; }
port=$((base + 4))

scripts/cluster.sh up --detach --dir "$dir" --base "$base" --port "$port" --binary "$build/chatd" --instances 2
set +e
CHATD_CLUSTER_DIR="$dir" CHATD_CLUSTER_PORT="$port" CHATD_FAULT_REPORT="$report" \
  "$build/tests/chatd_topology_tests" "$@"
code=$?
set -e
if [ "$code" != 0 ]; then
  echo "fault-test.sh: failed; the last lines of each log:"
  for f in "$dir"/logs/*.log; do echo "== $f"; tail -n 15 "$f"; done
fi
echo "fault-test.sh: figures"
cat "$report" 2>/dev/null || true
exit "$code"
