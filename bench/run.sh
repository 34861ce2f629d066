#!/usr/bin/env bash
# `make bench` (DB=sqlite, the default) and `make bench DB=postgres`: builds the release app and
# the ceiling, installs the load generator and Lighthouse if missing, then runs bench/bench.py,
# which measures everything on 127.0.0.1 and writes BENCHMARKS.md, then (SQLite) bench/sip.py, the
# calls through Kamailio. A bounded run: a few minutes once built.
#   BENCH_DURATION (5) and BENCH_WARMUP (2): seconds per measured run and per warm-up.
#   BENCH_PAGE_PATH (/): the server-rendered page to measure.
#   BENCH_LIGHTHOUSE_RUNS (3): Lighthouse runs per page (the median's is kept; 0: no Lighthouse).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
DB=${DB:-sqlite}
case "$DB" in
  sqlite|postgres) ;;
  *) echo "DB must be sqlite or postgres, got '$DB'" >&2; exit 2 ;;
esac

say() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

scripts/install-tools.sh build
if [ "$DB" = postgres ]; then scripts/install-tools.sh postgres; fi
# Lighthouse and Chromium. A failure here does not stop the run: bench.py reports Lighthouse as
# not run (and its budget rows as missed), with the reason.
scripts/install-tools.sh lighthouse || say "Lighthouse could not be installed: the run goes on without it"
if ! command -v wrk >/dev/null; then
  say "installing wrk (Debian)"
  as_root apt-get update -qq || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
command -v python3 >/dev/null || { echo "python3 is needed for bench/bench.py" >&2; exit 2; }

say "building the release app (cargo leptos build --release --split --precompress)"
cargo leptos build --release --split --precompress

# The ceiling example, built in the same target directory with the same features and the
# environment cargo-leptos gives the server build, so no shared dependency is rebuilt.
say "building the ceiling (examples/ceiling.rs)"
LEPTOS_OUTPUT_NAME=kros-numbers LEPTOS_SITE_ROOT=target/site LEPTOS_SITE_PKG_DIR=pkg \
LEPTOS_SITE_ADDR=127.0.0.1:3000 LEPTOS_RELOAD_PORT=3001 LEPTOS_LIB_DIR=. LEPTOS_BIN_DIR=. \
LEPTOS_JS_MINIFY=true LEPTOS_HASH_FILES=false \
  cargo build --release --example ceiling --no-default-features --features ssr

python3 bench/bench.py --db "$DB"
# Calls through Kamailio (bench/sip.py): measured once, on SQLite (the service's decision is one
# indexed read on either database).
if [ "$DB" = sqlite ]; then
  scripts/install-tools.sh sip
  python3 bench/sip.py
fi
