#!/bin/bash
# scale-bench.sh — one scale point of issue 15: a synthetic genome of TOTAL bases (scripts/synth-genome.py: chrX
# 70 Mb + synthetic contigs), esalign's index against bwa's (build time, CPU, peak memory, size), 20,000 `esalign
# simulate` reads per length mapped by both (correct % over the whole genome and over the real contig X), the
# index's approximate search against exact search (`esalign index --bench --exact`, 1 thread), and two aligners
# holding the one index at once (the mapping shared: each process's Rss against its Pss).
# Not part of `make bench`: at 0.3 Gb it takes ~25 minutes on 2 cores, at 1 Gb ~1.5 h, at 3.1 Gb (BWA=0) ~2 h
# (docs/store.md, "Measured at scale").
# Usage: scripts/scale-bench.sh [TOTAL [WORKDIR]]   (default 300M, data/scale-TOTAL)
# Environment: ESALIGN (default ./esalign); BWA=0 leaves bwa out (its index of 3.1 Gb takes hours here);
#   INDEX_OPTS (extra `esalign index` options, e.g. "--vec-bits 4") and TAG (names that index g$TAG.esi);
#   EXACT_N (reads per length for the exact search, default 200; exact search reads every vector: ~1.5 s per query
#   at 3.1 Gb); EXACT_LENS (default "150 250 100"); READS (reads per length, default 20000).
set -u
cd "$(dirname "$0")/.."
TOTAL=${1:-300M}
W=${2:-data/scale-$TOTAL}
B=${ESALIGN:-./esalign}
BWA=${BWA:-1}
TAG=${TAG:-}
N=${READS:-20000}
mkdir -p "$W"
t() { local o=$1; shift; /usr/bin/time -o "$o" -f "%e s wall, %U+%S s CPU, %M KB peak" "$@"; }
[ -s "$W/g.fa" ] || t "$W/synth.time" python3 scripts/synth-genome.py --total "$TOTAL" -o "$W/g.fa" 2> "$W/synth.log"
echo "== synth: $(cat "$W/synth.time")"
I=$W/g$TAG.esi
[ -s "$I" ] || t "$W/esidx$TAG.time" "$B" index -t 2 -v 2 ${INDEX_OPTS:-} -o "$W/g$TAG" "$W/g.fa" > "$W/esidx$TAG.log" 2>&1
echo "== esalign index $TAG: $(cat "$W/esidx$TAG.time"); $(grep -v '%' "$W/esidx$TAG.log" | tail -1)"
if [ "$BWA" = 1 ]; then
  [ -s "$W/bwa.bwt" ] || t "$W/bwaidx.time" bwa index -p "$W/bwa" "$W/g.fa" > "$W/bwaidx.log" 2>&1
  echo "== bwa index: $(cat "$W/bwaidx.time"); $(du -cb "$W"/bwa.* | tail -1)"
fi
for L in 150 250 100; do
  [ -s "$W/r$L.fq" ] || "$B" simulate -n "$N" -l $L -e 0.01 -s $L -o "$W/r$L.fq" "$W/g.fa" 2>/dev/null
  t "$W/es$TAG$L.time" "$B" align -t 2 "$I" "$W/r$L.fq" -o "$W/es$TAG$L.sam" 2> "$W/es$TAG$L.err"
  echo "== map $L: esalign $(cat "$W/es$TAG$L.time")"
  grep "CPU per read" "$W/es$TAG$L.err"
  als="es$TAG"
  if [ "$BWA" = 1 ]; then
    [ -s "$W/bwa$L.sam" ] || t "$W/bwa$L.time" bwa mem -t 2 "$W/bwa" "$W/r$L.fq" > "$W/bwa$L.sam" 2> "$W/bwa$L.err"
    echo "== map $L: bwa $(cat "$W/bwa$L.time")"
    als="$als bwa"
  fi
  for a in $als; do for r in "" X; do   # reads, correct %, MAPQ>=20 mapped %, err %
    echo "$a $L ${r:-all} $("$B" eval --tsv ${r:+--region $r} "$W/$a$L.sam" | tail -1 | cut -f1,3,12,13)"; done; done
done
echo "== two aligners at once on one index (1 thread each): Rss and Pss of each while mapping"
share() {   # each aligner reads from a FIFO, so both hold the loaded index while their maps are read
  local p1 p2
  rm -f "$W/share1.fifo" "$W/share2.fifo"
  mkfifo "$W/share1.fifo" "$W/share2.fifo"
  "$B" align -t 1 "$I" "$W/share1.fifo" -o "$W/share1.sam" 2>/dev/null & p1=$!
  "$B" align -t 1 "$I" "$W/share2.fifo" -o "$W/share2.sam" 2>/dev/null & p2=$!
  sleep "${SHARE_WAIT:-20}"   # both have mapped (and checksummed) the whole index by then
  for p in $p1 $p2; do
    awk -v p=$p 'BEGIN { printf "pid %s:", p } /^(Rss|Pss|Shared_Clean|Private_Clean|Private_Dirty):/ {
      printf " %s %.2f GiB", $1, $2 / 1048576 } END { print "" }' "/proc/$p/smaps_rollup" 2>/dev/null
  done
  head -n 4000 "$W/r150.fq" > "$W/share1.fifo"
  head -n 4000 "$W/r250.fq" > "$W/share2.fifo"
  wait $p1 $p2
  rm -f "$W/share1.fifo" "$W/share2.fifo"
}
share
echo "== search recall vs exact (1 thread)"
for L in ${EXACT_LENS:-150 250 100}; do
  "$B" index --bench --exact -n "${EXACT_N:-200}" -l $L -t 1 "$I" 2>&1 | grep -E "^(approx|exact)"
done
