# calibration.sh — the divergent-samples stage and the MAPQ calibration stage of scripts/bench.sh (sourced; needs
# lib.sh, simulate.sh, aligners.sh, variants.sh's vc_genome and bench.sh's ensure_index/run_one).
# Divergent samples (issue 14): mason_variator genomes diverged from a reference by D% (SNP rate D*0.009, small-indel
# rate D*0.001 of 1-6 bp, seed 3+D) — E. coli at CAL_DIV (default 5 10 15 20) and the human10M slice X:30-40 Mb at
# CAL_DIV_HUMAN (default 10) — and mason_simulator reads of each at DIV_LENS (default 250 150) bp, N reads per
# scenario (the run's N; quick mode's is smaller), seed 13. Scenario GENOME-divD-LEN (ecoli-div10-250, ...), sample
# GENOME-divD (the results' ref column); each aligner of DIV_ALIGNERS maps it with GENOME's index (run_one: mason
# reads only, whole reference), and its rows go into results.tsv for report.py's "Divergent samples" table.
# MAPQ calibration: per MAPQ bin (0, 1-9, 10-19, ..., 50-59, 60), the reads of each aligner, the wrong ones, the
# observed error and the error the MAPQ claims (mean of 10^(-MAPQ/10)), pooled over the read scenarios of the run
# (human and E. coli, mason and ART) and the divergent ones, each aligner over those it ran.
# scripts/bench/calibration.py scores one SAM; $OUT/calib/rows.tsv gathers them for report.py.
CAL_DIV=${CAL_DIV-5 10 15 20}
CAL_DIV_HUMAN=${CAL_DIV_HUMAN-10}
DIV_LENS=${DIV_LENS-250 150}

# div_samples — the divergent samples, GENOME:D one a line.
div_samples() {
  local d
  for d in $CAL_DIV; do echo "ecoli:$d"; done
  for d in $CAL_DIV_HUMAN; do echo "human10M:$d"; done
}

# cal_divergent — the divergent genomes and reads (cached); sets DIV_SCENARIOS to every scenario asked for. A sample
# whose genome or reads fail is logged; its scenarios stay in the list, and run_one's rows then say "no reads".
cal_divergent() {
  local gd genome d ref vcf snp ind len
  DIV_SCENARIOS=""
  for gd in $(div_samples); do
    genome=${gd%:*} d=${gd#*:} ref=$BENCH/ref/${gd%:*}.fa vcf=$BENCH/reads/$genome-div$d.vcf
    for len in $DIV_LENS; do DIV_SCENARIOS="$DIV_SCENARIOS $genome-div$d-$len"; done
    prep_ref "$genome" "$ref" || { log "divergent: cannot prepare $genome"; continue; }
    snp=$(awk -v d="$d" 'BEGIN { printf "%g", d * 0.009 }'); ind=$(awk -v d="$d" 'BEGIN { printf "%g", d * 0.001 }')
    # the genome: vc_genome of variants.sh (same cache rule); seed 3 + d keeps it apart from the variant samples
    vc_genome "$ref" "$vcf" "$snp" "$ind" $((3 + d)) || { log "divergent: mason_variator $genome $d% failed"; continue; }
    for len in $DIV_LENS; do
      sim_mason "$ref" "$len" "$N" 13 "$BENCH/reads/$genome-div$d-$len-mason-$N" "$vcf" \
        || log "divergent: mason_simulator $genome-div$d-$len failed"
    done
  done
}

# div_one SCENARIO AL — map the divergent scenario GENOME-divD-LEN's mason reads with AL and GENOME's index, score
# them and append run_one's rows (ref column GENOME-divD, subset all) to $RESULTS.tmp.
div_one() {
  local sc=$1 sample=${1%-*} len=${1##*-}
  run_one "$sc" "${sample%-div*}" "$len" mason "$2" "$sample"
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
    case $sc in *-div*-*) refname=${sc%-*} len=${sc##*-} ;; *) read -r refname len prof <<<"$(scenario "$sc")" ;; esac
    for al in $2; do
      for sim in $SIMS; do cal_one "$sc" "$refname" "$len" "$sim" "$al"; done
    done
  done
  { printf 'scenario\tsim\taligner\tlo\thi\treads\twrong\tpred_err\n'; cat "$CAL_ROWS.tmp"; } > "$CAL_ROWS" && rm -f "$CAL_ROWS.tmp"
}
