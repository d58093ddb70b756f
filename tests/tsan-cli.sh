#!/usr/bin/env bash
# tsan-cli.sh BIN — the command line with several threads under a ThreadSanitizer build (make tsan): index, then
# single-end and paired-end align at 3 threads (the read -> map -> write pipeline and es_for over chunks).
# TSan exits non-zero on a report (TSAN_OPTIONS=halt_on_error=1); last line "tsan-cli: N passed, N failed".
BIN=${1:?usage: tsan-cli.sh BIN}
T=$(mktemp -d /tmp/esalign-tsan.XXXXXX); trap 'rm -rf "$T"' EXIT
pass=0; fail=0
run() { if "$@" > "$T/out" 2>&1; then pass=$((pass + 1)); echo "ok   $*"; else fail=$((fail + 1)); echo "FAIL $*"; head -n 30 "$T/out"; fi; }
awk 'BEGIN{srand(3); print ">t1"; s=""; for(i=0;i<80000;i++){s=s substr("ACGT",int(rand()*4)+1,1); if(length(s)==60){print s; s=""}} print s}' > "$T/t.fa"
run "$BIN" index -t 3 -v 1 -o "$T/t" "$T/t.fa"
run "$BIN" index -t 3 -v 1 --lists 8 -o "$T/tl" "$T/t.fa"
run "$BIN" simulate -n 3000 -l 150 -o "$T/r.fq" "$T/t.fa"
run "$BIN" align -t 3 -v 1 -o "$T/a.sam" "$T/t.esi" "$T/r.fq"
run "$BIN" align -t 3 -v 1 -o "$T/al.sam" "$T/tl.esi" "$T/r.fq"
# pairs made from the simulated reads: mate 2 is the reverse complement of mate 1 (a fragment one read long)
awk 'NR % 4 == 1 { n = $1 } NR % 4 == 2 { s = $0 } NR % 4 == 0 { print n "/1\n" s "\n+\n" $0 > "'"$T"'/p1.fq";
  r = ""; for (i = length(s); i > 0; i--) r = r (index("ACGTN", substr(s, i, 1)) ? substr("TGCAN", index("ACGTN", substr(s, i, 1)), 1) : "N");
  print n "/2\n" r "\n+\n" $0 > "'"$T"'/p2.fq" }' "$T/r.fq"
run "$BIN" align -t 3 -v 1 -o "$T/p.sam" "$T/t.esi" "$T/p1.fq" "$T/p2.fq"
echo "tsan-cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
