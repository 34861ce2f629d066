#!/usr/bin/env bash
# The PostgreSQL half of `make test`: installs PostgreSQL if missing, starts a throw-away cluster
# on a free loopback port (an unprivileged user, no Docker, no system service), runs against it
#   rust: the whole REST suite (tests/api, a fresh database per test), the calls through a real
#         Kamailio (tests/api/sip_calls.rs), the scale-out race tests
#         (two `serve` processes on one database, tests/scale_out.rs) and the fault test (a
#         cluster of its own, crashed and restarted under load, tests/db_fault.rs);
#   e2e:  the Playwright suite against the release server (`make build` first) on PostgreSQL;
# and stops the cluster afterwards, whatever happened.
#   scripts/test-postgres.sh [rust] [e2e]      (default: rust)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

rust=0
e2e=0
for arg in "${@:-rust}"; do
  case "$arg" in
    rust) rust=1 ;;
    e2e) e2e=1 ;;
    *) echo "usage: $0 [rust] [e2e]" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*" >&2; }

scripts/install-tools.sh postgres

# The cluster lives in a fresh folder; as root pg.sh runs it as the `postgres` user, who must be
# able to reach it.
dir=$(mktemp -d "${TMPDIR:-/tmp}/kros-pg.XXXXXX")
chmod 755 "$dir"
cleanup() {
  scripts/pg.sh stop "$dir/data" fast >/dev/null 2>&1 || scripts/pg.sh stop "$dir/data" immediate >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A free port: try random high ports until one starts (pg_ctl fails if the port is taken).
url=
for _ in $(seq 1 20); do
  port=$((20000 + RANDOM % 40000))
  if url=$(scripts/pg.sh start "$dir/data" "$port" 2>/dev/null); then
    break
  fi
  url=
done
[ -n "$url" ] || { echo "could not start PostgreSQL on a free port (see $dir/data/log)" >&2; tail -n 20 "$dir/data/log" >&2 || true; exit 1; }
say "PostgreSQL test cluster at $url"
export KROS_TEST_POSTGRES_URL="$url"

started=$SECONDS
summary=()
if [ "$rust" = 1 ]; then
  # Small pools per test app (5) and a few tests at a time stay far below max_connections=300.
  say "REST suite on PostgreSQL"
  cargo test --features ssr --test api -- --test-threads="${KROS_PG_TEST_THREADS:-4}"
  summary+=("REST suite $((SECONDS - started))s")

  step=$SECONDS
  say "calls through a real Kamailio (SIPp peers) on PostgreSQL"
  scripts/install-tools.sh sip
  cargo test --features ssr --test api -- --ignored sip_calls
  summary+=("calls $((SECONDS - step))s")

  step=$SECONDS
  say "scale-out race tests, the database fault tests and the upgrade test on PostgreSQL"
  # The PostgreSQL tests are #[ignore]d in a plain `cargo test`; the SQLite ones ran in `make unit`.
  cargo test --features ssr --test scale_out --test db_fault --test storage_upgrade --test storage_faults \
    --test webhook_delivery -- --include-ignored --skip sqlite_ --nocapture
  summary+=("scale-out + fault $((SECONDS - step))s")
fi

if [ "$e2e" = 1 ]; then
  step=$SECONDS
  say "Playwright suite against the release server on PostgreSQL"
  db="kros_e2e_$$"
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  "$bin/psql" -q -d "$url/postgres" -c "CREATE DATABASE $db" >/dev/null
  "$bin/psql" -q -d "$url/postgres" -c "CREATE DATABASE ${db}_supabase" >/dev/null
  (cd end2end && E2E_DATABASE_URL="$url/$db" E2E_SUPABASE_DATABASE_URL="$url/${db}_supabase" npx playwright test)
  summary+=("Playwright $((SECONDS - step))s")
fi

say "PostgreSQL tests passed: ${summary[*]} (total $((SECONDS - started))s)"
