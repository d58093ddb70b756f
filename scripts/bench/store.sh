# store.sh — the vector store stage of scripts/bench.sh (sourced; needs lib.sh and aligners.sh): the approximate
# nearest-neighbour search of each esalign index against exact (brute-force) search, with the binary's own benchmark
#   esalign index --bench --exact -n N -l LEN -t 1 IDX
# which simulates N reads of LEN bp from the index's reference (seeded, both strands, 1% substitutions) and prints
# two tab-separated lines, "approx ..." and "exact ...", of key=value fields. Each (aligner, length) is cached as
# $OUT/store/<aligner>-<LEN>.tsv; $OUT/store/rows.tsv lists the rows of the last run of the stage for report.py.
# Environment: STORE_READS (reads per length; default 500 in full mode, 300 in quick mode: exact search costs about
#   75 ms per 100-150 bp read and 150 ms per 250 bp read on the 70 Mb genome), STORE_LENS (default "250 150 100").
STORE_LENS=${STORE_LENS:-250 150 100}
STORE_COLS="aligner ref len reads status file"

# store_ok FILE — true when FILE is the two-line output of `esalign index --bench --exact`.
store_ok() {
  [ "$(wc -l < "$1")" -eq 2 ] && [ "$(cut -f1 "$1" | tr '\n' ' ')" = "approx exact " ]
}

# store_field FILE KIND KEY — the value of KEY= on the KIND line of FILE (empty when missing).
store_field() {
  awk -F'\t' -v kind="$2" -v key="$3" '$1 == kind { for (i = 2; i <= NF; i++) if (index($i, key "=") == 1) { print substr($i, length(key) + 2); exit } }' "$1"
}

# store_bench REFNAME READS — run (or take from the cache) the store benchmark of every esalign aligner in $ALIGNERS
# whose index of REFNAME exists, for each length in $STORE_LENS. A failure is logged and recorded, never fatal.
store_bench() {
  local refname=$1 n=$2 al dir idx len out key t0 st
  local dst=$OUT/store
  mkdir -p "$dst"
  : > "$dst/rows.tsv.tmp"
  for al in $ALIGNERS; do
    case $al in esalign-*) ;; *) continue ;; esac
    dir=$BENCH/index/$refname/$al; idx=$dir/idx.esi
    if [ ! -f "$idx" ]; then
      log "store $al $refname: no index $idx; skipped"
      for len in $STORE_LENS; do
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$al" "$refname" "$len" "$n" "no index" "" >> "$dst/rows.tsv.tmp"
      done
      continue
    fi
    fresh "$dir/index.time" "$(index_key "$al" "$BENCH/ref/$refname.fa")" \
      || log "store $al $refname: note: $idx was not built by this esalign binary and reference (stale index)"
    for len in $STORE_LENS; do
      out=$dst/$al-$len.tsv
      key="store $al $refname n=$n len=$len t=1 $(fp "$idx") $(esalign_fp)"
      st=ok
      if ! fresh "$out" "$key"; then
        log "store $al $refname $len bp: $n reads, approximate then exact search, 1 thread"
        t0=$(date +%s)
        if "$ESALIGN" index --bench --exact -n "$n" -l "$len" -t 1 "$idx" > "$out.tmp" 2> "$out.err" \
           && store_ok "$out.tmp"; then
          mv "$out.tmp" "$out" && done_ "$out" "$key"
          log "store $al $refname $len bp: recall@16 $(store_field "$out" approx @16) approx," \
              "$(store_field "$out" exact @16) exact; search $(store_field "$out" approx search_ms/query) ms/query" \
              "approx, $(store_field "$out" exact search_ms/query) exact ($(( $(date +%s) - t0 )) s)"
        else
          sed -i "s|$idx|IDX|g" "$out.err" 2>/dev/null   # the message names the index file: keep the table cell short
          st=$(first_err "$out.err"); st="failed: ${st:-no message}"
          rm -f "$out.tmp" "$out" "$out.key"
          log "store $al $refname $len bp $st (not fatal; the report shows it)"
        fi
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$al" "$refname" "$len" "$n" "$st" "$(basename "$out")" >> "$dst/rows.tsv.tmp"
    done
  done
  { echo "$STORE_COLS" | tr ' ' '\t'; cat "$dst/rows.tsv.tmp"; } > "$dst/rows.tsv" && rm -f "$dst/rows.tsv.tmp"
}
