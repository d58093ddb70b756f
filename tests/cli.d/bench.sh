# bench.sh — cheap self-tests of the benchmark scripts (sourced by tests/cli.sh; $T is a scratch dir). They never
# run the benchmark: option handling, the GNU time parser, the ART truth fix-up, the per-stage CPU line parser of
# esalign align, and the report on tiny fixtures (the old columns; divergent scenarios and stage columns).

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

# the per-stage CPU line of esalign align (lib.sh stage_values): the last one, by stage name; NA without it
printf '[esalign align] 500 reads\n[esalign align] CPU per read (us, all threads): parse 9, embed 9, search 9, verify 9, format 9\n[esalign align] CPU per read (us, all threads): parse 1.0, embed 91.6, search 198.6, verify 138.7, format 2.6\n' > "$T/stage.err"
printf '[esalign align] CPU per read (us, all threads): embed 5.5, parse 0.5\n' > "$T/stage2.err"
case_ 0 '^1\.0 91\.6 198\.6 138\.7 2\.6/0\.5 5\.5 NA NA NA/NA NA NA NA NA/NA NA NA NA NA$' bash -c '. scripts/bench/lib.sh; for f in "$@"; do stage_values "$f" | tr "\t" " "; done | paste -sd/' _ "$T/stage.err" "$T/stage2.err" "$T/err1" "$T/missing.err"
case_ 0 '^parse_us embed_us search_us verify_us format_us$' bash -c '. scripts/bench/lib.sh; echo $STAGE_COLS'

# the old fixture has no stage columns: its esalign row's stages are —, the whole command's CPU per read is there
if command -v python3 >/dev/null; then
  case_ 0 '^\| human10M-250 \| mason \(1,000\) \| esalign-kmer \| — \| — \| — \| — \| — \| — \| 4000\.0 \| — \| 1600\.0 \|$' cat "$T/docs/benchmarks.md"
fi

# divergent scenarios and stage columns: their own table (best correct % bold, issue 14's targets), the stage table,
# and none of them in the ordinary-read tables or the headline
if command -v python3 >/dev/null; then
  mkdir -p "$T/bench3/quick"
  # drow SCENARIO REF LEN ALIGNER STATUS MAP_CPU CORRECT Q20 Q20ERR [5 STAGE VALUES] — one results row, mason, all
  drow() {
    local sc=$1 ref=$2 len=$3 al=$4 st=$5 cpu=$6 c=$7 q=$8 e=$9; shift 9
    printf 'quick\t%s\t%s\t%s\tmason\tall\t%s\t%s\t1000\t4.0\t100\t1.0\t30\t1000\t6.0\t%s\t625\t1000\t100\t%s\t1.0\t0\t100\t1.0\t99\t0.5\t98\t0\t%s\t%s\t96\t0\t90\t0' \
      "$sc" "$ref" "$len" "$al" "$st" "$cpu" "$c" "$q" "$e"
    if [ $# -eq 5 ]; then printf '\t%s' "$@"; else printf '\tNA\tNA\tNA\tNA\tNA'; fi
    printf '\n'
  }
  { echo $cols parse_us embed_us search_us verify_us format_us | tr ' ' '\t'
    drow ecoli-250 ecoli 250 bwa ok 0.5 99.0 97.0 0.000
    drow ecoli-250 ecoli 250 esalign-transformer ok 1.0 99.1 97.0 0.000 1.0 91.6 198.6 138.7 2.6
    drow ecoli-div10-250 ecoli-div10 250 bwa ok 0.8 95.00 90.00 0.100
    drow ecoli-div10-250 ecoli-div10 250 esalign-divergent ok 0.9 98.60 91.00 0.050 1.0 100.0 300.0 400.0 2.0
    drow ecoli-div10-150 ecoli-div10 150 bwa ok 0.8 90.00 80.00 0.100
    drow ecoli-div10-150 ecoli-div10 150 esalign-divergent ok 0.9 94.00 85.00 0.050 1.0 100.0 300.0 400.0 2.0
    drow ecoli-div20-250 ecoli-div20 250 bwa ok 0.8 70.00 60.00 1.000
    drow ecoli-div20-250 ecoli-div20 250 esalign-divergent 'align failed: boom' NA NA NA NA
    drow human10M-div10-250 human10M-div10 250 bwa ok 0.8 98.70 90.00 0.100
    drow human10M-div10-250 human10M-div10 250 esalign-divergent ok 0.9 98.70 91.00 0.050 1.0 100.0 300.0 400.0 2.0
  } > "$T/bench3/quick/results.tsv"
  printf 'date: today\ncpu: Test CPU\n' > "$T/bench3/quick/env.txt"
  case_ 0 '' python3 scripts/bench/report.py --bench "$T/bench3" --docs "$T/docs3" --no-plot
  d3=$T/docs3/benchmarks.md
  case_ 0 '^\| divergence \| genome \| length \| reads \| bwa correct % \| bwa MAPQ≥20 % / err % \| esalign-divergent correct % \| esalign-divergent MAPQ≥20 % / err % \|$' cat "$d3"
  case_ 0 '^\| 10% \| E\. coli \| 250 bp \| 1,000 \| 95\.00 \| 90\.00 / 0\.100 \| \*\*98\.60\*\* \| 91\.00 / 0\.050 \|$' cat "$d3"
  case_ 0 '^\| 20% \| E\. coli \| 250 bp \| 1,000 \| \*\*70\.00\*\* \| 60\.00 / 1\.000 \| — \| — \|$' cat "$d3"
  case_ 0 '^\| 10% \| human chrX 30-40 Mb \| 250 bp \| 1,000 \| \*\*98\.70\*\* \| 90\.00 / 0\.100 \| \*\*98\.70\*\* \| 91\.00 / 0\.050 \|$' cat "$d3"
  case_ 0 'No result: esalign-divergent, ecoli-div20-250: align failed: boom\.' cat "$d3"
  case_ 0 '^- esalign-divergent \(4 of 6 met; no result in 1\): E\. coli 10% 250 bp: correct ≥ 98\.5% \*\*met\*\* \(98\.60%\), MAPQ≥20 ≥ 90% of reads with err ≤ 0\.1% \*\*met\*\* \(91\.00% / 0\.050%\); E\. coli 20% 250 bp: no result; E\. coli 10% 150 bp: correct ≥ bwa \+ 5 \*\*missed\*\* \(\+4\.00 points\)' cat "$d3"
  case_ 0 '^\| ecoli-250 \| mason \(1,000\) \| esalign-transformer \| 1\.0 \| 91\.6 \| 198\.6 \| 138\.7 \| 2\.6 \| 432\.5 \| 1000\.0 \| 567\.5 \| 500\.0 \|$' cat "$d3"
  case_ 0 '^\| ecoli-div10-150 \| mason \(1,000\) \| esalign-divergent \| 1\.0 \| 100\.0 \| 300\.0 \| 400\.0 \| 2\.0 \| 803\.0 \| 900\.0 \| 97\.0 \| 800\.0 \|$' cat "$d3"
  case_ 1 '' grep -qE '^### (ecoli|human10M)-div|^\| (ecoli|human10M)-div[0-9]+-[0-9]+ \| (bwa|esalign-divergent) \|' "$d3"
fi
