#!/usr/bin/env bash
# make demo: fetch E. coli K-12 from a Debian package, then 'esalign demo': build the index, simulate reads with known
# origins (1% substitutions, 0.1% indels, both strands), align them with 2 threads and print the accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${ESALIGN_BIN:-./esalign}
GENOME=${DEMO_GENOME:-ecoli}
scripts/fetch-genomes.sh "$GENOME"
exec "$BIN" demo -n "${DEMO_READS:-20000}" -l "${DEMO_LEN:-150}" -t 2 "data/genomes/$GENOME.fa.gz"
