#!/usr/bin/env bash
# The README's test command (scripts/test.sh) under load: two busy-loop processes keep
# two cores busy while the whole suite runs, N times in a row (default 3). Prints each
# run's result and time, and a summary; exits non-zero if any run failed. The busy
# loops are always killed, also when a run fails or the script is interrupted.
#
#   scripts/stress-test.sh [N]
#
# Environment: STRESS_BUSY (busy loops, default 2), STRESS_LOG_DIR (where each run's
# output goes, default target/stress-test). Not part of CI: it is slow on purpose.
set -uo pipefail
cd "$(dirname "$0")/.."

runs="${1:-3}"
busy="${STRESS_BUSY:-2}"
logs="${STRESS_LOG_DIR:-target/stress-test}"
case "$runs" in '' | *[!0-9]* | 0) echo "stress-test.sh: N must be a positive whole number, not '$runs'" >&2; exit 2 ;; esac
case "$busy" in '' | *[!0-9]*) echo "stress-test.sh: STRESS_BUSY must be a whole number, not '$busy'" >&2; exit 2 ;; esac
mkdir -p "$logs"

pids=()
stop_busy() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
trap stop_busy EXIT
# An interrupt ends the script; the EXIT trap above still stops the loops.
trap 'echo "stress-test.sh: interrupted" >&2; exit 130' INT TERM

for _ in $(seq 1 "$busy"); do
  # A subshell spinning forever: one process, one core.
  ( while :; do :; done ) &
  pids+=("$!")
done
echo "==> $busy busy loops (pids ${pids[*]}) on $(nproc) cores; $runs runs of scripts/test.sh"

failed=0
summary=()
for i in $(seq 1 "$runs"); do
  log="$logs/run-$i.log"
  echo "==> run $i of $runs (output in $log)"
  started=$SECONDS
  scripts/test.sh >"$log" 2>&1
  rc=$?
  took=$((SECONDS - started))
  if [ "$rc" -eq 0 ]; then
    result="passed"
  else
    result="FAILED (exit $rc)"
    failed=$((failed + 1))
    grep -E "^(test .* FAILED|failures:|---- )|panicked at" "$log" | head -n 20 || true
  fi
  line="run $i: $result in ${took} s"
  echo "$line"
  summary+=("$line")
done

stop_busy
echo "==> summary ($busy busy loops)"
printf '%s\n' "${summary[@]}"
[ "$failed" -eq 0 ]
