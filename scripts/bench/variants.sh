# variants.sh — the variant-calling stage of scripts/bench.sh (sourced; needs lib.sh, simulate.sh, aligners.sh and
# bench.sh's ensure_index): what a variant caller would see from each aligner. Each sample is a mason_variator
# genome (its VCF is the truth) sequenced by mason_simulator (150 bp single-end, Illumina errors) at a fixed depth;
# every aligner's SAM is sorted and indexed (samtools), variants are called with the same command for all,
#   bcftools mpileup -f REF ALN.bam | bcftools call -mv
# and both the calls and the truth are normalised (`bcftools norm -f REF -m -both`, indels left-aligned, one allele
# per line) and compared by exact allele (CHROM, POS, REF, ALT): SNP and indel precision, recall and F1.
# Samples (VC_SAMPLES, default all three):
#   ecoli      E. coli, SNPs 1e-3 and indels 1e-4 (the mason genome of the read scenarios), ~30x
#   human10M   the 10 Mb slice X:30-40 Mb of chrX, same rates, ~20x
#   ecoli5     E. coli 5% diverged (SNPs 4.5e-2, indels 5e-3 of 1-6 bp, seed 2), ~30x
# Output: $OUT/variants/rows.tsv (sample aligner type truth calls tp precision recall f1 status) for report.py.
# Environment: VC_SAMPLES, VC_DEPTH_SCALE (multiplies every depth; default 1, the quick run uses 0.25).
VC_LEN=150
VC_COLS="sample ref aligner type truth calls tp precision recall f1 status"

# vc_sample NAME -> REFNAME DEPTH SNP_RATE INDEL_RATE VARIATOR_SEED
vc_sample() {
  case $1 in
    ecoli) echo "ecoli 30 0.001 0.0001 1" ;;
    human10M) echo "human10M 20 0.001 0.0001 1" ;;
    ecoli5) echo "ecoli 30 0.045 0.005 2" ;;
    *) die "variants: unknown sample $1" ;;
  esac
}

# vc_genome REF VCF SNP INDEL SEED — the sample's genome as a mason VCF (cached).
vc_genome() {
  local ref=$1 vcf=$2 snp=$3 ind=$4 seed=$5 key
  key="mason_variator -s $seed --snp-rate $snp --small-indel-rate $ind 1-6 sv=0 $(fp "$ref")"
  fresh "$vcf" "$key" && return 0
  log "variants: mason_variator $(basename "$ref") snp $snp indel $ind"
  "$MASON_DIR/mason_variator" -q -ir "$ref" -ov "$vcf.tmp.vcf" -s "$seed" --snp-rate "$snp" --small-indel-rate "$ind" \
    --min-small-indel-size 1 --max-small-indel-size 6 --sv-indel-rate 0 --sv-inversion-rate 0 \
    --sv-translocation-rate 0 --sv-duplication-rate 0 >"$vcf.log" 2>&1 || { cat "$vcf.log" >&2; return 1; }
  mv "$vcf.tmp.vcf" "$vcf" && done_ "$vcf" "$key"
}

# vc_reads REF VCF N SEED OUT.fq — N reads of VC_LEN bp of the sample (cached).
vc_reads() {
  local ref=$1 vcf=$2 n=$3 seed=$4 out=$5 key
  key="mason_simulator -n $n --seed $seed -l $VC_LEN frag=500/50 $(fp "$ref" "$vcf")"
  fresh "$out" "$key" && return 0
  log "variants: mason_simulator $(basename "$vcf") $n reads"
  "$MASON_DIR/mason_simulator" -q -ir "$ref" -iv "$vcf" -n "$n" --seed "$seed" --num-threads "$THREADS" \
    --illumina-read-length "$VC_LEN" --fragment-mean-size 500 --fragment-size-std-dev 50 -o "$out.tmp.fq" \
    >"$out.log" 2>&1 || { tail -n 5 "$out.log" >&2; return 1; }
  mv "$out.tmp.fq" "$out" && done_ "$out" "$key"
}

# vc_norm REF IN.vcf OUT.tsv — normalised alleles, one "CHROM POS REF ALT" per line, sorted and unique.
vc_norm() {
  bcftools norm -f "$1" -m -both "$2" 2>/dev/null | bcftools norm -f "$1" -d exact 2>/dev/null \
    | awk -F'\t' '!/^#/ && $5 != "." && $5 != "*" { print $1 "\t" $2 "\t" $4 "\t" $5 }' | sort -u > "$3"
}

# vc_score TRUTH.tsv CALLS.tsv SAMPLE REF ALIGNER — two rows (SNP, indel) of VC_COLS.
vc_score() {
  awk -F'\t' -v s="$3" -v r="$4" -v a="$5" '
    function kind(ref, alt) { return (length(ref) == 1 && length(alt) == 1) ? "SNP" : "indel" }
    FNR == NR { t[$0] = 1; nt[kind($3, $4)]++; next }
    { k = kind($3, $4); nc[k]++; if ($0 in t) tp[k]++ }
    END { for (i = 1; i <= 2; i++) { k = i == 1 ? "SNP" : "indel"
      p = nc[k] ? tp[k] / nc[k] : 0; rc = nt[k] ? tp[k] / nt[k] : 0; f = p + rc > 0 ? 2 * p * rc / (p + rc) : 0
      printf "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%.4f\t%.4f\t%.4f\tok\n", s, r, a, k, nt[k], nc[k], tp[k], p, rc, f } }' "$1" "$2"
}

# vc_one SAMPLE AL — map, sort, call and score one aligner on one sample; appends to rows.tsv.tmp.
vc_one() {
  local s=$1 al=$2 refname depth snp ind vseed
  read -r refname depth snp ind vseed <<<"$(vc_sample "$s")"
  local ref=$BENCH/ref/$refname.fa d=$OUT/variants/$s dir key
  local vcf=$BENCH/reads/vc-$s.vcf fq=$BENCH/reads/vc-$s.fq
  local a=$d/$al
  if ! dir=$(ensure_index "$al" "$refname"); then
    printf '%s\t%s\t%s\tSNP\t0\t0\t0\t0\t0\t0\tindex failed\n' "$s" "$refname" "$al" >> "$VC_ROWS.tmp"; return
  fi
  key="vc $al $(fp "$fq" "$dir/index.time")"
  case $al in esalign-*) key="$key $(esalign_fp)" ;; esac
  if ! fresh "$a.bam" "$key"; then
    log "variants: map $al $s ($(nreads "$fq") reads)"
    if map_reads "$al" "$dir" "$fq" "$a.sam" "$a.time" "$a.err" \
       && samtools sort -@ "$THREADS" -o "$a.bam.tmp" "$a.sam" 2>>"$a.err" && mv "$a.bam.tmp" "$a.bam" \
       && samtools index "$a.bam" 2>>"$a.err"; then
      rm -f "$a.sam"; done_ "$a.bam" "$key"
    else
      rm -f "$a.sam" "$a.bam.tmp" "$a.bam.key"
      printf '%s\t%s\t%s\tSNP\t0\t0\t0\t0\t0\t0\talign failed: %s\n' "$s" "$refname" "$al" "$(first_err "$a.err")" >> "$VC_ROWS.tmp"
      return
    fi
  fi
  key="call $(fp "$a.bam" "$ref")"
  if ! fresh "$a.calls.tsv" "$key"; then
    log "variants: call $al $s"
    bcftools mpileup -f "$ref" "$a.bam" 2>"$a.call.err" | bcftools call -mv 2>>"$a.call.err" > "$a.calls.vcf" \
      && vc_norm "$ref" "$a.calls.vcf" "$a.calls.tsv" && done_ "$a.calls.tsv" "$key"
  fi
  vc_score "$d/truth.tsv" "$a.calls.tsv" "$s" "$refname" "$al" >> "$VC_ROWS.tmp"
}

# variants_bench ALIGNERS — every sample, every aligner; writes $OUT/variants/rows.tsv.
variants_bench() {
  local s refname depth snp ind vseed ref n scale=${VC_DEPTH_SCALE:-1} al
  command -v bcftools >/dev/null || { log "variants: bcftools not found (scripts/setup.sh); stage skipped"; return 0; }
  VC_ROWS=$OUT/variants/rows.tsv
  mkdir -p "$OUT/variants"
  : > "$VC_ROWS.tmp"
  for s in ${VC_SAMPLES:-ecoli human10M ecoli5}; do
    read -r refname depth snp ind vseed <<<"$(vc_sample "$s")"
    ref=$BENCH/ref/$refname.fa
    prep_ref "$refname" "$ref" || { log "variants: cannot prepare $refname"; continue; }
    mkdir -p "$OUT/variants/$s"
    vc_genome "$ref" "$BENCH/reads/vc-$s.vcf" "$snp" "$ind" "$vseed" || continue
    n=$(awk -v l="$(awk '{ s += $2 } END { print s }' "$ref.fai")" -v d="$depth" -v f="$scale" -v r=$VC_LEN \
      'BEGIN { printf "%d", l * d * f / r }')
    vc_reads "$ref" "$BENCH/reads/vc-$s.vcf" "$n" 31 "$BENCH/reads/vc-$s.fq" || continue
    vc_norm "$ref" "$BENCH/reads/vc-$s.vcf" "$OUT/variants/$s/truth.tsv"
    for al in $1; do vc_one "$s" "$al"; done
  done
  { echo "$VC_COLS" | tr ' ' '\t'; cat "$VC_ROWS.tmp"; } > "$VC_ROWS" && rm -f "$VC_ROWS.tmp"
}
