# bench.sh — cheap self-tests of the benchmark scripts (sourced by tests/cli.sh; $T is a scratch dir). They never
# run the benchmark: option handling, the GNU time parser, the ART truth fix-up, and the report on a tiny fixture.

case_ 0 'Usage: scripts/bench.sh' bash scripts/bench.sh --help
case_ nz 'unknown option' bash scripts/bench.sh --frobnicate
case_ nz 'read length must be' bash -c 'cd scripts && . bench/lib.sh && eval "$(sed -n "/^scenario()/,/^}/p" bench.sh)" && scenario human-77'

# GNU time -v: "m:ss.ss" and "h:mm:ss" wall clocks, peak RSS in MiB
printf '\tUser time (seconds): 1.50\n\tSystem time (seconds): 0.25\n\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:02.50\n\tMaximum resident set size (kbytes): 2048\n' > "$T/t1"
printf '\tElapsed (wall clock) time (h:mm:ss or m:ss): 1:00:03\n\tMaximum resident set size (kbytes): 1536\n' > "$T/t2"
case_ 0 '^62\.50 2\.0 3603\.00 1\.5 1\.75$' bash -c '. scripts/bench/lib.sh; echo $(time_wall "$1") $(time_rss_mb "$1") $(time_wall "$2") $(time_rss_mb "$2") $(time_cpu "$1")' _ "$T/t1" "$T/t2"

# the content-keyed cache: fresh only with the same key
case_ 0 '^yes no$' bash -c '. scripts/bench/lib.sh; touch "$1"; done_ "$1" k1; a=no; b=no; fresh "$1" k1 && a=yes; fresh "$1" k2 && b=yes; echo $a $b' _ "$T/cached"

# the note of a failed command: the "esalign CMD: ..." line rather than the progress lines before it
printf '[esalign index] 10 windows\nesalign index: x.fa: cannot open\n[esalign index] done\n' > "$T/err1"
case_ 0 '^esalign index: x\.fa: cannot open$' bash -c '. scripts/bench/lib.sh; first_err "$1"' _ "$T/err1"

# ART's occasional CIGAR one base longer than the read: SEQ/QUAL become "*", good records pass unchanged
printf 'r1\t16\tX\t100\t99\t5=\t*\t0\t0\tACGT\tIIII\nr2\t0\tX\t200\t99\t2=1X1=\t*\t0\t0\tACGT\tIIII\n' > "$T/art.sam"
case_ 0 '^r1 \* \* r2 ACGT IIII$' bash -c '. scripts/bench/lib.sh; . scripts/bench/simulate.sh; art_fix_cigar < "$1" | awk -F"\t" "{ printf \"%s%s %s %s\", (NR > 1 ? \" \" : \"\"), \$1, \$10, \$11 } END { print \"\" }"' _ "$T/art.sam"

# the report on a two-aligner fixture: tables, ratios against the anchor, issue 4's targets, held-out table
if command -v python3 >/dev/null; then
  mkdir -p "$T/bench/quick"
  cols="mode scenario ref len sim subset aligner status nreads idx_wall_s idx_rss_mb map_wall_s map_rss_mb reads_per_s idx_cpu_s map_cpu_s reads_per_cpu_s reads mapped_pct correct_pct wrong_pct unmapped_pct"
  for t in 0 1 10 20 30 60; do cols="$cols mapq${t}_mapped_pct mapq${t}_err_pct"; done
  { echo $cols | tr ' ' '\t'
    printf 'quick\thuman10M-250\thuman10M\t250\tmason\tall\tbwa\tok\t1000\t4.0\t100\t1.0\t30\t1000\t6.0\t1.6\t625\t1000\t100\t99.0\t1.0\t0\t100\t1.0\t99\t0.5\t98\t0\t97\t0\t96\t0\t90\t0\n'
    printf 'quick\thuman10M-250\thuman10M\t250\tmason\theldout\tbwa\tok\t1000\t4.0\t100\t1.0\t30\t1000\t6.0\t1.6\t625\t500\t100\t99.2\t0.8\t0\t100\t0.8\t99\t0.4\t98\t0\t97\t0\t96\t0\t90\t0\n'
    printf 'quick\thuman10M-250\thuman10M\t250\tmason\tall\tesalign-kmer\tok\t1000\t8.0\t400\t2.0\t60\t500\t12\t4.0\t250\t1000\t100\t98.95\t1.05\t0\t100\t1.05\t99\t0.6\t98\t0.1\t96.5\t0.05\t95\t0\t80\t0\n'
    printf 'quick\thuman10M-250\thuman10M\t250\tart\tall\tesalign-transformer\tindex failed: esalign index: not built yet\t990\tNA\tNA\tNA\tNA\tNA'
    for c in $(seq 20); do printf '\tNA'; done; printf '\n'
  } > "$T/bench/quick/results.tsv"
  printf 'date: today\ncpu: Test CPU\nheldout: X_30M:5000000-10000000\nbwa: 0.7.17\n' > "$T/bench/quick/env.txt"
  echo 'bwa mem -t 2 IDX READS' > "$T/cmds"
  case_ 0 '' python3 scripts/bench/report.py --bench "$T/bench" --docs "$T/docs" --commands "$T/cmds" --no-plot
  case_ 0 '\| mason \(1,000\) \| bwa \| 4\.0 \| 100 \| 1\.0 \| 1,000 \| 625 \| 30 \| 100\.00 \| 99\.00 \| 1\.00 \| 99\.00 / 0\.500 \| 97\.00 / 0\.000 \|' cat "$T/docs/benchmarks.md"
  case_ 0 '\| mason \| esalign-kmer \| bwa \| 0\.50× \| 0\.40× \| 2\.00× \| 2\.00× \| -0\.05 \| -0\.50 \| 0\.050 / 0\.000 \|' cat "$T/docs/benchmarks.md"
  case_ 0 'esalign-kmer, human10M-250, mason: correct % ≥ bwa − 0\.1: \*\*met\*\* \(-0\.05 points\); MAPQ≥20 mapped ≥ bwa − 1: \*\*met\*\* \(-0\.50 points\); MAPQ≥20 err ≤ 0\.1%: \*\*met\*\* \(0\.050%\); reads/s ≥ 0\.5× bwa: \*\*met\*\* \(0\.50×; per CPU-second 0\.40×\)' cat "$T/docs/benchmarks.md"
  case_ 0 'esalign-transformer \(index failed: esalign index: not built yet\) \| — \|' cat "$T/docs/benchmarks.md"
  case_ 0 '\| mason \| bwa \| 500 \| 100\.00 \| 99\.20 \| 0\.80 \| 97\.00 / 0\.000 \|' cat "$T/docs/benchmarks.md"
  case_ 0 'bwa mem -t 2 IDX READS' cat "$T/docs/benchmarks.md"
  case_ nz 'no results' python3 scripts/bench/report.py --bench "$T/nothing" --docs "$T/docs2" --no-plot
fi
