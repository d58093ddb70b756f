# synth.sh — scripts/synth-genome.py, the synthetic human-like genome (sourced by tests/cli.sh; $BIN, $T, case_).
# Hermetic: the "real" genome is made here. A random 200 kb FASTA fits a first, repeat-rich run (2+1 families,
# 60% repeats; renamed boot1, boot2), whose truth then says whether the second run's families are repeats.
SG="python3 scripts/synth-genome.py"
awk 'BEGIN { srand(11); print ">r1"; for (i = 0; i < 200000; i++) { printf "%s", substr("ACGT", int(rand() * 4) + 1, 1); if (i % 60 == 59) print "" } print "" }' > "$T/sg-rand.fa"
case_ 0 'only 0 of 2 S family windows passed .*best-scoring others fill up' $SG --real "$T/sg-rand.fa" --no-real --total 600k \
  --contig-len 300k --families 2 --long-families 1 --repeat-frac 0.6 --seed 5 -o "$T/sg-boot0.fa"
sed 's/^>syn/>boot/' "$T/sg-boot0.fa" > "$T/sg-boot.fa"
sed 's/^syn/boot/' "$T/sg-boot0.fa.truth.tsv" > "$T/sg-boot.truth.tsv"
# the genome: 600 kb real + 2 Mb synthetic in two contigs
SGA=(--real "$T/sg-boot.fa" --total 2.6M --contig-len 1M --families 20 --long-families 3)
case_ 0 'wrote 2600000 bases \(600000 real, 2000000 synthetic in 2 contigs' $SG "${SGA[@]}" -o "$T/sg.fa"
case_ 0 '' samtools faidx "$T/sg.fa"
case_ 0 '^boot1 300000 boot2 300000 syn1 1000000 syn2 1000000 $' bash -c "cut -f1,2 '$T/sg.fa.fai' | tr '\t\n' '  '"
case_ 0 '^60$' bash -c "grep -v '^>' '$T/sg.fa' | awk '{ if (length(\$0) > m) m = length(\$0) } END { print m }'"
# the real contigs are written unchanged
case_ 0 '' cmp <(grep -v '^>' "$T/sg-boot.fa" | tr -d '\n') <(samtools faidx "$T/sg.fa" boot1 boot2 | grep -v '^>' | tr -d '\n')
# truth lines: on the synthetic contigs, inside them, sorted and disjoint; the N bases are the gaps
case_ 0 '^ok [0-9]{3,}$' awk -F'\t' 'NR == FNR { len[$1] = $2; next } /^#/ { next }
  { n++; if ($1 !~ /^syn/ || !($1 in len) || $2 < 0 || $3 <= $2 || $3 > len[$1] || ($1 == pc && $2 < pe)) bad++; pc = $1; pe = $3 }
  END { print (bad ? "bad " bad : "ok " n) }' "$T/sg.fa.fai" "$T/sg.fa.truth.tsv"
case_ 0 '' bash -c "test \$(samtools faidx '$T/sg.fa' syn1 syn2 | grep -v '^>' | tr -cd N | wc -c) -eq \
  \$(awk -F'\t' '\$4 == \"gap\" { s += \$3 - \$2 } END { print s + 0 }' '$T/sg.fa.truth.tsv')"
# composition of the synthetic non-N bases: repeats 45% (+-5), tandem 3% (1-5: ~56 tandem repeats in 2 Mb)
case_ 0 '^ok' awk -F'\t' '/^#/ { next } { l = $3 - $2; if ($4 == "gap") g += l; else if ($4 == "repeat") r += l; else if ($4 == "tandem") t += l }
  END { nn = 2000000 - g; r = 100 * r / nn; t = 100 * t / nn; print ((r >= 40 && r <= 50 && t >= 1 && t <= 5) ? "ok" : "off", r, t) }' "$T/sg.fa.truth.tsv"
# the repeat criterion: the family windows that pass it lie (>= half) in repeat copies of the boot genome
# (60 short families wanted: 1,200 candidate windows, of which only the least diverged copies pass)
$SG --real "$T/sg-boot.fa" --no-real --total 10k --contig-len 10k --families 60 --long-families 1 -q -o "$T/sg-crit.fa"
case_ 0 '^ok [0-9]+ of [0-9]+$' awk -F'\t' 'NR == FNR { if ($4 == "repeat") { n++; c[n] = $1; b[n] = $2; e[n] = $3 } next }
  /^# family/ { split($0, f, " "); split(f[4], s, ":"); split(s[2], x, "-"); if (substr(f[6], 7) + 0 < 0.5) next
    pass++; cov = 0; for (i = 1; i <= n; i++) if (c[i] == s[1]) { lo = b[i] > x[1] ? b[i] : x[1]; hi = e[i] < x[2] ? e[i] : x[2]; if (hi > lo) cov += hi - lo }
    if (cov >= (x[2] - x[1]) / 2) inrep++ }
  END { print ((pass >= 5 && inrep >= 0.9 * pass) ? "ok" : "off"), inrep + 0, "of", pass + 0 }' "$T/sg-boot.truth.tsv" "$T/sg-crit.fa.truth.tsv"
# reproducible: gzip output twice byte-identical (no name or time in the header), its content the plain run's;
# another seed differs
case_ 0 '' bash -c "$SG ${SGA[*]} -q -o '$T/sg1.fa.gz' && $SG ${SGA[*]} -q -o '$T/sg2.fa.gz' && cmp '$T/sg1.fa.gz' '$T/sg2.fa.gz' \
  && gzip -dc '$T/sg1.fa.gz' | cmp - '$T/sg.fa' && cmp '$T/sg1.fa.gz.truth.tsv' '$T/sg.fa.truth.tsv'"
case_ 0 '^differ$' bash -c "$SG ${SGA[*]} -q --seed 2 -o '$T/sg3.fa' && { cmp -s '$T/sg3.fa' '$T/sg.fa' && echo same || echo differ; }"
case_ 0 '^0$' bash -c "ls -a '$T' | grep '\.tmp\$' | wc -l"
# stdout, no truth; the errors
case_ 0 '^3$' bash -c "$SG --real '$T/sg-rand.fa' --no-real --total 50k --contig-len 20k --families 3 --long-families 1 -q | grep -c '^>syn'"
case_ 1 'less than the real contigs' $SG --real "$T/sg-boot.fa" --total 100k -o "$T/sg-bad.fa"
case_ 2 "expected a length like .* got '3X'" $SG --total 3X
case_ 1 'cannot read --real' $SG --real "$T/nope.fa" --total 1M
case_ 1 'cannot write .*x.fa: .*not a writable directory' $SG --real "$T/sg-rand.fa" --no-real --total 50k --contig-len 20k -o "$T/no/dir/x.fa"
case_ 0 '' test ! -e "$T/sg-bad.fa"
case_ 0 'cannot tell.*chrX.s repeats re-inserted' bash -c "$SG --help | tr '\n' ' '"
# esalign on it: index (2.6 Mb, 1 thread), 2,000 reads simulated from the synthetic contigs, align, score
case_ 0 'wrote .*sg.esi' "$BIN" index -t 1 -o "$T/sg" "$T/sg.fa"
samtools faidx "$T/sg.fa" syn1 syn2 > "$T/sg-syn.fa"
case_ 0 '' "$BIN" simulate -n 2000 -s 3 -o "$T/sg.fq" "$T/sg-syn.fa"
case_ 0 '2000 reads, [0-9]+ mapped' "$BIN" align -t 1 -o "$T/sg.sam" "$T/sg.esi" "$T/sg.fq"
case_ 0 'correct +[0-9]+ +(9[0-9]|100)\.' "$BIN" eval "$T/sg.sam"
