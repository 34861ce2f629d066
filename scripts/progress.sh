# Sourced by the build scripts: long steps run with their output in .tools/logs/, while the
# terminal shows one line every 30 s (how long, how many crates, which one now) instead of a wall
# of compiler lines; a failed step prints the end of its log.
LOGS="${LOGS:-$PWD/.tools/logs}"

say() { printf '==> %s\n' "$*" >&2; }

declare -A JOBS=()

# start_job NAME COMMAND...: runs COMMAND in the background, its output in $LOGS/NAME.log.
start_job() {
  local name=$1; shift
  mkdir -p "$LOGS"
  ("$@") >"$LOGS/$name.log" 2>&1 &
  JOBS[$name]=$!
}

# wait_all: waits for every started job, reporting progress; fails if any of them failed.
wait_all() {
  local began=$SECONDS name failed=0
  local next_report=$((SECONDS + 30))
  while :; do
    local running=() line=""
    for name in "${!JOBS[@]}"; do
      kill -0 "${JOBS[$name]}" 2>/dev/null && running+=("$name")
    done
    [ ${#running[@]} = 0 ] && break
    if [ $SECONDS -ge $next_report ]; then
      for name in "${running[@]}"; do
        local count last
        count=$(grep -c 'Compiling ' "$LOGS/$name.log" 2>/dev/null || true)
        last=$(grep -o 'Compiling [^ ]*' "$LOGS/$name.log" 2>/dev/null | tail -n 1 || true)
        line+="   $name: ${count:-0} crates built${last:+, now ${last#Compiling }}"
      done
      printf '    %dm%02ds%s\n' $(((SECONDS - began) / 60)) $(((SECONDS - began) % 60)) "$line" >&2
      next_report=$((SECONDS + 30))
    fi
    sleep 1
  done
  for name in "${!JOBS[@]}"; do
    if ! wait "${JOBS[$name]}"; then
      say "$name failed; the end of $LOGS/$name.log:"
      tail -n 40 "$LOGS/$name.log" >&2
      failed=1
    fi
  done
  JOBS=()
  return $failed
}
