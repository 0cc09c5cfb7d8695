#!/usr/bin/env bash
# Runs the whole test suite several times in a row, each run with the clock set to another
# moment (libfaketime) and with every core kept busy by a spinning process of the same
# priority, to show that no test depends on the date or on prompt CPU (README, "The two commands").
#
#   scripts/suite-under-load.sh ['2027-01-31 16:40:00' ...]
#
# Each argument is a moment in UTC at which the run starts; the faked clock runs on from it.
# It is given to libfaketime as an offset from the real clock, so every process the suite
# starts (collectors, agents) shares one faked clock; libfaketime's absolute "@" form would
# start each process's clock afresh. The monotonic clock is left real, so timers and
# timeouts keep their meaning. Installs
# Debian's faketime when it is missing (needs root). Exit status: the number of failed runs.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v faketime >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends faketime >/dev/null
  else
    echo "suite-under-load: needs faketime (Debian: apt-get install faketime)" >&2; exit 1
  fi
fi
bash scripts/ensure-test-deps.sh
npm run -s build
# Defaults: the last evening of a month in Vietnam time (the run crosses into the next
# month at 17:00 UTC), the first morning of a month, and a leap day.
[ $# -gt 0 ] || set -- '2027-01-31 16:40:00' '2027-03-01 01:00:00' '2028-02-29 09:00:00'
burners=()
for _ in $(seq "$(nproc)"); do sh -c 'while :; do :; done' & burners+=($!); done
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
failed=0
run=1
for t in "$@"; do
  started=$(date +%s)
  offset=$(( $(date -u -d "$t" +%s) - started ))
  report="test-results/under-load-${run}.json"
  rm -f "$report"
  FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "+${offset}" npx vitest run --reporter=default --reporter=json --outputFile.json="$report"
  rc=$?
  [ $rc -eq 0 ] || failed=$((failed + 1))
  if [ -f "$report" ]; then
    node -e "const r = require(require('path').resolve(process.argv[3])); console.log('run ' + process.argv[4] + ', clock from ' + process.argv[1] + ' UTC: ' + r.numPassedTests + ' passed, ' + r.numFailedTests + ' failed, ' + r.numPendingTests + ' skipped, ' + process.argv[2] + ' s, load ' + require('os').loadavg()[0].toFixed(1))" "$t" "$(( $(date +%s) - started ))" "$report" "$run"
  else
    echo "run $run, clock from $t UTC: vitest wrote no report (exit $rc)"
  fi
  run=$((run + 1))
done
exit $failed
