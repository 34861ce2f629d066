#!/usr/bin/env bash
# `make run`: migrate, seed the demo (idempotent), print how to get in, and serve.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p data
export DATABASE_URL="${DATABASE_URL:-sqlite://data/kros-numbers.db}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$PWD/target/site}"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export LEPTOS_ENV="${LEPTOS_ENV:-PROD}"
# The secrets kept out of the database, made once under data/ (README: Security). Keys and SIP
# passwords from before keep working: they move to these at first use / at start.
for name in api-key-pepper sip-encryption-key; do
  [ -s "data/$name" ] || (umask 077; head -c 32 /dev/urandom | base64 > "data/$name")
done
# The SIP door for `make sip`'s Kamailio (README "Calls"), on loopback, with a secret of its own.
[ -s data/sip-door-secret ] || (umask 077; head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > data/sip-door-secret)
export KROS_SIP_DOOR_ADDR="${KROS_SIP_DOOR_ADDR:-127.0.0.1:3001}"
export KROS_SIP_DOOR_SECRET_FILE="${KROS_SIP_DOOR_SECRET_FILE:-$PWD/data/sip-door-secret}"
export KROS_SIP_KAMAILIO_RPC="${KROS_SIP_KAMAILIO_RPC:-http://127.0.0.1:5080/RPC}"
export KROS_API_KEY_PEPPER_FILE="${KROS_API_KEY_PEPPER_FILE:-$PWD/data/api-key-pepper}"
export KROS_SIP_ENCRYPTION_KEY_FILE="${KROS_SIP_ENCRYPTION_KEY_FILE:-$PWD/data/sip-encryption-key}"
BIN=target/release/kros-numbers
$BIN migrate >/dev/null
SEED=$($BIN seed-demo --key-file data/demo-api-key)
KEY=$(sed -n 's/^demo test-mode API key: //p' <<<"$SEED")
LOGIN=$(sed -n 's/^demo login: //p' <<<"$SEED")
cat <<MSG

  Kros Numbers is starting on http://$LEPTOS_SITE_ADDR

  Demo login:                 $LOGIN
  Demo test-mode API key:     $KEY

  Try:  curl -H "Authorization: Bearer $KEY" \\
          "http://$LEPTOS_SITE_ADDR/v1/phone-numbers?action=available&country=US"

MSG
exec $BIN serve
