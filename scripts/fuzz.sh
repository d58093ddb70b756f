#!/usr/bin/env bash
# fuzz.sh — run every libFuzzer target (tests/fuzz/fuzz_*.c, built by `make fuzz-build` into build-fuzz/) for
# SECONDS each on a copy of its seed corpus (tests/fuzz/corpus/TARGET plus an index and a model made from
# tests/fuzz/seed.fa), and print one line per target: executions, coverage, and ok or FAIL. A crash leaves its input
# in build-fuzz/crash-TARGET-* (turn it into a regression test). Last line: "fuzz: N passed, N failed".
# Usage: scripts/fuzz.sh SECONDS [TARGET...]   (make fuzz: FUZZ_SECONDS, default 60; make test: 3 s each)
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}; shift || true
B=build-fuzz
targets=("$@"); [ ${#targets[@]} -gt 0 ] || targets=(reads fasta eval model index index_ck)
work=$B/corpus; mkdir -p "$work"
# binary seeds, made by this build so that they always match the current formats
seeds=$B/seeds; mkdir -p "$seeds"
if [ ! -s "$seeds/seed.esi" ] || [ "$seeds/seed.esi" -ot "$B/esalign" ]; then
  "$B/esalign" index -v 0 -o "$seeds/seed" tests/fuzz/seed.fa 2>/dev/null || echo "fuzz: cannot build the seed index" >&2
  "$B/esalign" train -v 0 -o "$seeds/tiny" --model d0=4,d=8,D=8 --windows 100 -b 8 -n 1 -t 1 --eval-every 0 \
    --train-region c1 --eval-region c1 tests/fuzz/seed.fa >/dev/null 2>&1 || echo "fuzz: cannot build the seed model" >&2
fi
pass=0; fail=0
for t in "${targets[@]}"; do
  bin=$B/fuzz_$t
  [ -x "$bin" ] || { echo "FAIL fuzz_$t: not built (make fuzz-build)"; fail=$((fail + 1)); continue; }
  c=$work/$t; rm -rf "$c"; mkdir -p "$c"
  [ -d tests/fuzz/corpus/$t ] && cp tests/fuzz/corpus/$t/* "$c/" 2>/dev/null
  case $t in
    index|index_ck) cp "$seeds/seed.esi" "$c/" 2>/dev/null ;;
    model) cp "$seeds/tiny.model" "$c/" 2>/dev/null ;;
  esac
  log=$B/fuzz_$t.log
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$B/crash-$t-" "$c" > "$log" 2>&1
  rc=$?
  runs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n1)
  if [ $rc -eq 0 ]; then pass=$((pass + 1)); echo "ok   fuzz_$t: ${runs:-?} runs in ${secs} s, ${cov:-no coverage line}"
  else fail=$((fail + 1)); echo "FAIL fuzz_$t: exit $rc after ${runs:-?} runs; see $log"; grep -m3 -E 'ERROR|SUMMARY|runtime error' "$log"; fi
done
echo "fuzz: $pass passed, $fail failed"
[ $fail -eq 0 ]
