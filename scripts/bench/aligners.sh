# aligners.sh — build indexes and map reads with each aligner, timed (sourced by scripts/bench.sh; needs lib.sh).
# Aligners: bwa (bwa index / bwa mem), bowtie2 (bowtie2-build / bowtie2, default end-to-end --sensitive),
# minimap2 (-x sr -d index / -ax sr), esalign-kmer and esalign-transformer (esalign index --encoder E / esalign align).
# Two more map with another aligner's index (index_of) and run by default on the divergent scenarios only
# (scripts/bench/calibration.sh): bowtie2-local (bowtie2's index, `bowtie2 --local`) and esalign-divergent
# (esalign-transformer's index, `esalign align -x divergent`).
# Every command gets $THREADS threads where the tool has the option (bwa index has none).
ANCHORS="bwa bowtie2 minimap2"
ESALIGN_ENCODERS=${ESALIGN_ENCODERS:-kmer transformer}

# the exact command templates, printed into docs/benchmarks.md (REF, IDX, READS as placeholders)
aligner_commands() {
  cat <<EOF
bwa index -p IDX REF
bwa mem -t $THREADS IDX READS > OUT.sam
bowtie2-build --threads $THREADS REF IDX
bowtie2 -p $THREADS -x IDX -U READS -S OUT.sam
minimap2 -x sr -t $THREADS -d IDX.mmi REF
minimap2 -ax sr -t $THREADS IDX.mmi READS > OUT.sam
esalign index -t $THREADS -o IDX --encoder E REF      (E = kmer, transformer)
esalign align -t $THREADS IDX READS > OUT.sam
bowtie2 --local -p $THREADS -x IDX -U READS -S OUT.sam            (bowtie2-local: bowtie2's index)
esalign align -x divergent -t $THREADS IDX READS > OUT.sam  (esalign-divergent: the transformer index)
EOF
}

# index_of AL — the aligner whose index AL maps with: itself, but for the two that share another's.
index_of() {
  case $1 in
    bowtie2-local) echo bowtie2 ;;
    esalign-divergent) echo esalign-transformer ;;
    *) echo "$1" ;;
  esac
}

# esalign's inputs for the cache key: its binary and the model that --encoder transformer loads ($ESALIGN_MODEL, else
# the shipped models/esalign.model). Set ESALIGN_MODEL to a copy to keep a retraining from changing it mid-run.
esalign_fp() { fph "$ESALIGN" "${ESALIGN_MODEL:-models/esalign.model}" 2>/dev/null; }

# index_key AL REF — what an index depends on.
index_key() {
  local al=$1 ref=$2
  case $al in
    esalign-*) echo "index $al v2 t=$THREADS $(fp "$ref") $(esalign_fp)" ;;
    *) echo "index $al v1 t=$THREADS $(fp "$ref")" ;;
  esac
}

# build_index AL REF DIR — the index of REF under DIR (DIR/idx*), timed into DIR/index.time; errors in DIR/index.err.
# AL names the index's own aligner (index_of).
build_index() {
  local al=$1 ref=$2 dir=$3
  rm -rf "$dir" && mkdir -p "$dir"
  local tf=$dir/index.time err=$dir/index.err
  case $al in
    bwa)      timed "$tf" bwa index -p "$dir/idx" "$ref" >/dev/null 2>"$err" ;;
    bowtie2)  timed "$tf" bowtie2-build --threads "$THREADS" "$ref" "$dir/idx" >/dev/null 2>"$err" ;;
    minimap2) timed "$tf" minimap2 -x sr -t "$THREADS" -d "$dir/idx.mmi" "$ref" >/dev/null 2>"$err" ;;
    esalign-*) timed "$tf" "$ESALIGN" index -t "$THREADS" -o "$dir/idx" --encoder "${al#esalign-}" "$ref" >/dev/null 2>"$err" ;;
    *) echo "unknown aligner $al" > "$err"; return 1 ;;
  esac
}

# map_reads AL DIR READS OUT.sam TIMEFILE ERRFILE — align READS with the index in DIR.
map_reads() {
  local al=$1 dir=$2 reads=$3 sam=$4 tf=$5 err=$6
  # read the index and the reads once untimed, so that no aligner pays for a cold page cache
  cat "$dir"/idx* "$reads" > /dev/null 2>&1
  case $al in
    bwa)      timed "$tf" bwa mem -t "$THREADS" "$dir/idx" "$reads" >"$sam" 2>"$err" ;;
    bowtie2)  timed "$tf" bowtie2 -p "$THREADS" -x "$dir/idx" -U "$reads" -S "$sam" 2>"$err" ;;
    bowtie2-local) timed "$tf" bowtie2 --local -p "$THREADS" -x "$dir/idx" -U "$reads" -S "$sam" 2>"$err" ;;
    minimap2) timed "$tf" minimap2 -ax sr -t "$THREADS" "$dir/idx.mmi" "$reads" >"$sam" 2>"$err" ;;
    esalign-divergent) timed "$tf" "$ESALIGN" align -x divergent -t "$THREADS" "$dir/idx" "$reads" >"$sam" 2>"$err" ;;
    esalign-*) timed "$tf" "$ESALIGN" align -t "$THREADS" "$dir/idx" "$reads" >"$sam" 2>"$err" ;;
    *) echo "unknown aligner $al" > "$err"; return 1 ;;
  esac
}

# tool_versions — one "tool: version" line per tool.
tool_versions() {
  echo "bwa: $(bwa 2>&1 | awk '/^Version/ { print $2 }')"
  echo "bowtie2: $(bowtie2 --version 2>/dev/null | awk 'NR == 1 { print $NF }')"
  echo "minimap2: $(minimap2 --version 2>/dev/null)"
  echo "samtools: $(samtools --version 2>/dev/null | awk 'NR == 1 { print $2 }')"
  echo "mason_simulator: $("$MASON_DIR/mason_simulator" --version 2>&1 | awk '/mason_simulator version/ { print $3 }')"
  echo "art_illumina: $(art_illumina 2>&1 | awk '/Version/ { for (i = 1; i < NF; i++) if ($i == "Version") { print $(i + 1); exit } }')"
  local m=${ESALIGN_MODEL:-models/esalign.model}
  [ -f "$m" ] && echo "esalign model: $(basename "$m") sha1 $(sha1sum "$m" | cut -c1-12)"
  # the binary may have been built from another commit than the checkout's: give both
  echo "esalign: $("$ESALIGN" version 2>/dev/null | awk '{ print $2 }') (binary sha1 $(fph "$ESALIGN" | tr -d ' '); checkout $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src include 2>/dev/null || echo '+local changes') when the run started)"
}
