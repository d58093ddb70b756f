# simulate.sh — references and simulated reads for scripts/bench.sh (sourced; needs lib.sh).
# Two independent simulators, single-end, fixed seeds, both strands:
#   mason: mason_variator (SNPs 1e-3, small indels 1e-4 of 1-6 bp, no SVs) then mason_simulator (Illumina errors);
#          truth = its alignment SAM (-oa), read names "simulated.N".
#   ART:   art_illumina with a built-in Illumina profile; truth = its -sam output, read names "CONTIG-N".
MASON_DIR=${MASON_DIR:-/usr/lib/seqan/bin}

# prep_ref NAME OUT.fa — plain FASTA with short contig names and a .fai:
#   human    hs37chrXtrunc, 70 Mb, contig "X"
#   human10M the slice X:30,000,001-40,000,000 as contig "X_30M" (position p in X_30M is X:30,000,000+p), which
#            straddles the 35 Mb boundary of the held-out region
#   ecoli    E. coli K-12 MG1655, 4.6 Mb, contig "K-12-MG1655"
prep_ref() {
  local name=$1 out=$2 src key
  case $name in
    human|human10M) src=$DATA/genomes/human.fa.gz ;;
    *) src=$DATA/genomes/$name.fa.gz ;;
  esac
  key="prep_ref v1 $name $(fp "$src")"
  fresh "$out" "$key" && return 0
  log "reference $name -> $out"
  mkdir -p "$(dirname "$out")"
  case $name in
    human10M)
      prep_ref human "$(dirname "$out")/human.fa" || return 1
      samtools faidx "$(dirname "$out")/human.fa" X:30000001-40000000 | sed '1s/.*/>X_30M/' > "$out.tmp" || return 1 ;;
    *) zcat "$src" | sed '/^>/s/[ \t].*//' > "$out.tmp" || return 1 ;;
  esac
  mv "$out.tmp" "$out" && rm -f "$out.fai" && samtools faidx "$out" && done_ "$out" "$key"
}

# sim_variants REF VCF — the bench's mason_variator genome of REF (SNPs 1e-3, small indels 1e-4), cached.
sim_variants() {
  local ref=$1 vcf=$2 key
  key="mason_variator -s 1 --snp-rate 0.001 --small-indel-rate 0.0001 sv=0 $(fp "$ref")"
  if ! fresh "$vcf" "$key"; then
    log "mason_variator $(basename "$ref")"
    "$MASON_DIR/mason_variator" -q -ir "$ref" -ov "$vcf.tmp.vcf" -s 1 --snp-rate 0.001 --small-indel-rate 0.0001 \
      --min-small-indel-size 1 --max-small-indel-size 6 --sv-indel-rate 0 --sv-inversion-rate 0 \
      --sv-translocation-rate 0 --sv-duplication-rate 0 >"$vcf.log" 2>&1 || { cat "$vcf.log" >&2; return 1; }
    mv "$vcf.tmp.vcf" "$vcf" && done_ "$vcf" "$key"
  fi
}

# sim_mason REF LEN N SEED OUTPREFIX [VCF] — OUTPREFIX.fq and OUTPREFIX.truth.sam, from REF's bench variants (or
# from the genome of VCF when given). Fragments of 500±50 bp so that 250 bp reads fit; single-end reads come from
# either end, so both strands.
sim_mason() {
  local ref=$1 len=$2 n=$3 seed=$4 out=$5 vcf=${6:-${1%.fa}.mason.vcf} key
  [ -n "${6:-}" ] || sim_variants "$ref" "$vcf" || return 1
  key="mason_simulator -n $n --seed $seed --illumina-read-length $len frag=500/50 $(fp "$ref" "$vcf")"
  fresh "$out.fq" "$key" && [ -s "$out.truth.sam" ] && return 0
  log "mason_simulator $(basename "$ref") ${len} bp x $n -> $out.fq"
  "$MASON_DIR/mason_simulator" -q -ir "$ref" -iv "$vcf" -n "$n" --seed "$seed" --num-threads 1 \
    --illumina-read-length "$len" --fragment-mean-size 500 --fragment-size-std-dev 50 \
    -o "$out.tmp.fq" -oa "$out.tmp.sam" >"$out.log" 2>&1 || { tail -n 5 "$out.log" >&2; return 1; }
  mv "$out.tmp.sam" "$out.truth.sam" && mv "$out.tmp.fq" "$out.fq" && done_ "$out.fq" "$key"
}

# art_fix_cigar — ART 2.5.8 now and then writes a CIGAR one base longer than the read (e.g. 251= for 250 bp), which
# htslib rejects; the truth needs only QNAME, FLAG, RNAME and POS, so such a record keeps them and gets SEQ/QUAL "*".
art_fix_cigar() {
  awk -F'\t' -v OFS='\t' '{ c = $6; n = 0
    while (match(c, /^[0-9]+[MIDNSHP=X]/)) { op = substr(c, RLENGTH, 1); if (op ~ /[MIS=X]/) n += substr(c, 1, RLENGTH - 1); c = substr(c, RLENGTH + 1) }
    if ($10 != "*" && n != length($10)) { $10 = "*"; $11 = "*" } print }'
}

# sim_art REF LEN N SEED PROFILE OUTPREFIX — OUTPREFIX.fq and OUTPREFIX.truth.sam.
# -c N reads per contig (split over contigs by length); ART skips windows containing N, so a reference with N runs
# yields somewhat fewer reads than asked for (the tables give the actual count).
sim_art() {
  local ref=$1 len=$2 n=$3 seed=$4 prof=$5 out=$6 key
  key="art_illumina v2 -ss $prof -l $len -n $n -rs $seed $(fp "$ref")"
  fresh "$out.fq" "$key" && [ -s "$out.truth.sam" ] && return 0
  log "art_illumina -ss $prof $(basename "$ref") ${len} bp x $n -> $out.fq"
  local tmp=$out.arttmp
  rm -rf "$tmp" && mkdir -p "$tmp"
  # one contig per run so that each gets its share of N reads
  local total c clen cn i=0 names
  total=$(awk '{ s += $2 } END { print s }' "$ref.fai")
  names=$(cut -f1 "$ref.fai")
  : > "$out.tmp.fq"
  for c in $names; do
    i=$((i + 1))
    clen=$(awk -v c="$c" '$1 == c { print $2 }' "$ref.fai")
    cn=$(awk -v n="$n" -v l="$clen" -v t="$total" 'BEGIN { printf "%d", n * l / t + 0.5 }')
    [ "$cn" -gt 0 ] && [ "$clen" -ge "$len" ] || continue
    samtools faidx "$ref" "$c" > "$tmp/c.fa" || return 1
    art_illumina -q -ss "$prof" -l "$len" -c "$cn" -rs $((seed + i - 1)) -sam -na -i "$tmp/c.fa" -o "$tmp/c$i" \
      >"$out.log" 2>&1 || { tail -n 5 "$out.log" >&2; return 1; }
  done
  # merge: one header from the reference, then every contig's records
  { printf '@HD\tVN:1.4\tSO:unsorted\n'; awk '{ printf "@SQ\tSN:%s\tLN:%s\n", $1, $2 }' "$ref.fai"
    printf '@PG\tID:art\tPN:ART_Illumina\tCL:art_illumina -ss %s -l %s -c N -rs %s -sam -na\n' "$prof" "$len" "$seed"
    for f in "$tmp"/c*.sam; do grep -v '^@' "$f"; done | art_fix_cigar; } > "$out.tmp.sam"
  cat "$tmp"/c*.fq > "$out.tmp.fq"
  rm -rf "$tmp"
  mv "$out.tmp.sam" "$out.truth.sam" && mv "$out.tmp.fq" "$out.fq" && done_ "$out.fq" "$key"
}
