#!/usr/bin/env bash
# Builds the SDK and the chat page and serves the page on its own origin.
# Usage: scripts/web.sh [PORT] [CHATD_URL]   (defaults 5173, http://127.0.0.1:8080)
# chatd must allow the page's origin:
#   CHATD_CORS_ORIGINS=http://127.0.0.1:5173 scripts/run.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
port="${1:-5173}"
api="${2:-http://127.0.0.1:8080}"
scripts/install-deps.sh clients
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false PUPPETEER_SKIP_DOWNLOAD=1
(cd clients/js && npm ci --silent && npm run build --silent)
(cd clients/web && npm ci --silent && npm run build --silent)
echo "web.sh: open http://127.0.0.1:$port/?api=$api"
exec node clients/web/serve.mjs "$port"
