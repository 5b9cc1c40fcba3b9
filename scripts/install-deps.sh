#!/usr/bin/env bash
# Installs the Debian packages of the named groups (scripts/packages/GROUP.txt),
# calling apt-get only when something is missing. A line `package|command`
# counts as present when the command is on PATH too (a Node from elsewhere,
# say, whose npm is not Debian's package).
# Usage: scripts/install-deps.sh build test db
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

wanted=()
for group in "$@"; do
  file="$here/packages/$group.txt"
  [ -f "$file" ] || { echo "install-deps: no package group '$group'" >&2; exit 2; }
  while read -r pkg; do
    pkg="${pkg%%#*}"; pkg="${pkg// /}"
    [ -n "$pkg" ] && wanted+=("$pkg")
  done < "$file"
done

missing=()
for entry in "${wanted[@]}"; do
  pkg="${entry%%|*}"
  if [ "$pkg" != "$entry" ] && command -v "${entry#*|}" >/dev/null 2>&1; then continue; fi
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
