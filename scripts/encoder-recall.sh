#!/usr/bin/env bash
# encoder-recall.sh — reproduce the encoder recall table of docs/encoder.md: exact-search recall@1/4/16/64 of the kmer
# sketch and the learned encoder at equal D=64, on reads simulated from the held-out human chrX slice 35–45 Mb
# (the model trains on chrX < 35 Mb only), both strands, 2,000 reads per row, indels at a tenth of the substitution rate.
#   250/150 bp reads against every 250 bp window at stride 25; 100 bp reads against every 100 bp window at stride 10.
# Usage: scripts/encoder-recall.sh [FASTA] [MODEL] [ESALIGN]   (defaults: data/genomes/human.fa.gz,
#        models/esalign.model, ./esalign).  Prints a Markdown table; raw 'recall' lines go to stderr.
# Cost: one thread; about 10 CPU minutes in all (window embedding dominates; see docs/encoder.md).
set -euo pipefail
cd "$(dirname "$0")/.."
FA=${1:-data/genomes/human.fa.gz}
MODEL=${2:-models/esalign.model}
BIN=${3:-./esalign}
REGION=${REGION:-X:35000000-45000000}
READS=${READS:-2000}
export OPENBLAS_NUM_THREADS=1
[ -f "$FA" ] || { echo "encoder-recall.sh: $FA not found (scripts/fetch-genomes.sh downloads it)" >&2; exit 1; }
out=$(mktemp); trap 'rm -f "$out"' EXIT
for enc in kmer "$MODEL"; do
  "$BIN" train --recall "$enc" --region "$REGION" --reads "$READS" -t 1 --W 250 --stride 25 \
    --read-len 250,250,150,150 --sub 0.01,0.05,0.01,0.05 "$FA" | tee -a "$out" >&2
  "$BIN" train --recall "$enc" --region "$REGION" --reads "$READS" -t 1 --W 100 --stride 10 \
    --read-len 100,100 --sub 0.01,0.05 "$FA" | tee -a "$out" >&2
done
# one row per (read length, rate): kmer and model side by side; speeds are embeddings per CPU second (one core)
awk -F'\t' '
  function val(k,   i, j) { for (i = 2; i <= NF; i++) { j = index($i, "="); if (substr($i, 1, j - 1) == k) return substr($i, j + 1) } return "" }
  { enc = val("encoder"); key = val("read_len") " bp, " val("sub") * 100 "% (W=" val("W") ", stride " val("stride") ")"
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    if (enc ~ /^kmer/) { K[key] = sprintf("%.1f / %.1f / %.1f / %.1f", 100*val("@1"), 100*val("@4"), 100*val("@16"), 100*val("@64")); KS[key] = val("reads_per_cpu_s"); kn = enc }
    else { M[key] = sprintf("%.1f / %.1f / %.1f / %.1f", 100*val("@1"), 100*val("@4"), 100*val("@16"), 100*val("@64")); MS[key] = val("reads_per_cpu_s"); mn = enc } }
  END {
    print "| reads (windows) | kmer @1 / @4 / @16 / @64 | learned @1 / @4 / @16 / @64 | kmer reads/s/core | learned reads/s/core |"
    print "|---|---|---|---|---|"
    for (i = 1; i <= n; i++) { k = order[i]; printf "| %s | %s | %s | %s | %s |\n", k, K[k], M[k], KS[k], MS[k] }
    print ""; print "kmer: " kn; print "learned: " mn }' "$out"
