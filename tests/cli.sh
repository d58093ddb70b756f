#!/usr/bin/env bash
# cli.sh — table-driven command-line tests: each case is an expected exit status, a command, and optionally a
# pattern that stdout+stderr must contain. Prints "cli: N passed, N failed".
BIN=${1:-./esalign}
cd "$(dirname "$0")/.."
T=$(mktemp -d /tmp/esalign-cli.XXXXXX); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
# case EXPECTED_STATUS 'PATTERN' command...   (PATTERN '' = no output check; status 'nz' = any non-zero)
case_() {
  local want=$1 pat=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  local ok=1
  if [ "$want" = nz ]; then [ $rc -ne 0 ] || ok=0; else [ $rc -eq "$want" ] || ok=0; fi
  if [ -n "$pat" ] && ! grep -qE -- "$pat" <<<"$out"; then ok=0; fi
  if [ $ok = 1 ]; then pass=$((pass+1)); echo "ok   $*"; else fail=$((fail+1)); echo "FAIL $* (status $rc, want $want, pattern '$pat')"; echo "$out" | head -5 | sed 's/^/    /'; fi
}
export -f case_ 2>/dev/null

case_ 0 'esalign [0-9]' "$BIN" version
case_ 0 'Commands:' "$BIN" --help
case_ nz 'unknown command' "$BIN" frobnicate

# more cases are added by each module
for f in tests/cli.d/*.sh; do [ -f "$f" ] && . "$f"; done

echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
