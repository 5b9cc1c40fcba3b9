#!/usr/bin/env bash
# Builds chatd and its tests, starts a throwaway PostgreSQL on a free port,
# runs every test with ctest, and stops the database whatever happens. Then
# runs `bench/run.sh --quick` as a smoke test that the benchmark works (no
# timing is asserted); CHATD_TEST_BENCH=0 skips it.
# Extra arguments go to ctest, e.g. scripts/test.sh -R Accounts (and skip the
# benchmark).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh build test db
scripts/build.sh "$root/build"

pgdir="$(mktemp -d /tmp/chatd-test-pg.XXXXXX)"
chmod 755 "$pgdir"
cleanup() {
  scripts/pg.sh stop "$pgdir/data" || true
  rm -rf "$pgdir"
}
trap cleanup EXIT

scripts/pg.sh init "$pgdir/data" 0
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # taken
  scripts/pg.sh start "$pgdir/data" "$port" && break
  [ "$attempt" -eq 5 ] && { echo "test.sh: could not start PostgreSQL" >&2; exit 1; }
done
export CHATD_TEST_PG="host=127.0.0.1 port=$port user=postgres"
echo "test.sh: throwaway PostgreSQL on 127.0.0.1:$port"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ctest --test-dir "$root/build" --output-on-failure --timeout 300 -j "$(nproc)" "$@"

if [ "${CHATD_TEST_BENCH:-1}" = 1 ] && [ $# -eq 0 ]; then
  echo "test.sh: benchmark smoke run (bench/run.sh --quick)"
  bench/run.sh --quick
fi
