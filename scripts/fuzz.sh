#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + coverage) into
# build-fuzz/ and runs each on a copy of its seed corpus for a bounded time.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 45 s, all)
# Targets run side by side, one per core (CHATD_FUZZ_JOBS to change). A
# crash, leak or failed check fails the run, with its reproducer saved under
# var/fuzz/<target>/; the figures of each run are printed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-45}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_notice fuzz_text fuzz_config fuzz_http fuzz_ws_frame fuzz_ws_wire fuzz_bodies)

scripts/install-deps.sh build test fuzz
CXX=clang++ CHATD_BUILD_TYPE=Check CHATD_FUZZ=ON CHATD_BUILD_TESTS=OFF scripts/build.sh "$root/build-fuzz" "${targets[@]}"

out="$root/var/fuzz"
mkdir -p "$out"
# One target per core at a time: each is one process on one core.
at_once="${CHATD_FUZZ_JOBS:-$(nproc)}"

# run_one TARGET: runs it on a copy of its seeds; its exit code goes to
# var/fuzz/TARGET/last.rc, its output to last.log.
run_one() {
  local t="$1" work rc
  work="$(mktemp -d /tmp/chatd-fuzz.XXXXXX)"
  cp -r "tests/fuzz/corpus/$t/." "$work/" 2>/dev/null || true
  mkdir -p "$out/$t"
  set +e
  "$root/build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$out/$t/" -print_final_stats=1 "$work" \
    >"$out/$t/last.log" 2>&1
  rc=$?
  set -e
  rm -rf "$work"
  echo "$rc" >"$out/$t/last.rc"
}

for t in "${targets[@]}"; do
  rm -f "$out/$t/last.rc"
  while [ "$(jobs -rp | wc -l)" -ge "$at_once" ]; do wait -n || true; done
  run_one "$t" &
done
wait

total=0
failed=0
for t in "${targets[@]}"; do
  log="$out/$t/last.log"
  rc="$(cat "$out/$t/last.rc" 2>/dev/null || echo 1)"
  # A crash on a seed leaves no figures: the checks below still report it.
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" || true)
  cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -n 1 | awk '{print $2}')
  echo "fuzz: $t: ${execs:-0} runs in ${seconds}s, coverage ${cov:-?}, exit $rc"
  total=$((total + ${execs:-0}))
  if [ "$rc" -ne 0 ]; then
    echo "fuzz: $t failed; its reproducer and log are in $out/$t/" >&2
    tail -n 40 "$log" >&2
    failed=1
  fi
done
[ "$failed" -eq 0 ] || exit 1
echo "fuzz: ${total} runs in all, no crash"
