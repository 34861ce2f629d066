#!/usr/bin/env bash
# Installs what building and testing need, only where it is missing (idempotent; safe on a fresh
# machine). Only the package registries are used: crates.io, npm and Debian's apt.
#   scripts/install-tools.sh target  the wasm32 target, rustfmt and clippy (the lint gates need them)
#   scripts/install-tools.sh build   wasm target, cargo-leptos, wasm-bindgen, wasm-opt
#   scripts/install-tools.sh e2e     the above, plus Chromium and the Playwright packages
#   scripts/install-tools.sh postgres  PostgreSQL server binaries
#   scripts/install-tools.sh sip       Kamailio (with http_client and jansson) and SIPp
#   scripts/install-tools.sh lighthouse  Chromium and Lighthouse (npm, into .tools/lighthouse), for `make bench`
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS="$ROOT/.tools"
export PATH="$TOOLS/node_modules/.bin:$HOME/.cargo/bin:$PATH"
CARGO_LEPTOS_VERSION=0.3.11
BINARYEN_NPM_VERSION=132
# The newest Lighthouse that runs on Node 20 (13.x needs Node >= 22.19).
LIGHTHOUSE_VERSION=12.8.2

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  say "apt-get install $*"
  as_root apt-get update -qq || true
  # Another install may hold dpkg's lock meanwhile (the background tools' Chromium): wait for it.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "$@" >/dev/null
}

# The helper tools are built in a cheap profile (no optimization, no debug info): their own speed
# hardly matters, except in the few small crates that do the heavy lifting on the bundle
# (splitting, binding, compressing), which are optimized. Measured for issue 12: README "First run".
TOOL_PROFILE=(
  --profile kros-tool
  --config 'profile.kros-tool.inherits="dev"'
  --config 'profile.kros-tool.debug=false'
  --config 'profile.kros-tool.incremental=false'
)
for hot in walrus wasm_split_cli_support wasmparser wasm-bindgen-cli-support brotli miniz_oxide; do
  TOOL_PROFILE+=(--config "profile.kros-tool.package.$hot.opt-level=3")
done
source scripts/progress.sh

# The wasm target, and the lint gates' rustfmt and clippy (a Rust installed without them fails
# the first gate).
install_wasm_target() {
  if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  local installed
  installed=$(rustup component list --installed 2>/dev/null || true)
  for component in rustfmt clippy; do
    if ! grep -q "^$component" <<<"$installed"; then
      say "adding the $component component"
      rustup component add "$component"
    fi
  done
}

# The missing build tools, built side by side.
install_build_tools() {
  install_wasm_target

  if ! cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
    start_job cargo-leptos cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" \
      --features no_downloads --locked --ignore-rust-version "${TOOL_PROFILE[@]}"
  fi

  # wasm-bindgen-cli must equal the wasm-bindgen of Cargo.lock exactly.
  local wb
  wb=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $wb\$"; then
    # Without --locked: one locked dependency of the CLI is missing from the registry.
    start_job wasm-bindgen cargo install wasm-bindgen-cli --version "$wb" --force "${TOOL_PROFILE[@]}"
  fi

  # wasm-opt >= 116 from npm (Debian's binaryen 108 silently breaks hydration).
  if ! "$TOOLS/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q "version $BINARYEN_NPM_VERSION"; then
    mkdir -p "$TOOLS"
    start_job wasm-opt npm install --no-audit --no-fund --prefix "$TOOLS" "binaryen@$BINARYEN_NPM_VERSION"
  fi

  if [ ${#JOBS[@]} -gt 0 ]; then
    say "building the missing tools once: ${!JOBS[*]} (logs in .tools/logs)"
    wait_all
  fi
}

install_e2e_tools() {
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
  if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing the Playwright packages (no browser download: Debian's Chromium is used)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
  fi
}

# Lighthouse in a prefix of its own: no npm run shares .tools/node_modules with the build tools'
# installer (which may be running in the background), and it needs no lock. Its dependencies bring
# no browser (chrome-launcher, puppeteer-core): it drives Debian's Chromium, as the browser tests do.
install_lighthouse() {
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
  if ! "$TOOLS/lighthouse/node_modules/.bin/lighthouse" --version 2>/dev/null | grep -qx "$LIGHTHOUSE_VERSION"; then
    say "installing Lighthouse $LIGHTHOUSE_VERSION (npm, into .tools/lighthouse)"
    mkdir -p "$TOOLS/lighthouse"
    npm install --silent --no-audit --no-fund --save-exact --prefix "$TOOLS/lighthouse" "lighthouse@$LIGHTHOUSE_VERSION"
  fi
}

install_postgres() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    # Only the binaries are wanted: the tests start throw-away clusters of their own (pg.sh), so
    # Debian's package must not create (and maybe start) a system cluster on port 5432.
    # (A drop-in that Debian's createcluster.conf includes; the package's own file stays as is.)
    as_root mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.d/kros-no-main-cluster.conf >/dev/null
    apt_install postgresql
  fi
}

install_sip() {
  if ! command -v kamailio >/dev/null || ! command -v sipp >/dev/null || ! command -v curl >/dev/null ||
    ! ls /usr/lib/*/kamailio/modules/http_client.so /usr/lib/*/kamailio/modules/jansson.so >/dev/null 2>&1; then
    # Only the binaries are wanted: `make sip` and the tests start Kamailio instances of their
    # own, so the package must not start a system-wide one on port 5060 (a policy-rc.d that
    # refuses every start, for the length of the install).
    local policy=/usr/sbin/policy-rc.d had_policy=
    [ -e "$policy" ] && had_policy=1
    [ -n "$had_policy" ] || { printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null; as_root chmod 755 "$policy"; }
    apt_install kamailio kamailio-utils-modules kamailio-extra-modules sip-tester curl
    [ -n "$had_policy" ] || as_root rm -f "$policy"
  fi
}

# One installer of the build tools at a time: `make test` starts one in the background
# (scripts/tools-in-background.sh), and the stage that needs the tools waits for it here, then
# finds them installed.
hold_the_tools_lock() {
  mkdir -p "$TOOLS"
  exec 9>"$TOOLS/.install.lock"
  if ! flock -n 9; then
    say "waiting for the build tools being installed in the background (.tools/logs/background-tools.log)"
    flock 9
  fi
}

case "${1:-build}" in
  build | e2e | all) hold_the_tools_lock ;;
esac

case "${1:-build}" in
  target) install_wasm_target ;;
  build) install_build_tools ;;
  e2e) install_build_tools; install_e2e_tools ;;
  postgres) install_postgres ;;
  sip) install_sip ;;
  lighthouse) install_lighthouse ;;
  all) install_build_tools; install_e2e_tools; install_postgres; install_sip ;;
  *) echo "usage: $0 target|build|e2e|postgres|sip|lighthouse|all" >&2; exit 2 ;;
esac
