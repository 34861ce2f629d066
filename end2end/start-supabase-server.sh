#!/usr/bin/env bash
# Starts a second server (E2E_BIN) for the browser tests, configured for a Supabase project: the
# loopback stand-in in supabase-stand-in/ (started by Playwright beside it). Fresh database, with
# one organization whose member is the stand-in's user sam@supabase.test (by their Supabase id).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-3101}
PROJECT_PORT=${2:-3190}
RUN=end2end/.run-supabase
rm -rf "$RUN" && mkdir -p "$RUN"
export DATABASE_URL="${E2E_SUPABASE_DATABASE_URL:-sqlite://$PWD/$RUN/kros.db}"
export LEPTOS_SITE_ROOT="$PWD/target/site" LEPTOS_ENV=PROD KROS_RATE_LIMIT_PER_SECOND=0 RUST_LOG=warn
project=end2end/supabase-stand-in/project.json
export SUPABASE_URL="http://127.0.0.1:$PROJECT_PORT"
SUPABASE_PUBLISHABLE_KEY=$(node -p "require('./$project').publishable_key")
export SUPABASE_PUBLISHABLE_KEY
BIN=${E2E_BIN:-target/release/kros-numbers}
$BIN migrate >/dev/null
ORG=$($BIN org create "Supabase Organization" | tail -n 1)
node -p "require('./$project').users.filter(u => u.member).map(u => u.id + ' ' + u.email).join('\n')" |
  while read -r id email; do
    $BIN user create "$email" --supabase-id "$id" --org "$ORG" >/dev/null
  done
exec $BIN serve --addr "127.0.0.1:$PORT"
