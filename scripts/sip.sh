#!/usr/bin/env bash
# Starts or stops a Kamailio instance in front of a Kros Numbers server (README "Calls").
#
#   scripts/sip.sh start --dir DIR --door URL --secret SECRET [options]
#   scripts/sip.sh stop --dir DIR
#   scripts/sip.sh check --dir DIR --door URL --secret SECRET [options]   (checks the config only)
#
#   --dir DIR              the instance's own folder: its config (with the secret: mode 600),
#                          pid file and log (kamailio.log)
#   --door URL             the service's SIP door (KROS_SIP_DOOR_ADDR), e.g. http://127.0.0.1:3001
#   --secret SECRET        the door's shared secret (KROS_SIP_DOOR_SECRET; letters, digits, - and _)
#   --listen ADDR:PORT     where SIP is served, UDP and TCP (default 127.0.0.1:5060)
#   --rpc ADDR:PORT        the JSON-RPC port the service drops cached credentials through
#                          (KROS_SIP_KAMAILIO_RPC lists it; default 127.0.0.1:5080)
#   --domain NAME          the SIP domain and digest realm (KROS_SIP_DOMAIN; default sip.kros.local)
#   --carriers LIST        the live carriers' addresses, comma-separated, each IP or IP:PORT
#   --test-carriers LIST   the test trunk's addresses: calls from them reach test-mode numbers
#   --gateway HOST:PORT    where outbound calls go (the carrier's gateway)
#   --cred-ttl SECS        how long credentials are cached (default 60)
#   --auth-secret S        signs the digest nonces (default: random; give every instance behind
#                          one name the same)
#   --static-target URI    benchmarks only (make bench): every inbound call goes to URI, decided
#                          by the config without asking the service (the ceiling it is measured against)
#
# Kamailio comes from Debian's packages (scripts/install-tools.sh sip). Start prints the SIP
# address once Kamailio answers on its JSON-RPC port.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

command=${1:-}
shift || true
dir= door= secret= listen=127.0.0.1:5060 rpc=127.0.0.1:5080 domain=sip.kros.local
carriers= test_carriers= gateway= cred_ttl=60 auth_secret= static_target=
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=$2 ;;
    --door) door=$2 ;;
    --secret) secret=$2 ;;
    --listen) listen=$2 ;;
    --rpc) rpc=$2 ;;
    --domain) domain=$2 ;;
    --carriers) carriers=$2 ;;
    --test-carriers) test_carriers=$2 ;;
    --gateway) gateway=$2 ;;
    --cred-ttl) cred_ttl=$2 ;;
    --auth-secret) auth_secret=$2 ;;
    --static-target) static_target=$2 ;;
    *) echo "sip.sh: unknown option $1 (see the top of scripts/sip.sh)" >&2; exit 2 ;;
  esac
  shift 2
done
fail() { echo "sip.sh: $*" >&2; exit 2; }
[ -n "$dir" ] || fail "--dir is required"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
pidfile=$dir/kamailio.pid

stop() {
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# "1.2.3.4,5.6.7.8:5071" -> ^(1[.]2[.]3[.]4:[0-9]+;|5[.]6[.]7[.]8:5071;), matched against
# "$si:$sp;" (the ; ends it: a substdef cannot hold the $ anchor); none -> a pattern nothing
# matches.
trunk_pattern() {
  local list=$1 parts=() entry
  IFS=',' read -ra entries <<<"$list"
  for entry in "${entries[@]}"; do
    entry=${entry// /}
    [ -n "$entry" ] || continue
    [[ $entry =~ ^[0-9a-fA-F.:]+$ ]] || fail "a carrier address is an IP or IP:PORT, not $entry"
    if [[ $entry =~ ^[0-9.]+:[0-9]+$ ]]; then
      parts+=("${entry//./[.]};")
    else
      parts+=("${entry//./[.]}:[0-9]+;")
    fi
  done
  if [ ${#parts[@]} -eq 0 ]; then echo '^;'; else (IFS='|'; echo "^(${parts[*]})"); fi
}

write_config() {
  [ -n "$door" ] || fail "--door is required"
  [[ $secret =~ ^[A-Za-z0-9_-]{16,}$ ]] || fail "--secret must be 16 or more letters, digits, - or _"
  [[ $listen =~ ^([0-9.]+):([0-9]+)$ ]] || fail "--listen is ADDR:PORT (an IPv4 address)"
  local sip_addr=${BASH_REMATCH[1]} sip_port=${BASH_REMATCH[2]}
  [[ $rpc =~ ^([0-9.]+):([0-9]+)$ ]] || fail "--rpc is ADDR:PORT (an IPv4 address)"
  local rpc_addr=${BASH_REMATCH[1]} rpc_port=${BASH_REMATCH[2]}
  [[ $door =~ ^http://([^/@]+)/?$ ]] || fail "--door is http://HOST:PORT (the SIP door's own address)"
  local door_url="http://kamailio:$secret@${BASH_REMATCH[1]}/sip/v1"
  [[ $domain =~ ^[A-Za-z0-9.-]+$ ]] || fail "--domain is a host name"
  [[ -z $gateway || $gateway =~ ^[A-Za-z0-9.-]+(:[0-9]+)?$ ]] || fail "--gateway is HOST:PORT"
  [[ $cred_ttl =~ ^[0-9]+$ ]] || fail "--cred-ttl is a number of seconds"
  [ -n "$auth_secret" ] || auth_secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  [[ $auth_secret =~ ^[A-Za-z0-9_-]+$ ]] || fail "--auth-secret is letters, digits, - or _"
  local live test
  live=$(trunk_pattern "$carriers")
  test=$(trunk_pattern "$test_carriers")
  umask 077
  {
    echo '#!KAMAILIO'
    echo "# Written by scripts/sip.sh: the values, then sip/kamailio.cfg."
    if [ -n "$static_target" ]; then
      [[ $static_target =~ ^sips?:[A-Za-z0-9+@.:\;=_-]+$ ]] || fail "--static-target is a SIP URI"
      echo '#!define STATIC_ROUTE'
      printf '#!substdef "!STATIC_TARGET!%s!g"\n' "$static_target"
    fi
    printf '#!substdef "!%s!%s!g"\n' \
      SIP_ADDR "$sip_addr" SIP_PORT "$sip_port" RPC_ADDR "$rpc_addr" RPC_PORT "$rpc_port" \
      DOOR_URL "$door_url" DOMAIN "$domain" LIVE_TRUNK "$live" TEST_TRUNK "$test" \
      GATEWAY "${gateway:-127.0.0.1:9}" CRED_TTL "$cred_ttl" AUTH_SECRET "$auth_secret"
    grep -v '^#!KAMAILIO' "$ROOT/sip/kamailio.cfg"
  } >"$dir/kamailio.cfg"
}

rpc_answers() {
  curl -fsS --max-time 1 -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","method":"core.version","id":1}' "http://$rpc/RPC" >/dev/null 2>&1
}

case $command in
  check)
    write_config
    kamailio -c -f "$dir/kamailio.cfg" >"$dir/check.log" 2>&1 || { cat "$dir/check.log" >&2; exit 1; }
    echo "sip.sh: the config is valid ($dir/kamailio.cfg)"
    ;;
  start)
    stop
    write_config
    # -DD: the main process stays in the foreground (with its workers), -E: logs to stderr;
    # paths absolute (Kamailio changes directory to /).
    # Kamailio writes its pid file itself (and refuses to start if it names a live process).
    kamailio -f "$dir/kamailio.cfg" -DD -E -P "$pidfile" -Y "$dir" -m 64 -M 8 >"$dir/kamailio.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
      if rpc_answers; then
        echo "sip.sh: Kamailio serves SIP on $listen (udp, tcp), domain $domain; JSON-RPC on $rpc; log $dir/kamailio.log"
        exit 0
      fi
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -TERM "$pid" 2>/dev/null || true
    echo "sip.sh: Kamailio did not start; its log ($dir/kamailio.log):" >&2
    tail -n 30 "$dir/kamailio.log" >&2 || true
    stop
    exit 1
    ;;
  stop) stop ;;
  *) fail "usage: scripts/sip.sh start|stop|check --dir DIR ... (see the top of scripts/sip.sh)" ;;
esac
