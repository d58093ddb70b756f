#!/usr/bin/env bash
# bench.sh — esalign against bwa mem, bowtie2 and minimap2 on simulated reads (mason and ART) from real genomes;
# writes docs/benchmarks.md and a plot per scenario in docs/bench/. Every step is cached under data/bench/, so a
# rerun only redoes what changed (new reads, a new esalign binary, ...). The stages, in the order they run:
# - the aligners on the ordinary read scenarios; every esalign row also keeps the per-stage CPU line of `esalign
#   align` (columns parse_us .. format_us of results.tsv: the report's "Where esalign's time goes");
# - the divergent-samples stage (scripts/bench/calibration.sh, issue 14): mason reads of E. coli genomes 5/10/15/20%
#   diverged from the reference and of the human10M slice 10% diverged, 250 and 150 bp, mapped by bwa mem, bowtie2
#   --local, minimap2, esalign-transformer and esalign-divergent (the transformer index, `align -x divergent`); rows
#   in results.tsv (scenarios GENOME-divD-LEN) for the report's "Divergent samples" table, not the ordinary tables;
# - the MAPQ calibration stage (scripts/bench/calibration.sh: per-bin predicted vs observed error, pooled over the
#   ordinary and the divergent scenarios);
# - the variant-calling stage (scripts/bench/variants.sh: bcftools calls from each aligner's BAM against the
#   mason_variator truth, SNP and indel precision/recall/F1);
# - the paired-end stage (scripts/bench/paired.sh): 2x150 and 2x250 on the human reference, 2x150 on E. coli, every
#   aligner in paired mode and each esalign encoder also single-end on the same reads;
# - the vector store stage (scripts/bench/store.sh): each esalign index's approximate nearest-neighbour search
#   against exact search (`esalign index --bench --exact`, 1 thread, on the human reference of the mode, 250/150/100
#   bp reads).
#
# Usage: scripts/bench.sh [--quick] [--reads N] [--threads N] [--scenarios "S1 S2"] [--aligners "A1 A2"] [--remap]
#                        [--docs DIR] [--report-only] [--no-store] [--no-paired | --paired-only]
#   full (default): human chrX 70 Mb with 250/150/100 bp reads and E. coli with 250 bp reads, 20,000 reads per
#                   scenario and simulator (about an hour on 2 cores)
#   --quick:        the 10 Mb slice X:30-40 Mb of the same chrX (contig X_30M) and E. coli, 5,000 reads (minutes)
#   --remap:        map again even where cached (indexes and reads are kept), so all map times share one run's load
#   --scenarios/--aligners: a subset (the results table and docs then hold only that subset); --aligners also sets
#                   the divergent scenarios' aligners unless DIV_ALIGNERS does
#   --docs DIR:     write benchmarks.md and bench/*.png under DIR instead of docs/
#   --no-store:     skip the vector store stage (the report keeps the store table of its last run)
#   --no-paired:    skip the paired-end stage (the report keeps the paired table of its last run)
#   --paired-only:  only the paired-end stage (10,000 read pairs per scenario and simulator, about 11 minutes on 2
#                   cores once the indexes exist; quick: 2,000)
# Environment: ESALIGN (binary, default ./esalign), ESALIGN_DATA (default data), BENCH_DIR (default $ESALIGN_DATA/bench),
#   ESALIGN_ENCODERS (default "kmer transformer"), ESALIGN_MODEL (the transformer's model, default
#   models/esalign.model), BENCH_EVAL (scorer command, default "$ESALIGN eval"), STORE_READS (reads per read length
#   in the store stage, default 500 full / 300 quick), CAL_DIV (divergences in % of the divergent E. coli samples,
#   default "5 10 15 20"; "" for none), CAL_DIV_HUMAN (the same for the human10M slice, default "10"), DIV_LENS (their
#   read lengths, default "250 150"), DIV_ALIGNERS (default "bwa bowtie2-local minimap2 esalign-transformer
#   esalign-divergent"; esalign-kmer and end-to-end bowtie2 are left out), VARIANTS (0: skip the variant-calling
#   stage), VC_SAMPLES, VC_DEPTH_SCALE (scripts/bench/variants.sh), VC_ALIGNERS (the aligners of the variant
#   stage; default all), PAIRED_READS (read pairs per paired scenario and simulator), PAIRED_SCENARIOS (default
#   "human-2x150 human-2x250 ecoli-2x150"; quick: human10M-2x150 ... ecoli-2x150).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/bench/lib.sh
. scripts/bench/simulate.sh
. scripts/bench/aligners.sh
. scripts/bench/store.sh
. scripts/bench/variants.sh
. scripts/bench/calibration.sh
. scripts/bench/paired.sh

MODE=full; N=""; THREADS=2; SCENARIOS=""; ALIGNERS=""; REPORT_ONLY=0; REMAP=0; DOCS=docs; STORE=1
PAIRED=1; SINGLE=1
while [ $# -gt 0 ]; do
  case $1 in
    --quick) MODE=quick ;;
    --reads) N=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --scenarios) SCENARIOS=$2; shift ;;
    --aligners) ALIGNERS=$2; shift ;;
    --report-only) REPORT_ONLY=1 ;;
    --remap) REMAP=1 ;;
    --docs) DOCS=$2; shift ;;
    --no-store) STORE=0 ;;
    --no-paired) PAIRED=0 ;;
    --paired-only) SINGLE=0; STORE=0; PAIRED=1 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
  shift
done
DATA=${ESALIGN_DATA:-data}
BENCH=${BENCH_DIR:-$DATA/bench}
ESALIGN=${ESALIGN:-./esalign}
case $ESALIGN in /*) ;; *) ESALIGN=$PWD/$ESALIGN ;; esac
EVAL=${BENCH_EVAL:-$ESALIGN eval}
if [ $MODE = quick ]; then
  : "${N:=5000}"; : "${SCENARIOS:=human10M-250 human10M-150 human10M-100 ecoli-250}"
  HELDOUT=X_30M:5000000-10000000     # = X:35,000,000-40,000,000 in the slice
  STORE_REF=human10M; : "${STORE_READS:=300}"
else
  : "${N:=20000}"; : "${SCENARIOS:=human-250 human-150 human-100 ecoli-250}"
  HELDOUT=X:35000000-70000000
  STORE_REF=human; : "${STORE_READS:=500}"
fi
# the divergent scenarios' aligners: DIV_ALIGNERS, else those of --aligners, else bowtie2 --local for bowtie2 and
# esalign-divergent beside esalign-transformer, without esalign-kmer (it finds ~13% of 10%-diverged reads)
[ -n "$ALIGNERS" ] && : "${DIV_ALIGNERS:=$ALIGNERS}"
: "${DIV_ALIGNERS:=bwa bowtie2-local minimap2 esalign-transformer esalign-divergent}"
: "${ALIGNERS:=$ANCHORS $(for e in $ESALIGN_ENCODERS; do printf 'esalign-%s ' "$e"; done)}"
SIMS="mason art"
OUT=$BENCH/$MODE
RESULTS=$OUT/results.tsv
mkdir -p "$BENCH/ref" "$BENCH/reads" "$BENCH/index" "$OUT/aln"

# the columns of `esalign eval --tsv`, in the order the results table keeps them
EVAL_COLS="reads mapped_pct correct_pct wrong_pct unmapped_pct"
for t in 0 1 10 20 30 60; do EVAL_COLS="$EVAL_COLS mapq${t}_mapped_pct mapq${t}_err_pct"; done
# (CPU seconds = user + system: less sensitive than wall time to other jobs on a shared machine)
ROW_COLS="mode scenario ref len sim subset aligner status nreads idx_wall_s idx_rss_mb map_wall_s map_rss_mb reads_per_s"
ROW_COLS="$ROW_COLS idx_cpu_s map_cpu_s reads_per_cpu_s"
# after EVAL_COLS: esalign align's CPU microseconds per read of each stage (lib.sh's STAGE_COLS; NA for the others)

# scenario NAME -> REF LEN ART_PROFILE
scenario() {
  local ref=${1%-*} len=${1##*-} prof
  case $len in 250) prof=MSv3 ;; 150|100) prof=HS25 ;; *) die "scenario $1: read length must be 250, 150 or 100" ;; esac
  case $ref in human|human10M|ecoli) ;; *) die "scenario $1: reference must be human, human10M or ecoli" ;; esac
  echo "$ref $len $prof"
}

# env.txt: the machine and the tools, for the report
write_env() {
  {
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu: $(lscpu | awk -F': +' '/^Model name/ { print $2; exit }')"
    echo "cores: $(nproc)"
    echo "ram: $(free -g | awk '/^Mem:/ { print $2 " GiB" }')"
    echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") $(uname -r)"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-min load average when the run started)"
    echo "threads: $THREADS"
    echo "reads: $N"
    echo "heldout: $HELDOUT"
    echo "variants depth scale: ${VC_DEPTH_SCALE:-$([ $MODE = quick ] && echo 0.25 || echo 1)}"
    echo "command: $CMDLINE"
    tool_versions
  } > "$OUT/env.txt"
}
[ $MODE = quick ] && CMDLINE="make bench-quick (scripts/bench.sh --quick)" || CMDLINE="make bench (scripts/bench.sh)"

# eval_sam SAM TRUTH OUT.tsv [REGION] — the two-line TSV of esalign eval, cached.
eval_sam() {
  local sam=$1 truth=$2 out=$3 region=${4:-} key
  key="eval $region $(fp "$sam" "$truth") $(esalign_fp)"
  fresh "$out" "$key" && return 0
  if $EVAL --truth "$truth" --tsv ${region:+--region "$region"} "$sam" > "$out.tmp" 2> "$out.err" \
     && [ "$(wc -l < "$out.tmp")" -eq 2 ]; then
    mv "$out.tmp" "$out" && done_ "$out" "$key"
  else
    rm -f "$out.tmp"; return 1
  fi
}

# eval_values TSV — the values of EVAL_COLS from an eval TSV (by column name), tab-separated; NA when missing.
eval_values() {
  awk -F'\t' -v cols="$EVAL_COLS" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i }
    NR == 2 { n = split(cols, c, " "); s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? "\t" : "") (c[i] in h ? $h[c[i]] : "NA"); print s }' "$1"
}
na_values() { local s="" c; for c in $EVAL_COLS; do s="$s${s:+	}NA"; done; echo "$s"; }

# ensure_index AL REFNAME — prints the index dir; status 1 (and a note in DIR/index.err) when it cannot be built.
# AL may map with another aligner's index (index_of: bowtie2-local, esalign-divergent): that one's dir.
ensure_index() {
  local al refname=$2 ref=$BENCH/ref/$2.fa dir key
  al=$(index_of "$1"); dir=$BENCH/index/$2/$al
  key=$(index_key "$al" "$ref")
  # a failure is remembered with its key too, so an unbuilt command is not retried until something changes
  if fresh "$dir/index.failed" "$key"; then echo "$dir"; return 1; fi
  if ! fresh "$dir/index.time" "$key"; then
    log "index $al $refname"
    if build_index "$al" "$ref" "$dir"; then
      done_ "$dir/index.time" "$key"
      log "index $al $refname: $(time_wall "$dir/index.time") s, $(time_rss_mb "$dir/index.time") MiB"
    else
      log "index $al $refname failed: $(first_err "$dir/index.err")"
      rm -f "$dir/index.time.key"; touch "$dir/index.failed"; done_ "$dir/index.failed" "$key"; echo "$dir"; return 1
    fi
  fi
  echo "$dir"
}

# run_one SCENARIO REF LEN SIM AL [SAMPLE] — map, score and append the result rows. SAMPLE (default REF) names the
# reads, $BENCH/reads/SAMPLE-LEN-SIM-N, and the row's ref column: a divergent sample's reads against REF's index
# (whole reference only, no held-out subset).
run_one() {
  local sc=$1 refname=$2 len=$3 sim=$4 al=$5 sample=${6:-$2}
  local reads=$BENCH/reads/$sample-$len-$sim-$N
  local a=$OUT/aln/$sc-$sim/$al dir status="ok" nr=0 wall rss rps iw ir
  mkdir -p "$(dirname "$a")"
  [ -s "$reads.fq" ] && nr=$(nreads "$reads.fq")
  if [ ! -s "$reads.fq" ]; then
    status="no reads (simulation failed)"; dir=$BENCH/index/$refname/$(index_of "$al")
  elif ! dir=$(ensure_index "$al" "$refname"); then
    status=$(first_err "$dir/index.err"); status="index failed: ${status:-no message}"
  else
    local key="map $al t=$THREADS $(fp "$reads.fq" "$dir/index.time")"
    case $al in esalign-*) key="$key $(esalign_fp)" ;; esac
    if [ $REMAP = 1 ] || ! fresh "$a.sam" "$key"; then
      log "map $al $sc $sim ($nr reads)"
      if map_reads "$al" "$dir" "$reads.fq" "$a.sam.tmp" "$a.time" "$a.err"; then
        mv "$a.sam.tmp" "$a.sam" && done_ "$a.sam" "$key"
        log "map $al $sc $sim: $(time_wall "$a.time") s, $(time_rss_mb "$a.time") MiB"
      else
        rm -f "$a.sam.tmp" "$a.sam.key"; status=$(first_err "$a.err"); status="align failed: ${status:-no message}"
        log "map $al $sc $sim failed: $status"
      fi
    fi
  fi
  local ic=NA cpu=NA rpc=NA
  iw=NA ir=NA wall=NA rss=NA rps=NA
  if [ -f "$dir/index.time" ] && [ -f "$dir/index.time.key" ]; then
    iw=$(time_wall "$dir/index.time"); ir=$(time_rss_mb "$dir/index.time"); ic=$(time_cpu "$dir/index.time")
  fi
  if [ "$status" = ok ]; then
    wall=$(time_wall "$a.time"); rss=$(time_rss_mb "$a.time")
    rps=$(awk -v n="$nr" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
    cpu=$(time_cpu "$a.time"); rpc=$(awk -v n="$nr" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? n / c : 0) }')
  fi
  local stv subset region vals
  stv=$(stage_values /dev/null)
  case $al in esalign-*) [ "$status" = ok ] && stv=$(stage_values "$a.err") ;; esac
  for subset in all heldout; do
    region=""
    if [ $subset = heldout ]; then
      [ "$sample" = "$refname" ] || continue
      case $refname in human*) region=$HELDOUT ;; *) continue ;; esac
    fi
    vals=$(na_values); local st=$status
    if [ "$status" = ok ]; then
      if eval_sam "$a.sam" "$reads.truth.sam" "$a.$subset.eval.tsv" "$region"; then
        vals=$(eval_values "$a.$subset.eval.tsv")
      else
        st="eval failed: $(first_err "$a.$subset.eval.tsv.err")"; log "eval $al $sc $sim $subset: $st"
      fi
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$MODE" "$sc" "$sample" "$len" \
      "$sim" "$subset" "$al" "$st" "$nr" "$iw" "$ir" "$wall" "$rss" "$rps" "$ic" "$cpu" "$rpc" "$vals" "$stv" >> "$RESULTS.tmp"
  done
}

if [ $REPORT_ONLY = 0 ]; then
  T0=$(date +%s)
  bash scripts/setup.sh || log "setup.sh failed; continuing with the tools that are installed"
  for t in bwa bowtie2 bowtie2-build minimap2 samtools bcftools art_illumina gnuplot python3 /usr/bin/time "$MASON_DIR/mason_simulator"; do
    command -v "$t" >/dev/null || die "$t not found: run scripts/setup.sh"
  done
  [ -x "$ESALIGN" ] || log "warning: $ESALIGN not found: esalign rows will say so (build it with make)"
  [ $SINGLE = 1 ] || SCENARIOS=""   # --paired-only
  want=""; for sc in $SCENARIOS; do read -r r _ _ <<<"$(scenario "$sc")"; case $r in ecoli) want="$want ecoli" ;; *) want="$want human" ;; esac; done
  if [ $SINGLE = 1 ]; then for gd in $(div_samples); do case $gd in ecoli:*) want="$want ecoli" ;; *) want="$want human" ;; esac; done; fi
  [ -z "$want" ] || ESALIGN_DATA=$DATA bash scripts/fetch-genomes.sh $(echo $want | tr ' ' '\n' | sort -u) || die "cannot fetch the genomes"
  [ $SINGLE = 0 ] || write_env
  # reads first (cheap), then the aligners one by one, anchors first so that their rows exist whatever esalign does
  for sc in $SCENARIOS; do
    read -r refname len prof <<<"$(scenario "$sc")"
    prep_ref "$refname" "$BENCH/ref/$refname.fa" || die "cannot prepare reference $refname"
    sim_mason "$BENCH/ref/$refname.fa" "$len" "$N" 11 "$BENCH/reads/$refname-$len-mason-$N" || die "mason failed"
    sim_art "$BENCH/ref/$refname.fa" "$len" "$N" 11 "$prof" "$BENCH/reads/$refname-$len-art-$N" || die "ART failed"
  done
  [ $SINGLE = 0 ] || : > "$RESULTS.tmp"
  [ $SINGLE = 0 ] || for al in $ALIGNERS; do
    for sc in $SCENARIOS; do
      read -r refname len prof <<<"$(scenario "$sc")"
      for sim in $SIMS; do run_one "$sc" "$refname" "$len" "$sim" "$al"; done
    done
  done
  if [ $SINGLE = 1 ]; then
    # the divergent-samples stage (scripts/bench/calibration.sh): reads, then rows like run_one's, anchors first
    DIV_SCENARIOS=""
    if [ -n "$(div_samples)" ]; then
      T3=$(date +%s)
      cal_divergent   # sets DIV_SCENARIOS; a scenario whose reads failed gets rows saying so
      for al in $DIV_ALIGNERS; do for sc in $DIV_SCENARIOS; do div_one "$sc" "$al"; done; done
      log "divergent: $(echo $DIV_SCENARIOS | wc -w) scenarios ($(( $(date +%s) - T3 )) s)"
    fi
    { echo "$ROW_COLS $EVAL_COLS $STAGE_COLS" | tr -s ' ' '\t' | sed 's/\t$//'; cat "$RESULTS.tmp"; } > "$RESULTS" \
      && rm -f "$RESULTS.tmp"
    log "results: $RESULTS ($(( $(date +%s) - T0 )) s)"
    # MAPQ calibration per bin (scripts/bench/calibration.sh), then variant calling (scripts/bench/variants.sh)
    CAL_ALIGNERS=$ALIGNERS
    for al in $DIV_ALIGNERS; do case " $CAL_ALIGNERS " in *" $al "*) ;; *) CAL_ALIGNERS="$CAL_ALIGNERS $al" ;; esac; done
    calibration_bench "$SCENARIOS$DIV_SCENARIOS" "$CAL_ALIGNERS"
    log "calibration: $OUT/calib/rows.tsv"
    if [ "${VARIANTS:-1}" = 1 ]; then
      T2=$(date +%s)
      [ $MODE = quick ] && : "${VC_DEPTH_SCALE:=0.25}"
      variants_bench "${VC_ALIGNERS:-$ALIGNERS}"
      log "variants: $OUT/variants/rows.tsv ($(( $(date +%s) - T2 )) s)"
    fi
  fi
  # the paired-end stage: the same aligners and indexes on read pairs
  if [ $PAIRED = 1 ]; then
    T1=$(date +%s)
    paired_bench
    log "paired: $OUT/paired/results.tsv ($(( $(date +%s) - T1 )) s)"
  fi
  # the vector store stage: approximate against exact search of the esalign indexes that the aligner loop built
  if [ $STORE = 1 ]; then
    T1=$(date +%s)
    store_bench "$STORE_REF" "$STORE_READS"
    log "store: $OUT/store/rows.tsv ($(( $(date +%s) - T1 )) s)"
  fi
fi

[ -s "$RESULTS" ] || [ -s "$OUT/paired/results.tsv" ] || die "no results in $RESULTS: run without --report-only first"
python3 scripts/bench/report.py --bench "$BENCH" --docs "$DOCS" --commands <(aligner_commands) || die "report failed"
log "wrote $DOCS/benchmarks.md and $DOCS/bench/*.png"
