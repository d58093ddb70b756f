# paired.sh — the paired-end stage of scripts/bench.sh (sourced; needs lib.sh, simulate.sh, aligners.sh and bench.sh's
# ensure_index, eval_sam, eval_values, na_values and EVAL_COLS).
# Scenarios REF-2xLEN: 2x150 from fragments of 400±60 bp (ART profile HS25), 2x250 from 550±80 bp (MSv3), on the
# mode's human reference (full: chrX 70 Mb; quick: the slice X_30M) and on E. coli. Two simulators, fixed seeds:
#   mason: mason_simulator -o R1 -or R2 -oa TRUTH on the variants of the single-end stage (the same mason_variator
#          VCF, SNPs 1e-3, small indels 1e-4), with Illumina errors;
#   ART:   art_illumina -p -m MEAN -s SD -ss PROFILE (no variants), truth from its -sam output.
# Every aligner of $ALIGNERS maps each scenario's pairs in paired mode with the indexes of the single-end stage
# (ensure_index: built here when missing); each esalign encoder also maps the same reads as single-end (R1 then R2
# in one file, names made unique with _1/_2) so that paired and single-end speed of the same build can be compared.
# Per row: esalign eval per read (each mate against its own truth, and the held-out region of the human reference);
# properly paired % (samtools flagstat); both mates correct % (the pair's two primaries each on the true contig within
# 20 bp of the true leftmost position, POS or unclipped start — eval's rule); wall, CPU (user + system), peak RSS.
# Output: $OUT/paired/results.tsv (one row per scenario, simulator, subset, aligner and layout), env.txt and
# commands.txt for report.py. Everything is cached like the single-end stage.
# Environment: PAIRED_READS (read pairs per scenario and simulator; default 10000 full / 2000 quick),
#   PAIRED_SCENARIOS (default "human-2x150 human-2x250 ecoli-2x150", quick "human10M-2x150 human10M-2x250 ecoli-2x150").
PAIRED_COLS="mode scenario ref len sim subset aligner layout status pairs nreads map_wall_s map_cpu_s map_rss_mb"
PAIRED_COLS="$PAIRED_COLS reads_per_s reads_per_cpu_s pairs_per_cpu_s proper_pct both_correct_pct"

# pe_scenario NAME -> REF LEN FRAG_MEAN FRAG_SD ART_PROFILE
pe_scenario() {
  local ref=${1%-2x*} len=${1##*-2x}
  case $ref in human|human10M|ecoli) ;; *) die "paired scenario $1: reference must be human, human10M or ecoli" ;; esac
  case $len in
    150) echo "$ref 150 400 60 HS25" ;;
    250) echo "$ref 250 550 80 MSv3" ;;
    *) die "paired scenario $1: must be REF-2x150 or REF-2x250" ;;
  esac
}

# pe_commands — the exact paired command templates, for the report
pe_commands() {
  cat <<EOF
bwa mem -t $THREADS IDX R1.fq R2.fq > OUT.sam
bowtie2 -p $THREADS -X 1000 -x IDX -1 R1.fq -2 R2.fq -S OUT.sam      (-X 1000: the default 500 would cut 550±80 bp fragments)
minimap2 -ax sr -t $THREADS IDX.mmi R1.fq R2.fq > OUT.sam
esalign align -t $THREADS IDX R1.fq R2.fq > OUT.sam                   (each encoder's index)
esalign align -t $THREADS IDX R1R2.fq > OUT.sam                       (single-end rows: R1 then R2 in one file)
samtools flagstat OUT.sam                                    (properly paired %)
esalign eval --truth TRUTH.sam --tsv [--region $HELDOUT] OUT.sam        (the held-out rows, human only)
EOF
}

# sim_mason_pe REF LEN N SEED MEAN SD OUTPREFIX — OUTPREFIX.1.fq, OUTPREFIX.2.fq, OUTPREFIX.truth.sam
sim_mason_pe() {
  local ref=$1 len=$2 n=$3 seed=$4 mean=$5 sd=$6 out=$7 vcf=${1%.fa}.mason.vcf key
  sim_variants "$ref" "$vcf" || return 1   # the single-end stage's VCF (simulate.sh)
  key="mason_simulator pe -n $n --seed $seed --illumina-read-length $len frag=$mean/$sd $(fp "$ref" "$vcf")"
  fresh "$out.1.fq" "$key" && [ -s "$out.2.fq" ] && [ -s "$out.truth.sam" ] && return 0
  log "mason_simulator $(basename "$ref") 2x$len bp x $n pairs (fragments $mean±$sd) -> $out.{1,2}.fq"
  "$MASON_DIR/mason_simulator" -q -ir "$ref" -iv "$vcf" -n "$n" --seed "$seed" --num-threads 1 \
    --illumina-read-length "$len" --fragment-mean-size "$mean" --fragment-size-std-dev "$sd" \
    -o "$out.tmp1.fq" -or "$out.tmp2.fq" -oa "$out.tmp.sam" >"$out.log" 2>&1 || { tail -n 5 "$out.log" >&2; return 1; }
  mv "$out.tmp.sam" "$out.truth.sam" && mv "$out.tmp2.fq" "$out.2.fq" && mv "$out.tmp1.fq" "$out.1.fq" \
    && done_ "$out.1.fq" "$key"
}

# sim_art_pe REF LEN N SEED PROFILE MEAN SD OUTPREFIX — as sim_art (one run per contig, N split by length), paired
sim_art_pe() {
  local ref=$1 len=$2 n=$3 seed=$4 prof=$5 mean=$6 sd=$7 out=$8 key
  key="art_illumina pe v1 -ss $prof -l $len -p -m $mean -s $sd -n $n -rs $seed $(fp "$ref")"
  fresh "$out.1.fq" "$key" && [ -s "$out.2.fq" ] && [ -s "$out.truth.sam" ] && return 0
  log "art_illumina -ss $prof -p $(basename "$ref") 2x$len bp x $n pairs (fragments $mean±$sd) -> $out.{1,2}.fq"
  local tmp=$out.arttmp total c clen cn i=0
  rm -rf "$tmp" && mkdir -p "$tmp"
  total=$(awk '{ s += $2 } END { print s }' "$ref.fai")
  for c in $(cut -f1 "$ref.fai"); do
    i=$((i + 1))
    clen=$(awk -v c="$c" '$1 == c { print $2 }' "$ref.fai")
    cn=$(awk -v n="$n" -v l="$clen" -v t="$total" 'BEGIN { printf "%d", n * l / t + 0.5 }')
    [ "$cn" -gt 0 ] && [ "$clen" -ge $((mean + 4 * sd)) ] || continue
    samtools faidx "$ref" "$c" > "$tmp/c.fa" || return 1
    art_illumina -q -ss "$prof" -l "$len" -p -m "$mean" -s "$sd" -c "$cn" -rs $((seed + i - 1)) -sam -na \
      -i "$tmp/c.fa" -o "$tmp/c${i}_" >"$out.log" 2>&1 || { tail -n 5 "$out.log" >&2; return 1; }
  done
  { printf '@HD\tVN:1.4\tSO:unsorted\n'; awk '{ printf "@SQ\tSN:%s\tLN:%s\n", $1, $2 }' "$ref.fai"
    printf '@PG\tID:art\tPN:ART_Illumina\tCL:art_illumina -ss %s -l %s -p -m %s -s %s -c N -rs %s -sam -na\n' \
      "$prof" "$len" "$mean" "$sd" "$seed"
    for f in "$tmp"/c*.sam; do grep -v '^@' "$f"; done | art_fix_cigar; } > "$out.tmp.sam"
  cat "$tmp"/c*_1.fq > "$out.tmp1.fq" && cat "$tmp"/c*_2.fq > "$out.tmp2.fq"
  rm -rf "$tmp"
  mv "$out.tmp.sam" "$out.truth.sam" && mv "$out.tmp2.fq" "$out.2.fq" && mv "$out.tmp1.fq" "$out.1.fq" \
    && done_ "$out.1.fq" "$key"
}

# pe_se_reads PREFIX — PREFIX.se.fq (R1 then R2, names NAME_1 / NAME_2) and PREFIX.se.truth.sam (the same names, the
# pair flags and mate fields cleared), for the single-end rows.
pe_se_reads() {
  local p=$1 key
  key="se v1 $(fp "$p.1.fq" "$p.2.fq" "$p.truth.sam")"
  fresh "$p.se.fq" "$key" && [ -s "$p.se.truth.sam" ] && return 0
  for m in 1 2; do
    awk -v m="$m" 'NR % 4 == 1 { sub(/[ \t].*/, ""); sub(/\/[12]$/, ""); $0 = $0 "_" m } { print }' "$p.$m.fq"
  done > "$p.se.fq.tmp" || return 1
  awk -F'\t' -v OFS='\t' 'function bit(x, b) { return int(x / b) % 2 }
    /^@/ { print; next }
    { f = $2; m = bit(f, 64) ? 1 : (bit(f, 128) ? 2 : 0); sub(/\/[12]$/, "", $1); if (m) $1 = $1 "_" m
      for (b = 1; b <= 128; b *= 2) if (b != 4 && b != 16 && bit(f, b)) f -= b
      $2 = f; $7 = "*"; $8 = 0; $9 = 0; print }' "$p.truth.sam" \
    > "$p.se.truth.sam.tmp" || return 1
  mv "$p.se.truth.sam.tmp" "$p.se.truth.sam" && mv "$p.se.fq.tmp" "$p.se.fq" && done_ "$p.se.fq" "$key"
}

# map_pe AL DIR R1 R2 OUT.sam TIMEFILE ERRFILE — align the pairs R1/R2 with the index in DIR, paired mode. (bowtie2-local
# and esalign-divergent too, for a --aligners list that names them.)
map_pe() {
  local al=$1 dir=$2 r1=$3 r2=$4 sam=$5 tf=$6 err=$7
  cat "$dir"/idx* "$r1" "$r2" > /dev/null 2>&1   # warm the page cache, untimed
  case $al in
    bwa)      timed "$tf" bwa mem -t "$THREADS" "$dir/idx" "$r1" "$r2" >"$sam" 2>"$err" ;;
    bowtie2)  timed "$tf" bowtie2 -p "$THREADS" -X 1000 -x "$dir/idx" -1 "$r1" -2 "$r2" -S "$sam" 2>"$err" ;;
    bowtie2-local) timed "$tf" bowtie2 --local -p "$THREADS" -X 1000 -x "$dir/idx" -1 "$r1" -2 "$r2" -S "$sam" 2>"$err" ;;
    minimap2) timed "$tf" minimap2 -ax sr -t "$THREADS" "$dir/idx.mmi" "$r1" "$r2" >"$sam" 2>"$err" ;;
    esalign-divergent) timed "$tf" "$ESALIGN" align -x divergent -t "$THREADS" "$dir/idx" "$r1" "$r2" >"$sam" 2>"$err" ;;
    esalign-*) timed "$tf" "$ESALIGN" align -t "$THREADS" "$dir/idx" "$r1" "$r2" >"$sam" 2>"$err" ;;
    *) echo "unknown aligner $al" > "$err"; return 1 ;;
  esac
}

# pe_flagstat SAM — properly paired % of the reads paired in sequencing (samtools flagstat), or NA
pe_flagstat() {
  samtools flagstat "$1" 2>/dev/null | awk '/ paired in sequencing/ { n = $1 } / properly paired/ { p = $1 }
    END { if (n > 0) printf "%.2f\n", 100 * p / n; else print "NA" }'
}

# the pair join: SAM TRUTH [REGION] -> "pairs<TAB>both_correct_pct<TAB>proper_pct" over the truth's pairs (both mates
# with a truth record; with REGION, both mates' true leftmost positions in it, 0-based half-open as esalign eval).
# A mate is correct when its primary is mapped on the true contig with POS or its unclipped start within 20 bp of the
# true POS; proper: its primary has FLAG 0x1 and 0x2 and not 0x4 (samtools flagstat's count).
PE_JOIN_PY='
import re, sys
sam, truth = sys.argv[1], sys.argv[2]
region = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
rc, rb, re_ = None, 0, None
if region:
    m = re.fullmatch(r"(.+?)(?::([0-9,]+)-([0-9,]+))?", region)
    rc = m.group(1)
    if m.group(2):
        rb, re_ = int(m.group(2).replace(",", "")), int(m.group(3).replace(",", ""))
def key(q, flag):
    q = re.sub(r"/[12]$", "", q)
    return q, (1 if flag & 0x40 else 2 if flag & 0x80 else 0)
def records(fn):
    with open(fn) as f:
        for line in f:
            if line.startswith("@"):
                continue
            t = line.split("\t", 6)
            flag = int(t[1])
            if flag & 0x900:
                continue
            yield t, flag
tru = {}
for t, flag in records(truth):
    if flag & 4:
        continue
    tru[key(t[0], flag)] = (t[2], int(t[3]))
clip_re = re.compile(r"^(?:([0-9]+)[SH])?(?:([0-9]+)[SH])?")
res = {}
for t, flag in records(sam):
    k = key(t[0], flag)
    tr = tru.get(k)
    if tr is None:
        continue
    ok = False
    if not flag & 4 and t[2] == tr[0]:
        pos = int(t[3])
        m = clip_re.match(t[5])
        clip = sum(int(x) for x in m.groups() if x)
        ok = min(abs(pos - tr[1]), abs(pos - clip - tr[1])) <= 20
    proper = bool(flag & 1 and flag & 2 and not flag & 4)
    res[k] = (ok, proper)
pairs = both = proper = 0
for (q, mate), (c, p) in tru.items():
    if mate != 1 or (q, 2) not in tru:
        continue
    c2, p2 = tru[(q, 2)]
    if rc is not None and not all(cc == rc and p0 - 1 >= rb and (re_ is None or p0 - 1 < re_)
                                  for cc, p0 in ((c, p), (c2, p2))):
        continue
    pairs += 1
    a, b = res.get((q, 1), (False, False)), res.get((q, 2), (False, False))
    both += a[0] and b[0]
    proper += a[1] + b[1]
if pairs:
    print(f"{pairs}\t{100 * both / pairs:.2f}\t{100 * proper / (2 * pairs):.2f}")
else:
    print("0\tNA\tNA")
'

# pe_join SAM TRUTH OUT [REGION] — the pair join, cached in OUT
pe_join() {
  local sam=$1 truth=$2 out=$3 region=${4:-} key
  key="pejoin v1 $region $(fp "$sam" "$truth")"
  fresh "$out" "$key" && return 0
  python3 -c "$PE_JOIN_PY" "$sam" "$truth" "$region" > "$out.tmp" 2> "$out.err" && [ "$(wc -l < "$out.tmp")" -eq 1 ] \
    && mv "$out.tmp" "$out" && done_ "$out" "$key" && return 0
  rm -f "$out.tmp"; return 1
}

# pe_run_one SCENARIO REF LEN SIM AL LAYOUT — map (pe: R1 R2 paired; se: R1R2 as single-end), score, append rows
pe_run_one() {
  local sc=$1 refname=$2 len=$3 sim=$4 al=$5 layout=$6
  local reads=$BENCH/reads/pe-$refname-$len-$sim-$PAIRED_N
  local a=$OUT/paired/aln/$sc-$sim/$al.$layout dir status=ok truth=$reads.truth.sam np nr
  mkdir -p "$(dirname "$a")"
  np=$(nreads "$reads.1.fq"); nr=$((2 * np))
  [ "$layout" = se ] && truth=$reads.se.truth.sam
  if ! dir=$(ensure_index "$al" "$refname"); then
    status=$(first_err "$dir/index.err"); status="index failed: ${status:-no message}"
  else
    local key="map $layout $al t=$THREADS $(fp "$reads.1.fq" "$reads.2.fq" "$dir/index.time")"
    [ "$layout" = se ] && key="map $layout $al t=$THREADS $(fp "$reads.se.fq" "$dir/index.time")"
    case $al in esalign-*) key="$key $(esalign_fp)" ;; esac
    if [ "$REMAP" = 1 ] || ! fresh "$a.sam" "$key"; then
      log "map $layout $al $sc $sim ($np pairs)"
      local rc
      if [ "$layout" = pe ]; then
        map_pe "$al" "$dir" "$reads.1.fq" "$reads.2.fq" "$a.sam.tmp" "$a.time" "$a.err"; rc=$?
      else
        map_reads "$al" "$dir" "$reads.se.fq" "$a.sam.tmp" "$a.time" "$a.err"; rc=$?
      fi
      if [ $rc = 0 ]; then
        mv "$a.sam.tmp" "$a.sam" && done_ "$a.sam" "$key"
        log "map $layout $al $sc $sim: $(time_wall "$a.time") s wall, $(time_cpu "$a.time") s CPU, $(time_rss_mb "$a.time") MiB"
      else
        rm -f "$a.sam.tmp" "$a.sam.key"; status=$(first_err "$a.err"); status="align failed: ${status:-no message}"
        log "map $layout $al $sc $sim failed: $status"
      fi
    fi
  fi
  local wall=NA cpu=NA rss=NA rps=NA rpc=NA ppc=NA prop=NA
  if [ "$status" = ok ]; then
    wall=$(time_wall "$a.time"); cpu=$(time_cpu "$a.time"); rss=$(time_rss_mb "$a.time")
    rps=$(awk -v n="$nr" -v w="$wall" 'BEGIN { printf "%.0f", (w > 0 ? n / w : 0) }')
    rpc=$(awk -v n="$nr" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? n / c : 0) }')
    ppc=$(awk -v n="$np" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? n / c : 0) }')
    if [ "$layout" = pe ]; then
      local fkey="flagstat $(fp "$a.sam")"
      fresh "$a.flagstat" "$fkey" || { samtools flagstat "$a.sam" > "$a.flagstat" 2>/dev/null && done_ "$a.flagstat" "$fkey"; }
      prop=$(pe_flagstat "$a.sam")
    fi
  fi
  local subset region vals st both pprop
  for subset in all heldout; do
    region=""
    if [ $subset = heldout ]; then case $refname in human*) region=$HELDOUT ;; *) continue ;; esac; fi
    vals=$(na_values); st=$status; both=NA; pprop=$prop
    if [ "$status" = ok ]; then
      if eval_sam "$a.sam" "$truth" "$a.$subset.eval.tsv" "$region"; then
        vals=$(eval_values "$a.$subset.eval.tsv")
      else
        st="eval failed: $(first_err "$a.$subset.eval.tsv.err")"; log "eval $layout $al $sc $sim $subset: $st"
      fi
      if [ "$layout" = pe ]; then
        if pe_join "$a.sam" "$truth" "$a.$subset.pairs.tsv" "$region"; then
          both=$(cut -f2 "$a.$subset.pairs.tsv")
          # the held-out subset's properly paired % comes from the join (flagstat counts the whole file)
          [ $subset = heldout ] && pprop=$(cut -f3 "$a.$subset.pairs.tsv")
        else
          log "pair join $al $sc $sim $subset failed: $(first_err "$a.$subset.pairs.tsv.err")"
        fi
      fi
    fi
    printf '%s\t' "$MODE" "$sc" "$refname" "$len" "$sim" "$subset" "$al" "$layout" "$st" "$np" "$nr" "$wall" "$cpu" \
      "$rss" "$rps" "$rpc" "$ppc" "$pprop" "$both" >> "$OUT/paired/results.tsv.tmp"
    printf '%s\n' "$vals" >> "$OUT/paired/results.tsv.tmp"
  done
}

# pe_write_env — the machine and the tools, for the report's paired section
pe_write_env() {
  {
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu: $(lscpu | awk -F': +' '/^Model name/ { print $2; exit }')"
    echo "cores: $(nproc)"
    echo "ram: $(free -g | awk '/^Mem:/ { print $2 " GiB" }')"
    echo "os: $(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME") $(uname -r)"
    echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-min load average when the stage started)"
    echo "threads: $THREADS"
    echo "pairs: $PAIRED_N"
    echo "heldout: $HELDOUT"
    echo "command: $CMDLINE"
    tool_versions
  } > "$OUT/paired/env.txt"
}

# paired_bench — the stage: reads, then each aligner (anchors first) on every scenario and simulator
paired_bench() {
  if [ "$MODE" = quick ]; then
    PAIRED_N=${PAIRED_READS:-2000}; : "${PAIRED_SCENARIOS:=human10M-2x150 human10M-2x250 ecoli-2x150}"
  else
    PAIRED_N=${PAIRED_READS:-10000}; : "${PAIRED_SCENARIOS:=human-2x150 human-2x250 ecoli-2x150}"
  fi
  mkdir -p "$OUT/paired/aln"
  local sc refname len mean sd prof al want=""
  for sc in $PAIRED_SCENARIOS; do
    read -r refname _ _ _ _ <<<"$(pe_scenario "$sc")"
    case $refname in ecoli) want="$want ecoli" ;; *) want="$want human" ;; esac
  done
  ESALIGN_DATA=$DATA bash scripts/fetch-genomes.sh $(echo $want | tr ' ' '\n' | sort -u) || die "cannot fetch the genomes"
  pe_write_env
  pe_commands > "$OUT/paired/commands.txt"
  for sc in $PAIRED_SCENARIOS; do
    read -r refname len mean sd prof <<<"$(pe_scenario "$sc")"
    prep_ref "$refname" "$BENCH/ref/$refname.fa" || die "cannot prepare reference $refname"
    local p=$BENCH/reads/pe-$refname-$len
    sim_mason_pe "$BENCH/ref/$refname.fa" "$len" "$PAIRED_N" 11 "$mean" "$sd" "$p-mason-$PAIRED_N" || die "mason failed"
    sim_art_pe "$BENCH/ref/$refname.fa" "$len" "$PAIRED_N" 11 "$prof" "$mean" "$sd" "$p-art-$PAIRED_N" || die "ART failed"
    pe_se_reads "$p-mason-$PAIRED_N" && pe_se_reads "$p-art-$PAIRED_N" || die "cannot write the single-end copies"
  done
  : > "$OUT/paired/results.tsv.tmp"
  for al in $ALIGNERS; do
    for sc in $PAIRED_SCENARIOS; do
      read -r refname len _ _ _ <<<"$(pe_scenario "$sc")"
      for sim in $SIMS; do
        pe_run_one "$sc" "$refname" "$len" "$sim" "$al" pe
        # the same build on the same reads as single-end, right after, under the same load
        case $al in esalign-*) pe_run_one "$sc" "$refname" "$len" "$sim" "$al" se ;; esac
      done
    done
  done
  { echo "$PAIRED_COLS $EVAL_COLS" | tr ' ' '\t'; cat "$OUT/paired/results.tsv.tmp"; } > "$OUT/paired/results.tsv" \
    && rm -f "$OUT/paired/results.tsv.tmp"
}
