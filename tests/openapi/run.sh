#!/usr/bin/env bash
# The OpenAPI document against the wire, on a fresh SQLite server: a client generated from the
# served document (openapi-python-client) drives the whole flow, then Schemathesis fuzzes every
# route with all its checks and must find nothing. The tools are pinned in requirements.txt and
# installed into .tools/openapi-venv (once). Uses the server binary `cargo test` builds.
#   tests/openapi/run.sh [SECONDS]   (Schemathesis's time budget; default 150)
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tests/openapi
venv=.tools/openapi-venv
budget=${1:-150}

if ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
    echo "openapi: installing the pinned tools into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/requirements.txt"
fi

bin=target/debug/kros-numbers
# Up to date after `cargo test` (the same profile and features): then this is a no-op.
cargo build --quiet --features ssr --bin kros-numbers
work=$(mktemp -d /tmp/kros-openapi.XXXX)
server=
trap '[[ -n $server ]] && kill $server 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
export DATABASE_URL="sqlite://$work/kros.db"
"$bin" migrate >/dev/null
# The demo organization: an inventory of 240 numbers in each mode, and a test-mode key.
key=$("$bin" seed-demo | sed -n 's/^demo test-mode API key: //p')
[[ $key == kros_test_* ]] || { echo "openapi: no API key from seed-demo" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
# The fuzzer sends thousands of requests, many with bad credentials on purpose: the rate limit
# and the failed-authentication throttle would answer most of them 429 and test nothing.
# Webhook receivers are on loopback here (the client flow's), so private URLs are allowed; and
# endpoints' targets too (the examples' host names resolve nowhere here).
LEPTOS_SITE_ADDR="127.0.0.1:$port" KROS_RATE_LIMIT_PER_SECOND=0 KROS_AUTH_FAILURES_PER_ADDRESS=0 \
    KROS_WEBHOOK_ALLOW_PRIVATE_URLS=true KROS_SIP_ALLOW_PRIVATE_TARGETS=true "$bin" serve >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$base/readyz" >/dev/null || { cat "$work/server.log"; exit 1; }

echo "openapi: generating a Python client from $base/v1/openapi.json"
curl -sf "$base/v1/openapi.json" -o "$work/openapi.json"
cat >"$work/client.yaml" <<'YAML'
project_name_override: kros-client
package_name_override: kros_client
# The generated code as it comes (its default post-hooks run ruff, not installed here).
post_hooks: []
YAML
"$venv/bin/openapi-python-client" generate --path "$work/openapi.json" --config "$work/client.yaml" \
    --output-path "$work/client" --meta none --fail-on-warning >"$work/generate.log" 2>&1 \
    || { cat "$work/generate.log"; exit 1; }
(cd "$work" && mv client kros_client && mkdir client && mv kros_client client/)
"$venv/bin/python" "$here/client_flow.py" "$base" "$key" "$work/client"

echo "openapi: Schemathesis, every check, ${budget} s"
# The endpoint that valid bodies attach numbers to (see hooks.py), with a number attached (and
# deletion-locked), so that the fuzzer's DELETE of it is refused (409) and it stays for the
# bodies that name it.
endpoint=$(curl -sf -H "Authorization: Bearer $key" -d '{"name": "Fuzzed numbers"}' "$base/v1/endpoints" \
    | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
inventory=$(curl -sf -H "Authorization: Bearer $key" "$base/v1/phone-numbers?action=available&country=US&limit=1" \
    | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["data"][0]["id"])')
anchor=$(curl -sf -H "Authorization: Bearer $key" -d "{\"inventory_id\": \"$inventory\", \"endpointId\": \"$endpoint\"}" \
    "$base/v1/phone-numbers" | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
curl -sf -X PATCH -H "Authorization: Bearer $key" -d '{"deletionLocked": true}' "$base/v1/phone-numbers/$anchor" >/dev/null
# And the webhook endpoint that valid redeliveries name (it points at a closed port).
webhook=$(curl -sf -H "Authorization: Bearer $key" -d '{"url": "http://127.0.0.1:9/fuzzed"}' "$base/v1/webhook-endpoints" \
    | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["id"])')
KROS_FUZZ_ENDPOINT_ID=$endpoint KROS_FUZZ_WEBHOOK_ENDPOINT_ID=$webhook SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$here" \
    "$venv/bin/st" --config-file "$here/schemathesis.toml" run "$base/v1/openapi.json" --url "$base" \
    -H "Authorization: Bearer $key" --checks all --max-time "$budget" --seed 20261201 --generation-database none \
    --report junit --report-dir "$work/report" || { tail -5 "$work/server.log"; exit 1; }
