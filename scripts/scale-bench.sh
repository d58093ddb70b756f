#!/bin/bash
# scale-bench.sh — one scale point of issue 15: a synthetic genome of TOTAL bases (scripts/synth-genome.py: chrX
# 70 Mb + synthetic contigs), esalign's index against bwa's (build time, CPU, peak memory, size), 20,000 `esalign
# simulate` reads per length mapped by both (correct % over the whole genome and over the real contig X), and the
# index's approximate search against exact search (`esalign index --bench --exact`, 200 reads, 1 thread).
# Not part of `make bench`: at 0.3 Gb it takes ~25 minutes on 2 cores (docs/store.md, "Measured at 0.3 Gb").
# Usage: scripts/scale-bench.sh [TOTAL [WORKDIR]]   (default 300M, data/scale-TOTAL); ESALIGN (default ./esalign).
set -u
cd "$(dirname "$0")/.."
TOTAL=${1:-300M}
W=${2:-data/scale-$TOTAL}
B=${ESALIGN:-./esalign}
mkdir -p "$W"
t() { local o=$1; shift; /usr/bin/time -o "$o" -f "%e s wall, %U+%S s CPU, %M KB peak" "$@"; }
[ -s "$W/g.fa" ] || t "$W/synth.time" python3 scripts/synth-genome.py --total "$TOTAL" -o "$W/g.fa" 2> "$W/synth.log"
echo "== synth: $(cat "$W/synth.time")"
t "$W/esidx.time" "$B" index -t 2 -o "$W/g" "$W/g.fa" > "$W/esidx.log" 2>&1
echo "== esalign index: $(cat "$W/esidx.time"); $(grep -v '%' "$W/esidx.log" | tail -1)"
[ -s "$W/bwa.bwt" ] || t "$W/bwaidx.time" bwa index -p "$W/bwa" "$W/g.fa" > "$W/bwaidx.log" 2>&1
echo "== bwa index: $(cat "$W/bwaidx.time"); $(du -cb "$W"/bwa.* | tail -1)"
for L in 150 250 100; do
  [ -s "$W/r$L.fq" ] || "$B" simulate -n 20000 -l $L -e 0.01 -s $L -o "$W/r$L.fq" "$W/g.fa" 2>/dev/null
  t "$W/es$L.time" "$B" align -t 2 "$W/g.esi" "$W/r$L.fq" -o "$W/es$L.sam" 2> "$W/es$L.err"
  t "$W/bwa$L.time" bwa mem -t 2 "$W/bwa" "$W/r$L.fq" > "$W/bwa$L.sam" 2> "$W/bwa$L.err"
  echo "== map $L: esalign $(cat "$W/es$L.time") | bwa $(cat "$W/bwa$L.time")"
  grep "CPU per read" "$W/es$L.err"
  for a in es bwa; do for r in "" X; do   # reads, correct %, MAPQ>=20 mapped %, err %
    echo "$a $L ${r:-all} $("$B" eval --tsv ${r:+--region $r} "$W/$a$L.sam" | tail -1 | cut -f1,3,12,13)"; done; done
done
echo "== search recall vs exact (1 thread)"
for L in 150 250 100; do "$B" index --bench --exact -n 200 -l $L -t 1 "$W/g.esi" 2>&1 | grep -E "^(approx|exact)"; done
