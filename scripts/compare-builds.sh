#!/usr/bin/env bash
# compare-builds.sh OLD_BIN NEW_BIN [WORKDIR] — the check of a change that must not alter output: both builds index
# E. coli and the first 70 Mb of human chrX with both encoders and map 10,000 mason reads per set (E. coli 250 bp;
# chrX 250/150/100 bp, and 150 bp at one thread), then every .esi and every SAM (less @PG) is compared with cmp.
# Prints one line per file ("same" / "DIFFERS") and the wall and user seconds of each mapping; exit 1 on a difference.
# Needs scripts/setup.sh and scripts/fetch-genomes.sh ecoli human; takes ~15 min on 2 cores (two transformer builds).
set -euo pipefail
cd "$(dirname "$0")/.."
OLD=$(readlink -f "$1"); NEW=$(readlink -f "$2"); W=${3:-data/compare}
M=${MASON_DIR:-/usr/lib/seqan/bin}
export ESALIGN_MODEL=${ESALIGN_MODEL:-$PWD/models/esalign.model} OPENBLAS_NUM_THREADS=1
mkdir -p "$W/ref" "$W/reads"
for g in ecoli human; do
  [ -s "$W/ref/$g.fa" ] || zcat "data/genomes/$g.fa.gz" | sed '/^>/s/[ \t].*//' > "$W/ref/$g.fa"
  [ -s "$W/reads/$g.vcf" ] || "$M/mason_variator" -q -ir "$W/ref/$g.fa" -ov "$W/reads/$g.vcf" -s 1 --snp-rate 0.001 \
    --small-indel-rate 0.0001 --min-small-indel-size 1 --max-small-indel-size 6 --sv-indel-rate 0 \
    --sv-inversion-rate 0 --sv-translocation-rate 0 --sv-duplication-rate 0 >/dev/null 2>&1
done
reads() { # GENOME LEN SEED
  local out=$W/reads/$1-$2.fq
  [ -s "$out" ] || "$M/mason_simulator" -q -ir "$W/ref/$1.fa" -iv "$W/reads/$1.vcf" -n 10000 --seed "$3" \
    --num-threads 1 --illumina-read-length "$2" --fragment-mean-size 500 --fragment-size-std-dev 50 -o "$out" \
    -oa "$W/reads/$1-$2.sam" >/dev/null 2>&1
}
reads ecoli 250 3; reads human 150 4; reads human 250 5; reads human 100 6
run() { # TAG BIN
  local o=$W/$1 g e
  mkdir -p "$o"
  for g in ecoli human; do
    for e in kmer transformer; do
      [ -s "$o/$g-$e.esi" ] || "$2" index -v 1 -t 2 --encoder $e -o "$o/$g-$e" "$W/ref/$g.fa"
    done
  done
  for e in kmer transformer; do
    for s in ecoli-250 human-250 human-150 human-100; do
      g=${s%-*}
      /usr/bin/time -f "%e s wall %U s user" -o "$o/$g-$e.$s.time" "$2" align -v 1 -t 2 "$o/$g-$e.esi" \
        "$W/reads/$s.fq" | grep -v '^@PG' > "$o/$g-$e.$s.sam"
    done
  done
  "$2" align -v 1 -t 1 "$o/human-transformer.esi" "$W/reads/human-150.fq" | grep -v '^@PG' > "$o/human-transformer.t1.sam"
}
run old "$OLD"
run new "$NEW"
bad=0
for f in "$W"/old/*.esi "$W"/old/*.sam; do
  b=$(basename "$f")
  if cmp -s "$f" "$W/new/$b"; then echo "same     $b"; else echo "DIFFERS  $b"; bad=1; fi
done
for f in "$W"/old/*.time; do b=$(basename "$f" .time); echo "time $b: old $(cat "$f"), new $(cat "$W/new/$b.time")"; done
exit $bad
