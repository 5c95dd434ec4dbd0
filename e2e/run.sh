#!/usr/bin/env bash
# Browser end-to-end tests of the staff UI. Installs what is missing (Chromium
# from Debian, the npm packages from the lockfile), builds the server unless
# STUDYLINK_BIN names one, then runs e2e/run.mjs, which prints
#   e2e: N passed, M failed, K skipped …
# and exits non-zero on any failure. Extra arguments go to node.
#
# Environment: STUDYLINK_BIN, STUDYLINK_CORPUS, CARGO_TARGET_DIR, CHROMIUM, E2E_OUT.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(cd .. && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/studylink-target}
export STUDYLINK_CORPUS=${STUDYLINK_CORPUS:-$(cd "$ROOT/.." && pwd)/shared/corpus}
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}

say() { printf '\n== e2e: %s\n' "$*"; }

# --- the browser: Debian's Chromium (playwright-core never downloads one) ---
if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing chromium (Debian package)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "e2e: no browser at $CHROMIUM: run  sudo apt-get install chromium  (or set CHROMIUM)" >&2
    exit 1
  fi
fi

# --- Node packages, exactly as locked; reinstalled when the lockfile changes ---
command -v node >/dev/null && command -v npm >/dev/null || { echo "e2e: Node.js 18+ and npm are needed" >&2; exit 1; }
stamp=node_modules/.studylink-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
fi

# --- the server ---
if [ -z "${STUDYLINK_BIN:-}" ]; then
  say "cargo build -p studylink"
  (cd "$ROOT" && cargo build -p studylink --locked)
  export STUDYLINK_BIN="$CARGO_TARGET_DIR/debug/studylink"
fi

say "running (screenshots in ${E2E_OUT:-$ROOT/target/e2e})"
exec node run.mjs "$@"
