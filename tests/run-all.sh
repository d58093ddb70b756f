#!/usr/bin/env bash
# Run the unit tests and the command-line case table; print the combined "N passed, N failed" as the last line.
BIN=${1:-./esalign}; UNIT=${2:-tests/run_tests}; export ESALIGN_EXAMPLE=${3:-build/embed_search}
cd "$(dirname "$0")/.."
export ESALIGN_BIN=$BIN
up=0; uf=0; cp=0; cf=0
out=$("$UNIT" 2>&1); rc=$?; echo "$out"
line=$(echo "$out" | grep -E '^unit: [0-9]+ passed, [0-9]+ failed' | tail -n1)
if [ -n "$line" ]; then up=$(echo "$line" | awk '{print $2}'); uf=$(echo "$line" | awk '{print $4}'); fi
[ $rc -ne 0 ] && [ "$uf" = 0 ] && uf=1   # a crash counts as a failure
out=$(bash tests/cli.sh "$BIN" 2>&1); rc=$?; echo "$out"
line=$(echo "$out" | grep -E '^cli: [0-9]+ passed, [0-9]+ failed' | tail -n1)
if [ -n "$line" ]; then cp=$(echo "$line" | awk '{print $2}'); cf=$(echo "$line" | awk '{print $4}'); fi
[ $rc -ne 0 ] && [ "$cf" = 0 ] && cf=1
# the libFuzzer targets for a few seconds each (make test sets ESALIGN_FUZZ_SMOKE=1; make check does not)
fp_=0; ff=0
if [ "${ESALIGN_FUZZ_SMOKE:-0}" = 1 ]; then
  out=$(bash scripts/fuzz.sh 3 2>&1); rc=$?; echo "$out"
  line=$(echo "$out" | grep -E '^fuzz: [0-9]+ passed, [0-9]+ failed' | tail -n1)
  if [ -n "$line" ]; then fp_=$(echo "$line" | awk '{print $2}'); ff=$(echo "$line" | awk '{print $4}'); fi
  [ $rc -ne 0 ] && [ "$ff" = 0 ] && ff=1
fi
p=$((up + cp + fp_)); f=$((uf + cf + ff))
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
