# calibration.sh — the MAPQ calibration stage of scripts/bench.sh (sourced; needs lib.sh, simulate.sh, aligners.sh
# and bench.sh's ensure_index/run_one): per MAPQ bin (0, 1-9, 10-19, ..., 50-59, 60), the reads of each aligner, the
# wrong ones, the observed error and the error the MAPQ claims (mean of 10^(-MAPQ/10)), pooled over the read
# scenarios of the run (human and E. coli, mason and ART) and the divergent ones this stage adds: mason reads of an
# E. coli genome 5% and 10% diverged from the reference (mason_variator SNPs 4.5e-2 / 9e-2, indels 5e-3 / 1e-2 of
# 1-6 bp), 250 bp, N reads each, which also get rows in results.tsv (scenarios ecoli5-250 / ecoli10-250, mapped-vs-error
# plots). scripts/bench/calibration.py scores one SAM; $OUT/calib/rows.tsv gathers them for report.py.
CAL_DIV=${CAL_DIV-5 10}

# cal_divergent — the divergent scenarios: sample genomes, reads, and every aligner through run_one.
cal_divergent() {
  local d ref=$BENCH/ref/ecoli.fa vcf snp ind
  prep_ref ecoli "$ref" || { log "calibration: cannot prepare ecoli"; return 1; }
  for d in $CAL_DIV; do
    snp=$(awk -v d="$d" 'BEGIN { printf "%g", d * 0.009 }'); ind=$(awk -v d="$d" 'BEGIN { printf "%g", d * 0.001 }')
    vcf=$BENCH/reads/div$d.vcf
    # the genome: vc_genome of variants.sh (same cache rule); seed 3 + d keeps it apart from the variant samples
    vc_genome "$ref" "$vcf" "$snp" "$ind" $((3 + d)) || return 1
    sim_mason "$ref" 250 "$N" 13 "$BENCH/reads/ecoli$d-250-mason-$N" "$vcf" || return 1
  done
}

# cal_one SCENARIO REFNAME LEN SIM AL — the bins of one SAM of the run (cached), appended to rows.tsv.tmp.
cal_one() {
  local sc=$1 refname=$2 len=$3 sim=$4 al=$5
  local sam=$OUT/aln/$sc-$sim/$al.sam truth=$BENCH/reads/$refname-$len-$sim-$N.truth.sam
  local out=$OUT/calib/$sc-$sim-$al.tsv key
  [ -s "$sam" ] && [ -s "$truth" ] || return 0
  key="calib v1 $(fp "$sam" "$truth" scripts/bench/calibration.py)"
  if ! fresh "$out" "$key"; then
    python3 scripts/bench/calibration.py --truth "$truth" --label "$sc $sim $al" "$sam" > "$out.tmp" 2> "$out.err" \
      && mv "$out.tmp" "$out" && done_ "$out" "$key" || { log "calibration $sc $sim $al failed: $(first_err "$out.err")"; return 0; }
  fi
  awk -F'\t' -v OFS='\t' -v sc="$sc" -v sim="$sim" -v al="$al" '$1 == "bin" { print sc, sim, al, $3, $4, $5, $6, $7 }' \
    "$out" >> "$CAL_ROWS.tmp"
}

# calibration_bench SCENARIOS ALIGNERS — bins of every scenario (the divergent ones included) and aligner.
calibration_bench() {
  local sc refname len prof al
  CAL_ROWS=$OUT/calib/rows.tsv
  mkdir -p "$OUT/calib"
  : > "$CAL_ROWS.tmp"
  for sc in $1; do
    case $sc in ecoli5-*|ecoli10-*) refname=${sc%-*} len=${sc##*-} ;; *) read -r refname len prof <<<"$(scenario "$sc")" ;; esac
    for al in $2; do
      for sim in $SIMS; do cal_one "$sc" "$refname" "$len" "$sim" "$al"; done
    done
  done
  { printf 'scenario\tsim\taligner\tlo\thi\treads\twrong\tpred_err\n'; cat "$CAL_ROWS.tmp"; } > "$CAL_ROWS" && rm -f "$CAL_ROWS.tmp"
}

# div_one D AL — map the D% divergent E. coli reads with AL (the ecoli index), score them, and append results rows
# like run_one's (scenario ecoliD-250, ref ecoli, sim mason, subset all) to $RESULTS.tmp.
div_one() {
  local d=$1 al=$2 sc=ecoli$1-250 reads=$BENCH/reads/ecoli$1-250-mason-$N
  local a=$OUT/aln/$sc-mason/$al dir status=ok key nr vals iw=NA ir=NA ic=NA wall=NA rss=NA rps=NA cpu=NA rpc=NA
  mkdir -p "$(dirname "$a")"
  nr=$(nreads "$reads.fq")
  if ! dir=$(ensure_index "$al" ecoli); then
    status="index failed: $(first_err "$dir/index.err")"
  else
    key="map $al t=$THREADS $(fp "$reads.fq" "$dir/index.time")"
    case $al in esalign-*) key="$key $(esalign_fp)" ;; esac
    if [ $REMAP = 1 ] || ! fresh "$a.sam" "$key"; then
      log "map $al $sc mason ($nr reads)"
      if map_reads "$al" "$dir" "$reads.fq" "$a.sam.tmp" "$a.time" "$a.err"; then
        mv "$a.sam.tmp" "$a.sam" && done_ "$a.sam" "$key"
      else
        rm -f "$a.sam.tmp" "$a.sam.key"; status="align failed: $(first_err "$a.err")"
      fi
    fi
    iw=$(time_wall "$dir/index.time"); ir=$(time_rss_mb "$dir/index.time"); ic=$(time_cpu "$dir/index.time")
  fi
  vals=$(na_values)
  if [ "$status" = ok ]; then
    wall=$(time_wall "$a.time"); rss=$(time_rss_mb "$a.time"); cpu=$(time_cpu "$a.time")
    rps=$(awk -v n="$nr" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
    rpc=$(awk -v n="$nr" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? n / c : 0) }')
    if eval_sam "$a.sam" "$reads.truth.sam" "$a.all.eval.tsv"; then vals=$(eval_values "$a.all.eval.tsv")
    else status="eval failed: $(first_err "$a.all.eval.tsv.err")"; fi
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$MODE" "$sc" "ecoli$d" 250 mason all \
    "$al" "$status" "$nr" "$iw" "$ir" "$wall" "$rss" "$rps" "$ic" "$cpu" "$rpc" "$vals" >> "$RESULTS.tmp"
}
