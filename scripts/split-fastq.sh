#!/usr/bin/env bash
# split-fastq.sh — split a FASTQ (plain or gzip) into N shards for the workflow: record k goes to shard k mod N, so
# the shards of two mate files hold the same pairs in the same order. Always writes exactly N files (empty when there
# are fewer than N records); names PREFIX.000.fq .. (single-end) or PREFIX.000.1.fq / PREFIX.000.2.fq (pairs).
# Usage: scripts/split-fastq.sh -n N -o PREFIX r1.fq[.gz] [r2.fq[.gz]]
# A pair of files with different record counts, or mates whose names differ (after a /1 /2 suffix), is an error.
set -euo pipefail
n=""; prefix=""
usage() { echo "Usage: split-fastq.sh -n N -o PREFIX r1.fq[.gz] [r2.fq[.gz]]" >&2; exit 1; }
while getopts "n:o:" o; do case $o in n) n=$OPTARG ;; o) prefix=$OPTARG ;; *) usage ;; esac; done
shift $((OPTIND - 1))
[ $# -ge 1 ] && [ $# -le 2 ] && [ -n "$prefix" ] || usage
[[ $n =~ ^[1-9][0-9]*$ ]] && [ "$n" -le 1000 ] || { echo "split-fastq: -n must be an integer in 1..1000, not '$n'" >&2; exit 1; }
for f in "$@"; do [ -r "$f" ] || { echo "split-fastq: $f: cannot open" >&2; exit 1; }; done
mkdir -p "$(dirname "$prefix")"

if [ $# -eq 1 ]; then
  gzip -cdf -- "$1" | awk -v n="$n" -v p="$prefix" -v f="$1" '
    BEGIN { for (i = 0; i < n; i++) { o[i] = sprintf("%s.%03d.fq", p, i); printf "" > o[i] } }
    NR % 4 == 1 && substr($0, 1, 1) != "@" { printf "split-fastq: %s: line %d: a record must begin with @\n", f, NR > "/dev/stderr"; bad = 1; exit 1 }
    { print > o[int((NR - 1) / 4) % n] }
    END { if (!bad && NR % 4) { printf "split-fastq: %s: truncated record at the end\n", f > "/dev/stderr"; exit 1 } }'
else
  # read both files in lock-step (paste puts mate 1 and mate 2 on one line, a tab between) so a pair never splits
  paste <(gzip -cdf -- "$1") <(gzip -cdf -- "$2") | awk -F'\t' -v n="$n" -v p="$prefix" -v f1="$1" -v f2="$2" '
    function base(s) { sub(/[ \t].*/, "", s); sub(/\/[12]$/, "", s); return s }
    BEGIN { for (i = 0; i < n; i++) { a[i] = sprintf("%s.%03d.1.fq", p, i); b[i] = sprintf("%s.%03d.2.fq", p, i); printf "" > a[i]; printf "" > b[i] } }
    NF > 2 { printf "split-fastq: line %d of %s or %s holds a tab; cannot pair it\n", NR, f1, f2 > "/dev/stderr"; bad = 1; exit 1 }
    ($1 == "") != ($2 == "") { printf "split-fastq: %s and %s: different numbers of lines (from line %d)\n", f1, f2, NR > "/dev/stderr"; bad = 1; exit 1 }
    NR % 4 == 1 && base($1) != base($2) { printf "split-fastq: line %d: mates %s and %s differ in name\n", NR, $1, $2 > "/dev/stderr"; bad = 1; exit 1 }
    { s = int((NR - 1) / 4) % n; print $1 > a[s]; print $2 > b[s] }
    END { if (!bad && NR % 4) { printf "split-fastq: %s: truncated record at the end\n", f1 > "/dev/stderr"; exit 1 } }'
fi
