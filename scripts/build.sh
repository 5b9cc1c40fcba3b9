#!/usr/bin/env bash
# Configures and builds chatd. Usage: scripts/build.sh [BUILD_DIR] [TARGET...]
# Environment: CHATD_BUILD_TYPE (default RelWithDebInfo), CHATD_SANITIZE=ON for
# AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
cmake -S "$root" -B "$dir" -G Ninja \
  -DCMAKE_BUILD_TYPE="${CHATD_BUILD_TYPE:-RelWithDebInfo}" \
  -DCHATD_SANITIZE="${CHATD_SANITIZE:-OFF}" \
  -DCHATD_BUILD_TESTS="${CHATD_BUILD_TESTS:-ON}" >/dev/null
# One compile job per core: Beast-heavy sources need the memory and CPU.
cmake --build "$dir" --parallel "${CHATD_BUILD_JOBS:-$(nproc)}" ${1:+--target "$@"}
