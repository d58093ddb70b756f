#!/usr/bin/env bash
# fit-mapq.sh — reproduce the MAPQ model of src/mapq.c: simulate training reads from the training half of human chrX
# (X:0-35,000,000) and from E. coli — `esalign simulate` at 0.2-15% substitutions (seeds 102-137) and mason reads of
# a mason_variator sample (seed 9; mason_simulator seeds 201-203) — never the evaluation reads (chrX 35-70 Mb, bench
# seeds), map them
# with `esalign align --mapq-features` (each primary record gets an XF:Z tag with the model's features) on the kmer
# and transformer indexes, and fit a logistic regression of "placement wrong" on the features
# (scripts/fit_mapq.py, standard library only). Prints the coefficient table to paste into src/mapq.c.
#
# Usage: scripts/fit-mapq.sh [--reads-only] WORKDIR
# Environment: ESALIGN (default ./esalign), HUMAN_FA / ECOLI_FA (plain FASTA; default /work/base/ref/{human,ecoli}.fa),
#   IDX_DIR (indexes NAME-ENCODER.esi; default /work/base/out-base), ESALIGN_MODEL, THREADS (default 2),
#   N_HUMAN / N_ECOLI (reads per length and divergence; default 3000 / 1500), N_DIV (reads per length of each
#   diverged sample; default 4000), FIT_ARGS (more fit_mapq.py options, e.g. --coef src/mapq.c --keep rest,strong;
#   the sketch tables of 2026-12-02: --coef src/mapq.c --keep
#   rest,diverged,diverged-unique,diverged-lenient,diverged-lenient-unique,strong).
set -euo pipefail
cd "$(dirname "$0")/.."
READS_ONLY=0
[ "${1:-}" = --reads-only ] && { READS_ONLY=1; shift; }
W=${1:?usage: fit-mapq.sh [--reads-only] WORKDIR}
ESALIGN=${ESALIGN:-./esalign}
HUMAN_FA=${HUMAN_FA:-/work/base/ref/human.fa}
ECOLI_FA=${ECOLI_FA:-/work/base/ref/ecoli.fa}
IDX_DIR=${IDX_DIR:-/work/base/out-base}
THREADS=${THREADS:-2}
N_HUMAN=${N_HUMAN:-3000}
N_ECOLI=${N_ECOLI:-1500}
LENS="100 150 250"
SUBS="0.002 0.01 0.03 0.06 0.10 0.15"   # substitution rate per base; indels at a tenth of it (at least 0.0005)
mkdir -p "$W"
seed=101
for ref in human ecoli; do
  case $ref in human) fa=$HUMAN_FA n=$N_HUMAN region="-r X:0-35000000" ;; *) fa=$ECOLI_FA n=$N_ECOLI region="" ;; esac
  for len in $LENS; do
    for e in $SUBS; do
      seed=$((seed + 1))
      fq=$W/$ref-$len-e$e.fq
      ind=$(awk -v e="$e" 'BEGIN { x = e / 10; if (x < 0.0005) x = 0.0005; printf "%g", x }')
      [ -s "$fq" ] || "$ESALIGN" simulate -n "$n" -l "$len" -e "$e" -i "$ind" -s "$seed" $region -o "$fq" "$fa"
    done
  done
done
# ordinary reads: mason on the chrX training half (a slice named X, so its coordinates are X's) and on E. coli
M=${MASON_DIR:-/usr/lib/seqan/bin}
[ -s "$W/hx.fa" ] || { samtools faidx "$HUMAN_FA" X:1-35000000 | sed '1s/.*/>X/' > "$W/hx.fa"; samtools faidx "$W/hx.fa"; }
for g in hx ecoli; do
  fa=$W/hx.fa n=${N_MASON_HUMAN:-30000}; [ $g = ecoli ] && fa=$ECOLI_FA n=${N_MASON_ECOLI:-15000}
  [ -s "$W/m-$g.vcf" ] || "$M/mason_variator" -q -ir "$fa" -ov "$W/m-$g.vcf" -s 9 --snp-rate 0.001 \
    --small-indel-rate 0.0001 --min-small-indel-size 1 --max-small-indel-size 6 --sv-indel-rate 0 \
    --sv-inversion-rate 0 --sv-translocation-rate 0 --sv-duplication-rate 0 >/dev/null 2>&1
  s=200
  for len in $LENS; do
    s=$((s + 1))
    [ -s "$W/m-$g-$len.fq" ] || "$M/mason_simulator" -q -ir "$fa" -iv "$W/m-$g.vcf" -n "$n" --seed $s --num-threads 1 \
      --illumina-read-length "$len" --fragment-mean-size 500 --fragment-size-std-dev 50 -o "$W/m-$g-$len.fq" \
      -oa "$W/m-$g-$len.truth.sam" >/dev/null 2>&1
  done
done
# 120,000 more 100 bp mason reads of the chrX half (seeds 204-205), mapped with the kmer index only: the sketch
# tables' top blocks need them (mapq.c)
for s in 204 205; do
  [ -s "$W/x-hx-100-$s.fq" ] || "$M/mason_simulator" -q -ir "$W/hx.fa" -iv "$W/m-hx.vcf" -n 60000 --seed $s \
    --num-threads 1 --illumina-read-length 100 --fragment-mean-size 500 --fragment-size-std-dev 50 \
    -o "$W/x-hx-100-$s.fq" -oa "$W/x-hx-100-$s.truth.sam" >/dev/null 2>&1
done
# diverged samples, as the bench's divergent scenarios are made (scripts/bench/calibration.sh) but with other seeds
# (mason_variator 50+D, mason_simulator 301-303; the bench's are 3+D and 13): E. coli at 5/10/15/20% and a 10 Mb
# slice of the chrX training half (X:20-30 Mb, its own index, built here) at 5/10/15%. SNPs at D*0.009 and small
# indels of 1-6 bp at D*0.001 of the genome, then Illumina errors. Without them the model was fitted on `esalign
# simulate`'s uniform substitutions only, and the bench's diverged reads at MAPQ 10-39 were wrong 3-10x less often
# than their MAPQ claimed.
[ -s "$W/hs.fa" ] || { samtools faidx "$HUMAN_FA" X:20000001-30000000 | sed '1s/.*/>Xs/' > "$W/hs.fa"; samtools faidx "$W/hs.fa"; }
DIV_SAMPLES=${DIV_SAMPLES:-"ecoli:5 ecoli:10 ecoli:15 ecoli:20 hs:5 hs:10 hs:15"}
for gd in $DIV_SAMPLES; do
  g=${gd%:*} d=${gd#*:} fa=$W/hs.fa; [ $g = ecoli ] && fa=$ECOLI_FA
  vcf=$W/d-$g-$d.vcf
  [ -s "$vcf" ] || "$M/mason_variator" -q -ir "$fa" -ov "$vcf" -s $((50 + d)) \
    --snp-rate "$(awk -v d="$d" 'BEGIN { printf "%g", d * 0.009 }')" \
    --small-indel-rate "$(awk -v d="$d" 'BEGIN { printf "%g", d * 0.001 }')" --min-small-indel-size 1 \
    --max-small-indel-size 6 --sv-indel-rate 0 --sv-inversion-rate 0 --sv-translocation-rate 0 \
    --sv-duplication-rate 0 >/dev/null 2>&1
  s=300
  for len in $LENS; do
    s=$((s + 1))
    [ -s "$W/d-$g-$d-$len.fq" ] || "$M/mason_simulator" -q -ir "$fa" -iv "$vcf" -n "${N_DIV:-4000}" --seed $s \
      --num-threads 1 --illumina-read-length "$len" --fragment-mean-size 500 --fragment-size-std-dev 50 \
      -o "$W/d-$g-$d-$len.fq" -oa "$W/d-$g-$d-$len.truth.sam" >/dev/null 2>&1
  done
done
[ $READS_ONLY = 1 ] && exit 0
[ -s "$IDX_DIR/hs-transformer.esi" ] || "$ESALIGN" index -v 1 -t "$THREADS" -o "$IDX_DIR/hs-transformer" "$W/hs.fa"
sams=""
# the simulated (0.2-15% diverged) reads with both indexes. The kmer index's reads have tables of their own (the
# sketch kinds of mapq.c, XF's last value 1) since 2026-12-02; before, they were left out: mixed with the transformer
# index's reads, the kmer sketch's diverged reads made the model's MAPQ 1-29 claim 6-17x the error observed on the
# bench's diverged reads (transformer index). Mason reads with both indexes.
for ref in human ecoli; do
  cat "$W"/$ref-*-e*.fq > "$W/$ref.all.fq"
  for enc in transformer kmer; do
    "$ESALIGN" align -v 1 -t "$THREADS" --mapq-features "$IDX_DIR/$ref-$enc.esi" "$W/$ref.all.fq" > "$W/$ref-$enc.sam"
    sams="$sams $W/$ref-$enc.sam"
  done
done
for enc in kmer transformer; do
  for g in hx ecoli; do
    ref=human; [ $g = ecoli ] && ref=ecoli
    for len in $LENS; do
      "$ESALIGN" align -v 1 -t "$THREADS" --mapq-features "$IDX_DIR/$ref-$enc.esi" "$W/m-$g-$len.fq" > "$W/m-$g-$len-$enc.sam"
      sams="$sams $W/m-$g-$len-$enc.sam=$W/m-$g-$len.truth.sam"
    done
  done
done
for s in 204 205; do
  "$ESALIGN" align -v 1 -t "$THREADS" --mapq-features "$IDX_DIR/human-kmer.esi" "$W/x-hx-100-$s.fq" > "$W/x-hx-100-$s-kmer.sam"
  sams="$sams $W/x-hx-100-$s-kmer.sam=$W/x-hx-100-$s.truth.sam"
done
# the diverged samples with the transformer index, at the default scoring and with -x divergent (same model)
for gd in $DIV_SAMPLES; do
  g=${gd%:*} d=${gd#*:} ref=hs; [ $g = ecoli ] && ref=ecoli
  for len in $LENS; do
    for x in default divergent; do
      o=$W/d-$g-$d-$len-$x.sam xo=""; [ $x = divergent ] && xo="-x divergent"
      "$ESALIGN" align -v 1 -t "$THREADS" $xo --mapq-features "$IDX_DIR/$ref-transformer.esi" "$W/d-$g-$d-$len.fq" > "$o"
      sams="$sams $o=$W/d-$g-$d-$len.truth.sam"
    done
  done
done
python3 scripts/fit_mapq.py ${FIT_ARGS:-} $sams
