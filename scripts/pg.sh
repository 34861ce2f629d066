#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests: no system service, no Docker.
#   scripts/pg.sh start DIR PORT   initdb (if needed) and start; prints the server URL
#   scripts/pg.sh stop DIR [fast|immediate]   (immediate: like a crash; the next start recovers)
# As root, the cluster runs as the unprivileged `postgres` user (initdb refuses root).
set -euo pipefail
cmd=${1:?usage: pg.sh start DIR PORT | stop DIR [fast|immediate]}
dir=${2:?DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
run_as() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
case "$cmd" in
  start)
    port=${3:?PORT}
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$dir"; fi
    if [ ! -f "$dir/PG_VERSION" ]; then
      run_as "$bin/initdb" -D "$dir" -A trust -U postgres >/dev/null
    fi
    run_as "$bin/pg_ctl" -D "$dir" -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off" \
      -l "$dir/log" -w start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port"
    ;;
  stop)
    mode=${3:-fast}
    if [ -f "$dir/postmaster.pid" ]; then run_as "$bin/pg_ctl" -D "$dir" -m "$mode" -w stop >/dev/null; fi
    ;;
  *) echo "usage: pg.sh start DIR PORT | stop DIR [fast|immediate]" >&2; exit 2 ;;
esac
