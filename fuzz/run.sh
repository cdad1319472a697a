#!/usr/bin/env bash
# Runs every fuzz target for a set time (seconds, default 60) and prints, per target,
# executions, time and crashes. Seeds: fuzz/seeds/<target>/ if present (committed), and for
# disclose_html the core's client fixtures, copied into the working corpus fuzz/corpus/<target>/. Exit status 1 when any target crashed.
# Usage: fuzz/run.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
printf '%-20s %12s %8s %8s\n' target executions seconds crashes > /tmp/fuzz-summary.$$
failed=0
for t in "${targets[@]}"; do
    corpus="fuzz/corpus/$t"
    mkdir -p "$corpus"
    [ -d "fuzz/seeds/$t" ] && cp -n fuzz/seeds/"$t"/* "$corpus"/ 2>/dev/null
    [ "$t" = disclose_html ] && cp -n crates/core/tests/fixtures/disclose/*.html "$corpus"/ 2>/dev/null
    dict=()
    [ -f "fuzz/dict/$t.dict" ] && dict=("-dict=fuzz/dict/$t.dict")
    log="fuzz/artifacts/$t.log"
    mkdir -p fuzz/artifacts
    before=$(ls "fuzz/artifacts/$t" 2>/dev/null | grep -c '^crash-\|^oom-\|^timeout-')
    start=$(date +%s)
    cargo +nightly fuzz run "$t" "$corpus" -- -max_total_time="$secs" "${dict[@]}" >"$log" 2>&1
    rc=$?
    elapsed=$(( $(date +%s) - start ))
    after=$(ls "fuzz/artifacts/$t" 2>/dev/null | grep -c '^crash-\|^oom-\|^timeout-')
    # libFuzzer ends with "Done N runs in S second(s)"; on a crash the last "#N" status line counts.
    execs=$(grep -o 'Done [0-9]* runs' "$log" | grep -o '[0-9]*' | tail -1)
    [ -z "$execs" ] && execs=$(grep -o '^#[0-9]*' "$log" | tr -d '#' | tail -1)
    crashes=$(( after - before ))
    [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes="rc=$rc"
    [ "$rc" -ne 0 ] && failed=1
    printf '%-20s %12s %8s %8s\n' "$t" "${execs:-?}" "$elapsed" "$crashes" >> /tmp/fuzz-summary.$$
done
cat /tmp/fuzz-summary.$$
rm -f /tmp/fuzz-summary.$$
exit $failed
