# simulate.sh — command-line cases of 'esalign simulate' (sourced by tests/cli.sh; $BIN, $T set there).
awk 'BEGIN { srand(3); print ">c1 tiny"; for (i = 0; i < 40; i++) { s = ""; for (j = 0; j < 60; j++) s = s substr("ACGT", int(rand() * 4) + 1, 1); print s } print ">c2"; print "ACGTACGTAC" }' > "$T/sim.fa"
gzip -c "$T/sim.fa" > "$T/sim.fa.gz"
printf '@r1\nACGT\n+\nIIII\n' > "$T/notfasta.fq"
case_ 1 'Usage: esalign simulate' "$BIN" simulate
case_ 0 'Usage: esalign simulate' "$BIN" simulate -h
case_ 0 '^@s0!c1![0-9]+![+-]$' "$BIN" simulate -n 3 -l 50 "$T/sim.fa"
case_ 0 '^20$' bash -c "\"$BIN\" simulate -n 5 -l 70 -s 9 -o \"$T/s.fq\" \"$T/sim.fa.gz\" && wc -l < \"$T/s.fq\""
case_ 0 '' bash -c "\"$BIN\" simulate -n 50 -s 4 -o \"$T/a.fq\" \"$T/sim.fa\" && \"$BIN\" simulate -n 50 -s 4 -o \"$T/b.fq\" \"$T/sim.fa\" && cmp \"$T/a.fq\" \"$T/b.fq\""
case_ 0 '^0$' bash -c "\"$BIN\" simulate -n 40 -l 30 -r c1:100-200 -o \"$T/r.fq\" \"$T/sim.fa\" && awk -F'!' 'NR % 4 == 1 && (\$2 != \"c1\" || \$3 < 100 || \$3 + 30 > 200)' \"$T/r.fq\" | wc -l"
case_ nz 'nope.fa.*cannot open' "$BIN" simulate -n 5 "$T/nope.fa"
case_ nz 'notfasta.fq.*before the first' "$BIN" simulate -n 5 "$T/notfasta.fq"
case_ nz "no contig named 'c9'" "$BIN" simulate -r c9:0-100 "$T/sim.fa"
case_ nz 'shorter than the read length' "$BIN" simulate -l 5000 "$T/sim.fa"
case_ nz "-e: expected a number in 0\\.\\.0\\.75, got 'abc'" "$BIN" simulate -e abc "$T/sim.fa"
case_ nz "-n: expected an integer in 0\\.\\." "$BIN" simulate -n -3 "$T/sim.fa"
case_ nz 'unknown option' "$BIN" simulate -Z "$T/sim.fa"
# a failed run leaves no output file behind (atomic output)
case_ 0 '^absent$' bash -c "\"$BIN\" simulate -r c9 -o \"$T/fail.fq\" \"$T/sim.fa\" 2>/dev/null; ls \"$T\" | grep -q fail.fq && echo present || echo absent"
