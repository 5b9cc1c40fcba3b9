#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + coverage) into
# build-fuzz/ and runs each on a copy of its seed corpus for a bounded time.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 45 s, all)
# A crash, leak or failed check stops the run with its reproducer saved under
# var/fuzz/<target>/ and exits non-zero; the figures of each run are printed.
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
total=0
for t in "${targets[@]}"; do
  work="$(mktemp -d /tmp/chatd-fuzz.XXXXXX)"
  cp -r "tests/fuzz/corpus/$t/." "$work/" 2>/dev/null || true
  mkdir -p "$out/$t"
  log="$out/$t/last.log"
  set +e
  "$root/build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$out/$t/" -print_final_stats=1 "$work" >"$log" 2>&1
  rc=$?
  set -e
  rm -rf "$work"
  # A crash on a seed leaves no figures: the checks below still report it.
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" || true)
  cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -n 1 | awk '{print $2}')
  echo "fuzz: $t: ${execs:-0} runs in ${seconds}s, coverage ${cov:-?}, exit $rc"
  total=$((total + ${execs:-0}))
  if [ $rc -ne 0 ]; then
    echo "fuzz: $t failed; its reproducer and log are in $out/$t/" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
done
echo "fuzz: ${total} runs in all, no crash"
