# options.sh — the command line's shared rules (sourced by tests/cli.sh; $BIN, $T, case_): --help prints the usage to
# stdout and exits 0, a missing argument prints it to stderr and exits 1, a bad number is one line naming the option
# and its range.
for cmd in align demo embed eval simulate; do
  case_ 0 "^Usage: esalign $cmd" bash -c "\"$BIN\" $cmd --help 2>/dev/null"
  case_ 0 "^Usage: esalign $cmd" bash -c "\"$BIN\" $cmd -h 2>/dev/null"
  case_ 0 '^0$' bash -c "\"$BIN\" $cmd --help 2>&1 >/dev/null | wc -c"
done
case_ 0 '^esalign .*Commands:' bash -c "\"$BIN\" --help 2>/dev/null | tr '\n' ' '"
case_ 1 '' "$BIN"
case_ 0 '^0$' bash -c "\"$BIN\" 2>/dev/null | wc -c"
for cmd in align embed eval simulate; do
  case_ 1 "Usage: esalign $cmd" "$BIN" $cmd
  case_ 0 '^0$' bash -c "\"$BIN\" $cmd 2>/dev/null | wc -c"
done
# -t is 1..64 (ES_MAX_THREADS) everywhere
case_ 1 "^esalign align: -t: expected an integer in 1\.\.64, got '65'$" "$BIN" align -t 65 x.esi x.fq
case_ 1 "^esalign align: -t: expected an integer in 1\.\.64, got '0'$" "$BIN" align -t 0 x.esi x.fq
case_ 1 "^esalign align: -t: expected an integer in 1\.\.64, got '2x'$" "$BIN" align -t 2x x.esi x.fq
case_ 1 "^esalign demo: -t: expected an integer in 1\.\.64, got '100'$" "$BIN" demo -t 100
case_ 1 "^esalign align: --nprobe: expected an integer in 1\.\.65536, got '0'$" "$BIN" align --nprobe 0 x.esi x.fq
case_ 1 "^esalign align: --last-look: expected an integer in -1\.\.60, got '61'$" "$BIN" align --last-look 61 x.esi x.fq
case_ 1 "^esalign align: --look-widen: expected an integer in 0\.\.16, got '17'$" "$BIN" align --look-widen 17 x.esi x.fq
case_ 1 "^esalign align: -K: expected an integer in 1\.\.256" "$BIN" align -K 257 x.esi x.fq
case_ 1 "^esalign align: --secondary: expected an integer in 0\.\.100" "$BIN" align --secondary -1 x.esi x.fq
case_ 1 "^esalign align: -v: expected an integer in 0\.\.3" "$BIN" align -v 4 x.esi x.fq
case_ 1 "^esalign demo: -n: expected an integer in 1\.\." "$BIN" demo -n 0
case_ 1 "^esalign demo: -l: expected an integer in 30\.\.1000, got '20'$" "$BIN" demo -l 20
case_ 1 "^esalign demo: -s: expected an integer in 0\.\." "$BIN" demo -s -1
case_ 1 "^esalign embed: -v: expected an integer in 0\.\.3, got 'x'$" "$BIN" embed -v x x.fa
case_ 1 "^esalign eval: --max-dist: expected an integer in 0\.\.1000000000, got '-1'$" "$BIN" eval --max-dist -1 x.sam
case_ 1 "^esalign simulate: -e: expected a number in 0\.\.0\.75, got 'abc'$" "$BIN" simulate -e abc x.fa
case_ 1 "^esalign simulate: -n: expected an integer in 0\.\.1000000000000, got '-3'$" "$BIN" simulate -n -3 x.fa
case_ 1 "^esalign simulate: -l: expected an integer in 1\.\.1000000, got ' 5'$" "$BIN" simulate -l ' 5' x.fa
case_ 1 "^esalign simulate: -N: expected a number in 0\.\.1, got '2'$" "$BIN" simulate -N 2 x.fa
# a bad value is one line
case_ 0 '^1$' bash -c "\"$BIN\" align -t 65 x.esi x.fq 2>&1 | wc -l"
