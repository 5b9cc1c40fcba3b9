#!/usr/bin/env bash
# Configures and builds chatd. Usage: scripts/build.sh [BUILD_DIR] [TARGET...]
# Environment: CHATD_BUILD_TYPE (default RelWithDebInfo), CHATD_SANITIZE=ON for
# AddressSanitizer + UndefinedBehaviorSanitizer, CHATD_TSAN=ON for
# ThreadSanitizer, CHATD_WERROR=ON to fail on warnings in chatd's own code,
# CHATD_FUZZ=ON (with CXX=clang++) for the libFuzzer targets.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
# ccache shares objects between clones of the repository (paths below the
# root are hashed relative to it).
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
cmake -S "$root" -B "$dir" -G Ninja \
  -DCMAKE_BUILD_TYPE="${CHATD_BUILD_TYPE:-RelWithDebInfo}" \
  -DCHATD_SANITIZE="${CHATD_SANITIZE:-OFF}" \
  -DCHATD_TSAN="${CHATD_TSAN:-OFF}" \
  -DCHATD_WERROR="${CHATD_WERROR:-OFF}" \
  -DCHATD_FUZZ="${CHATD_FUZZ:-OFF}" \
  -DCHATD_BUILD_TESTS="${CHATD_BUILD_TESTS:-ON}" >/dev/null
# One compile job per core: Beast-heavy sources need the memory and CPU.
cmake --build "$dir" --parallel "${CHATD_BUILD_JOBS:-$(nproc)}" ${1:+--target "$@"}
