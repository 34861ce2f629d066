#!/usr/bin/env bash
# `make sip`: Kamailio in front of the server `make run` serves (its SIP door on
# 127.0.0.1:3001), then how to register a softphone as a demo number and call it.
#   KROS_SIP_LISTEN     where SIP is served (default 127.0.0.1:5060)
#   KROS_SIP_CARRIERS   the live carriers' addresses (default none)
#   KROS_SIP_GATEWAY    where outbound calls go (default none: they fail)
# The test trunk is 127.0.0.1:5070: a call from there reaches the demo's test-mode numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh sip

door=http://127.0.0.1:3001
listen=${KROS_SIP_LISTEN:-127.0.0.1:5060}
site=${LEPTOS_SITE_ADDR:-127.0.0.1:3000}
[ -s data/sip-door-secret ] && [ -s data/demo-api-key ] ||
  { echo "make sip: start the server first (make run, in another terminal)" >&2; exit 1; }
curl -fsS --max-time 2 "http://$site/healthz" >/dev/null ||
  { echo "make sip: the server is not answering on http://$site: start it with make run" >&2; exit 1; }

scripts/sip.sh start --dir data/kamailio --door "$door" --secret "$(cat data/sip-door-secret)" \
  --listen "$listen" --rpc 127.0.0.1:5080 --domain "${KROS_SIP_DOMAIN:-sip.kros.local}" \
  --carriers "${KROS_SIP_CARRIERS:-}" --test-carriers 127.0.0.1:5070 --gateway "${KROS_SIP_GATEWAY:-}"

# A test-mode demo number to register as (bought once, with the demo's test key).
key=$(cat data/demo-api-key)
api() { curl -fsS --max-time 5 -H "Authorization: Bearer $key" "$@"; }
id=$(api "http://$site/v1/phone-numbers?limit=1" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(d[0]["id"] if d else "")')
if [ -z "$id" ]; then
  inventory=$(api "http://$site/v1/phone-numbers?action=available&country=US&limit=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
  id=$(api -X POST -H 'Content-Type: application/json' -d "{\"inventory_id\":\"$inventory\"}" \
    "http://$site/v1/phone-numbers" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
fi
api "http://$site/v1/phone-numbers/$id" | python3 -c '
import json, sys
n = json.load(sys.stdin); c = n["sip_credentials"]
print(f"""
  Register a softphone as the demo number {n["e164"]} (test mode):
    SIP server   {sys.argv[1]} (UDP or TCP)
    domain       {c["domain"]}   (the realm)
    user         {n["e164"]}     (the number is the address of record)
    auth user    {c["username"]}
    password     {c["password"]}

  Then call it as the test trunk does:
    sipp -sn uac -s {n["e164"].lstrip("+")} {sys.argv[1]} -p 5070 -m 1

  Stop Kamailio: scripts/sip.sh stop --dir data/kamailio
""")' "$listen"
