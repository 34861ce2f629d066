#!/usr/bin/env bash
# Profiles the release server under one benchmark load with perf (Debian's linux-perf).
#   bench/profile.sh [URL_PATH] [CONNECTIONS] [SECONDS]   (a dashboard path is loaded signed in)
# Uses the database and API key of the last `make bench` run (bench/out/sqlite/setup.json; run
# `python3 bench/bench.py --only list_assigned` for a database with only the seed in it), on a copy.
# Writes bench/out/perf-*.data and prints the hottest symbols and the time per thread kind.
set -euo pipefail
cd "$(dirname "$0")/.."
path=${1:-/v1/phone-numbers?limit=20}
conns=${2:-64}
secs=${3:-6}
setup=bench/out/sqlite/setup.json
[ -f "$setup" ] || { echo "run make bench (or bench/bench.py) first" >&2; exit 2; }
command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null
key=$(python3 -c "import json; print(json.load(open('$setup'))['key'])")
src=$(python3 -c "import json; print(json.load(open('$setup'))['database_url'].removeprefix('sqlite://'))")
work=bench/out/profile
rm -rf "$work" && mkdir -p "$work"
cp "$src" "$work/db.sqlite"
port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
DATABASE_URL="sqlite://$PWD/$work/db.sqlite" LEPTOS_ENV=PROD KROS_RATE_LIMIT_PER_SECOND=0 \
  LEPTOS_SITE_ROOT="$PWD/target/site" target/release/kros-numbers serve --addr "127.0.0.1:$port" \
  >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
# A dashboard page is loaded signed in, as the benchmark user (bench.py's sign-in).
cookie=""
case "$path" in
  /v1/*|/readyz) ;;
  *) cookie=$(cd bench && python3 -c "import bench; print(bench.page_session_cookie($port))") ;;
esac
threads=$(( conns < $(nproc) ? conns : $(nproc) ))
BENCH_KEY=$key BENCH_COOKIE=$cookie BENCH_THREADS=$threads wrk -t"$threads" -c"$conns" -d"$((secs + 3))s" -s bench/wrk/scenario.lua \
  "http://127.0.0.1:$port$path" >"$work/wrk.txt" &
wrk=$!
sleep 2
name=$(echo "$path" | tr -c 'a-zA-Z0-9' '_' | cut -c1-40)
perf record -F 999 -g --call-graph dwarf,16384 -p "$server" -o "bench/out/perf-$name.data" -- sleep "$secs" 2>/dev/null
wait $wrk
grep BENCH_RESULT "$work/wrk.txt"
echo "--- time per thread kind"
perf report -i "bench/out/perf-$name.data" --no-children --sort comm --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | head -5
echo "--- hottest symbols (self)"
perf report -i "bench/out/perf-$name.data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | cut -c1-150 | head -25
echo "--- inclusive (service, sqlx, axum)"
perf report -i "bench/out/perf-$name.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -v '^#' | grep -v '^$' | cut -c1-170 \
  | grep -E 'kros_numbers|sqlx_core::pool|ping|step|serde|hyper::proto' | head -25
