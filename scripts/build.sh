#!/usr/bin/env bash
# `make build`: the build tools if they are missing (step 1), then the release server and the
# optimized dashboard bundle (step 2); `scripts/build.sh bundle`: the bundle alone. Progress lines instead of compiler output; the logs are in
# .tools/logs. README "First run" has what a first run costs, and why.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
source scripts/progress.sh

say "step 1 of 2: the build tools (built once, ~13 min on 2 cores; nothing to do once they are here)"
scripts/install-tools.sh build

if [ "${1:-}" = bundle ]; then
  # `make test`: the browser tests run the server `cargo test` built (the dev profile); only the
  # dashboard bundle they load is built here, exactly as a release ships it.
  say "step 2 of 2: the dashboard bundle, as released (cargo leptos build --frontend-only; ~6 min the first time)"
  start_job bundle cargo leptos build --release --split --precompress --frontend-only
  wait_all
  say "built: target/site"
  exit 0
fi

say "step 2 of 2: the release server and the dashboard bundle (cargo leptos build; ~16 min the first time)"
start_job build cargo leptos build --release --split --precompress
wait_all
say "built: target/release/kros-numbers and target/site"
