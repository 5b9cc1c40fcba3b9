#!/usr/bin/env bash
# Builds chatd and its tests (warnings are errors), starts a throwaway
# PostgreSQL on a free port, and runs, stage after stage:
#   1. every unit and integration test (ctest);
#   1b. the clients (scripts/clients.sh): the TypeScript SDK against a real
#      chatd, the chat page in headless Chromium, the API documents' linters;
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer;
#   3. the concurrency tests built with ThreadSanitizer;
#   4. each libFuzzer target for a bounded time (scripts/fuzz.sh);
#   5. bench/run.sh --quick, a smoke test that the benchmark works (no timing
#      is asserted);
#   6. the production topology's fault tests (scripts/fault-test.sh): HAProxy,
#      two chatd, Patroni with a synchronous standby; kill -9 a chatd, kill -9
#      the PostgreSQL primary, restart HAProxy, under load, with a ledger of
#      every acknowledged message.
# It stops the database whatever happens. CHATD_TEST_CLIENTS=0, CHATD_TEST_ASAN=0, CHATD_TEST_TSAN=0,
# CHATD_TEST_FUZZ=0, CHATD_TEST_BENCH=0 and CHATD_TEST_TOPOLOGY=0 skip a stage; CHATD_FUZZ_SECONDS
# sets the time per fuzz target (default 30). Extra arguments go to the first
# ctest run and skip stages 2-5, e.g. scripts/test.sh -R Accounts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

scripts/install-deps.sh build test db fuzz cluster
CHATD_WERROR=ON scripts/build.sh "$root/build"

pgdir="$(mktemp -d /tmp/chatd-test-pg.XXXXXX)"
chmod 755 "$pgdir"
cleanup() {
  scripts/pg.sh stop "$pgdir/data" || true
  rm -rf "$pgdir"
}
trap cleanup EXIT

scripts/pg.sh init "$pgdir/data" 0
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000))  # below the ephemeral range (bench/lib.sh)
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # taken
  scripts/pg.sh start "$pgdir/data" "$port" && break
  [ "$attempt" -eq 5 ] && { echo "test.sh: could not start PostgreSQL" >&2; exit 1; }
done
export CHATD_TEST_PG="host=127.0.0.1 port=$port user=postgres"
echo "test.sh: throwaway PostgreSQL on 127.0.0.1:$port"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
stage() { echo; echo "test.sh: ==== $* ($(date -u +%H:%M:%S))"; }

# The churn test is a load test with a latency bound (an event acknowledged
# seconds ago must have arrived): it runs alone, not beside another test that
# takes the other core (under ASan that doubled its delivery latency once).
serial='^Realtime\.Churned'
suite() {  # suite BUILD_DIR TIMEOUT
  ctest --test-dir "$1" --output-on-failure --timeout "$2" -j "$(nproc)" -E "$serial"
  ctest --test-dir "$1" --output-on-failure --timeout "$2" -R "$serial"
}

stage "unit and integration tests"
if [ $# -gt 0 ]; then
  ctest --test-dir "$root/build" --output-on-failure --timeout 300 -j "$(nproc)" "$@"
  exit 0
fi
suite "$root/build" 300

if [ "${CHATD_TEST_CLIENTS:-1}" = 1 ]; then
  stage "clients: the SDK, the chat page in Chromium, the API documents"
  CHATD_BINARY="$root/build/chatd" scripts/clients.sh
fi

if [ "${CHATD_TEST_ASAN:-1}" = 1 ]; then
  stage "the whole suite under AddressSanitizer + UndefinedBehaviorSanitizer"
  # Only what the stage runs: the server and the two suites (not the
  # benchmark tools or the topology tests).
  CHATD_BUILD_TYPE=Check CHATD_SANITIZE=ON CHATD_WERROR=ON scripts/build.sh "$root/build-asan" \
    chatd chatd_unit_tests chatd_integration_tests
  # Leaks are reported at exit of every chatd and test process; suppressions
  # (one line each, with the reason) live in tests/sanitizers/.
  CHATD_TEST_SLOWDOWN=3 \
  ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1" \
  LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    suite "$root/build-asan" 600
fi

if [ "${CHATD_TEST_TSAN:-1}" = 1 ]; then
  stage "the concurrency tests under ThreadSanitizer"
  CHATD_BUILD_TYPE=Check CHATD_TSAN=ON scripts/build.sh "$root/build-tsan" \
    chatd chatd_unit_tests chatd_integration_tests
  # The hub's parts, the worker pool, the token cache, the client session and
  # the newest-page cache (unit), and the send batcher, fan-out, presence,
  # notify channel, push workers, the HTTP deadline sweep and the newest-page
  # cache with a real database and real sockets (integration).
  CHATD_TEST_SLOWDOWN=5 \
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/sanitizers/tsan.supp" \
    ctest --test-dir "$root/build-tsan" --output-on-failure --timeout 600 -j "$(nproc)" \
      -R '^(SessionIndex|FanOutTest|Presence|WorkerPool|TokenCache|TokenBucket|ClientSession|NewestPages|HttpServer)\.|^(GroupCommit\.|Messages\.TheNewestPage|WebSocket\.SocketsStartingTogether|Realtime\.(ASync|Sixty|Closing|AUser|TheNotify)|WebSocket\.(Events|TwoHundred|SyncRacing|AClientThatNeverReads)|WsProtocol\.|Push\.(TwoInstances|AFailingWebhook))'
fi

if [ "${CHATD_TEST_FUZZ:-1}" = 1 ]; then
  stage "fuzzing, ${CHATD_FUZZ_SECONDS:-30} s per target"
  scripts/fuzz.sh "${CHATD_FUZZ_SECONDS:-30}"
fi

if [ "${CHATD_TEST_BENCH:-1}" = 1 ]; then
  stage "benchmark smoke run (bench/run.sh --quick)"
  bench/run.sh --quick
fi
if [ "${CHATD_TEST_TOPOLOGY:-1}" = 1 ]; then
  stage "the topology's fault tests (scripts/fault-test.sh)"
  scripts/fault-test.sh "$root/build"
fi
echo "test.sh: every stage passed"
