#!/usr/bin/env bash
# Builds and tests the clients against a real chatd: the TypeScript SDK
# (clients/js, Node's test runner) and the chat page in headless Chromium
# (clients/web, puppeteer-core on Debian's chromium), then lints the API
# documents (docs/openapi.yaml with @redocly/cli, docs/asyncapi.yaml with the
# AsyncAPI parser). Installs its own packages (apt-get, npm ci).
# Usage: scripts/clients.sh        (needs CHATD_TEST_PG, as scripts/test.sh sets;
#                                   CHATD_BINARY defaults to build/chatd)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh clients
export CHATD_BINARY="${CHATD_BINARY:-$root/build/chatd}"
export CHATD_ARTIFACTS="${CHATD_ARTIFACTS:-$root/var/artifacts}"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
# puppeteer-core never downloads a browser; say so anyway for any tool that might.
export PUPPETEER_SKIP_DOWNLOAD=1

(cd clients/js && npm ci --silent && npm test)
(cd clients/web && npm ci --silent && npm test)
(cd docs && npm ci --silent && npm run lint)
echo "clients.sh: SDK, browser and document checks passed (screenshot in $CHATD_ARTIFACTS/)"
