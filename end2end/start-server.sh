#!/usr/bin/env bash
# Starts the release server for the browser tests on a fresh database with the demo seeded.
# The demo test-mode API key is written to end2end/.run/demo-api-key for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${1:-3100}
RUN=end2end/.run
rm -rf "$RUN" && mkdir -p "$RUN"
export DATABASE_URL="${E2E_DATABASE_URL:-sqlite://$PWD/$RUN/kros.db}"
export LEPTOS_SITE_ROOT="$PWD/target/site" LEPTOS_ENV=PROD
export SUPABASE_JWT_SECRET=e2e-secret-e2e-secret-e2e-secret-0123
export KROS_RATE_LIMIT_PER_SECOND=0
target/release/kros-numbers seed-demo --key-file "$RUN/demo-api-key" > "$RUN/seed.log"
exec target/release/kros-numbers serve --addr "127.0.0.1:$PORT"
