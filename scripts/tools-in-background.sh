#!/usr/bin/env bash
# `make test`: builds the missing build tools (cargo-leptos and wasm-bindgen take minutes of
# compiling on a fresh machine; Chromium and the Playwright packages) in the background, at the
# lowest CPU priority, while the first stages run; then runs the given command. The stage that
# needs the tools waits for them (install-tools.sh takes a lock). A niced build takes only the
# CPU the stages leave: the compiling stages barely slow down, the test stages not at all.
#   scripts/tools-in-background.sh COMMAND...
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools/logs
# The target first, in the foreground: the lint needs it at once (and two rustups must not race).
scripts/install-tools.sh target
# Its own session, so that all of it (cargo, rustc) can be stopped if COMMAND fails first. A new
# session is also a scheduling group of its own where the kernel groups by session (autogroup),
# and a nice value counts only inside its group: the group itself is niced too.
setsid bash -c 'echo 19 > /proc/self/autogroup 2>/dev/null; exec nice -n 19 scripts/install-tools.sh e2e' \
  > .tools/logs/background-tools.log 2>&1 &
tools=$!
trap 'kill -- -"$tools" 2>/dev/null || true' EXIT
"$@"
