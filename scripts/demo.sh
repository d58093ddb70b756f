#!/usr/bin/env bash
# make demo: fetch E. coli K-12 from a Debian package, build the esalign index, simulate reads with known origins,
# align them and print the accuracy. Work files go to data/demo/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ESALIGN_BIN:-./esalign}
GENOME=${DEMO_GENOME:-ecoli}
N=${DEMO_READS:-20000}
LEN=${DEMO_LEN:-150}
D=data/demo; mkdir -p "$D"
scripts/fetch-genomes.sh "$GENOME"
REF=data/genomes/$GENOME.fa.gz
echo "== index $REF"
[ -s "$D/$GENOME.esi" ] || $BIN index -t 2 -o "$D/$GENOME.esi" "$REF"
echo "== simulate $N reads of $LEN bp (1% substitutions, 0.1% indels, both strands)"
$BIN simulate -n "$N" -l "$LEN" -e 0.01 -i 0.001 -s 11 -o "$D/reads.fq" "$REF"
echo "== align (2 threads)"
$BIN align -t 2 -o "$D/aln.sam" "$D/$GENOME.esi" "$D/reads.fq"
echo "== accuracy"
$BIN eval "$D/aln.sam"
