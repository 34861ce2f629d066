#!/usr/bin/env bash
# The offline data of the compile-time checked queries (sqlx's `query!` macros): each backend
# crate's `.sqlx/`, which lets every build check the crate's statements without a database.
#   scripts/sqlx-prepare.sh          regenerate it (after changing a statement or a migration)
#   scripts/sqlx-prepare.sh check    fail if it no longer matches the statements (`make test`)
# Each crate is checked against a throw-away database of its own kind made by its own
# migrations: a SQLite file, and a database on a throw-away PostgreSQL cluster (scripts/pg.sh).
# The migrations are applied by a tool that needs neither crate (crates/schema), so that a
# statement missing from the data does not stop the regeneration.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
mode=${1:-write}
say() { printf '==> %s\n' "$*" >&2; }

scripts/install-tools.sh postgres
work=$(mktemp -d "${TMPDIR:-/tmp}/kros-sqlx.XXXXXX")
chmod 755 "$work"
cleanup() {
  scripts/pg.sh stop "$work/pg" immediate >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A throw-away PostgreSQL cluster on a free port.
url=
for _ in $(seq 1 20); do
  port=$((20000 + RANDOM % 40000))
  if url=$(scripts/pg.sh start "$work/pg" "$port" 2>/dev/null); then break; fi
  url=
done
[ -n "$url" ] || { echo "could not start PostgreSQL for the offline data" >&2; exit 1; }
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
"$bin/psql" -q -d "$url/postgres" -c "CREATE DATABASE kros_sqlx" >/dev/null

# Each database made by its crate's migrations (crates/schema, which needs no backend crate).
cargo build --quiet -p kros-schema
target/debug/kros-schema "sqlite://$work/sqlite.db" crates/storage-sqlite/migrations
target/debug/kros-schema "$url/kros_sqlx" crates/storage-postgres/migrations

# Each crate rebuilt against its database, its statements' data written to a folder of its own
# (the macros do not track their environment: the touch makes cargo run them again).
failed=0
for backend in sqlite postgres; do
  crate=crates/storage-$backend
  case $backend in
    sqlite) database_url="sqlite://$work/sqlite.db" ;;
    postgres) database_url="$url/kros_sqlx" ;;
  esac
  mkdir -p "$work/$backend"
  touch "$crate/src/lib.rs"
  SQLX_OFFLINE=false DATABASE_URL="$database_url" SQLX_OFFLINE_DIR="$work/$backend" \
    cargo check --quiet -p "kros-storage-$backend"
  touch "$crate/src/lib.rs"
  if [ "$mode" = check ]; then
    if ! diff -r "$work/$backend" "$crate/.sqlx" >/dev/null 2>&1 && \
       ! { [ -z "$(ls -A "$work/$backend")" ] && [ ! -d "$crate/.sqlx" ]; }; then
      say "$crate/.sqlx does not match its statements: run scripts/sqlx-prepare.sh (make sqlx-prepare)"
      diff -r "$work/$backend" "$crate/.sqlx" || true
      failed=1
    fi
  else
    rm -rf "$crate/.sqlx"
    if [ -n "$(ls -A "$work/$backend")" ]; then cp -r "$work/$backend" "$crate/.sqlx"; fi
    say "$crate/.sqlx: $(ls "$crate/.sqlx" 2>/dev/null | wc -l) statements"
  fi
done
[ "$failed" = 0 ] || exit 1
[ "$mode" = check ] && say "the offline data matches every checked statement"
exit 0
