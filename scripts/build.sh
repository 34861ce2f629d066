#!/usr/bin/env bash
# `make build`: the build tools if they are missing (step 1), then the release server and the
# optimized dashboard bundle (step 2). Progress lines instead of compiler output; the logs are in
# .tools/logs. README "First run" has what a first run costs, and why.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
source scripts/progress.sh

say "step 1 of 2: the build tools (built once, ~13 min on 2 cores; nothing to do once they are here)"
scripts/install-tools.sh build

say "step 2 of 2: the release server and the dashboard bundle (cargo leptos build; ~16 min the first time)"
start_job build cargo leptos build --release --split --precompress
wait_all
say "built: target/release/kros-numbers and target/site"
