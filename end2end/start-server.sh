#!/usr/bin/env bash
# Starts the server (E2E_BIN; `make e2e` gives the dev build) for the browser tests on a fresh database, with the demo seeded and
# a second organization (for isolation tests), and a user in two organizations (the switcher). What the tests need to know goes to end2end/.run/.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-3100}
RUN=end2end/.run
rm -rf "$RUN" && mkdir -p "$RUN"
export DATABASE_URL="${E2E_DATABASE_URL:-sqlite://$PWD/$RUN/kros.db}"
export LEPTOS_SITE_ROOT="$PWD/target/site" LEPTOS_ENV=PROD
export SUPABASE_JWT_SECRET=e2e-secret-e2e-secret-e2e-secret-0123
export KROS_RATE_LIMIT_PER_SECOND=0 RUST_LOG=warn
# The webhook receivers of the tests listen on loopback.
export KROS_WEBHOOK_ALLOW_PRIVATE_URLS=true
BIN=${E2E_BIN:-target/release/kros-numbers}
$BIN seed-demo --key-file "$RUN/demo-api-key" > "$RUN/seed.log"
ORG=$(sed -n 's/^demo organization: //p' "$RUN/seed.log")
$BIN key create --org "$ORG" --mode live --name "e2e live" 2>/dev/null | tail -n 1 > "$RUN/demo-live-key"
OTHER=$($BIN org create "Other Organization" | tail -n 1)
$BIN user create other@kros.local --password other-password-1 --org "$OTHER" >/dev/null
$BIN key create --org "$OTHER" --mode live --name "other live" 2>/dev/null | tail -n 1 > "$RUN/other-live-key"
TEAM=$($BIN org create "Team Organization" | tail -n 1)
$BIN user create team@kros.local --password team-password-1 --org "$TEAM" >/dev/null
$BIN key create --org "$TEAM" --mode live --name "team live" >/dev/null 2>&1
$BIN user add team@kros.local --org "$OTHER" >/dev/null
exec $BIN serve --addr "127.0.0.1:$PORT"
