# lib.sh — helpers for scripts/bench.sh (sourced): logging, a content-keyed step cache, timed runs, and the per-stage
# CPU line of `esalign align`.
# A step's output OUT is kept while OUT.key holds the same key (the command line plus fingerprints of its inputs),
# so a rerun of the benchmark only redoes what changed.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# fp FILE... — fingerprint of files: size and mtime (cheap; a regenerated file gets a new mtime). Missing: "-".
fp() {
  local f
  for f in "$@"; do
    if [ -e "$f" ]; then stat -c '%n:%s:%Y' "$f"; else echo "$f:-"; fi
  done | tr '\n' ' '
}
# fph FILE... — fingerprint by content (sha1), for small files whose mtime changes without their content (binaries).
fph() {
  local f
  for f in "$@"; do
    if [ -f "$f" ]; then sha1sum "$f" | cut -c1-16; else echo "$f:-"; fi
  done | tr '\n' ' '
}

# fresh OUT KEY — true when OUT exists and was made with KEY.
fresh() { [ -e "$1" ] && [ -f "$1.key" ] && [ "$(cat "$1.key")" = "$2" ]; }
# done_ OUT KEY — record that OUT was made with KEY.
done_() { printf '%s' "$2" > "$1.key"; }

# timed TIMEFILE CMD... — run CMD under GNU time -v; its report goes to TIMEFILE. Returns CMD's status.
# Redirections written after the command apply to the whole timed process, which is what we want.
timed() {
  local tf=$1; shift
  /usr/bin/time -v -o "$tf" "$@"
}
# time_wall TIMEFILE — wall-clock seconds from a GNU time -v report ("h:mm:ss" or "m:ss.ss").
time_wall() {
  awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; printf "%.2f\n", s }' "$1"
}
# time_cpu TIMEFILE — CPU seconds, user + system.
time_cpu() { awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ { s += $2 } END { printf "%.2f\n", s }' "$1"; }
# time_rss_mb TIMEFILE — peak resident set size in MiB.
time_rss_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.1f\n", $2 / 1024 }' "$1"; }

# nreads FASTQ — number of records.
nreads() { awk 'END { print int(NR / 4) }' "$1"; }

# first_err FILE — the line of an error log that says what went wrong ("esalign CMD: ...", or one with "error" or
# "fail"; else the last line), squeezed into one table cell.
first_err() {
  local l
  l=$(grep -E '^esalign [a-z]+: |[Ee]rror|[Ff]ail' "$1" 2>/dev/null | tail -n1)
  [ -n "$l" ] || l=$(grep -v -E '^\s*$' "$1" 2>/dev/null | tail -n1)
  printf '%s\n' "$l" | tr '|\t' '/ ' | cut -c1-120
}

# the stages of esalign align's closing stderr line, in its order (the results table's columns STAGE_COLS)
STAGES="parse embed search verify format"
STAGE_COLS=$(for s in $STAGES; do printf '%s_us ' "$s"; done)
# stage_values ERRFILE — the CPU microseconds per read (all threads) of each stage in $STAGES, tab-separated, from the
# last "[esalign align] CPU per read (us, all threads): parse 1.0, embed 91.6, ..." line of an esalign stderr log;
# NA for a stage the line lacks, all NA without the line (another aligner, an older esalign, -v below 2).
stage_values() {
  awk -v stages="$STAGES" 'index($0, "CPU per read (us, all threads):") { line = $0 }
    END { n = split(stages, st, " "); sub(/.*CPU per read \(us, all threads\):/, "", line)
      m = split(line, part, ","); for (i = 1; i <= m; i++) { k = split(part[i], kv, " "); if (k == 2 && kv[2] ~ /^[0-9.]+$/) v[kv[1]] = kv[2] }
      s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? "\t" : "") (st[i] in v ? v[st[i]] : "NA"); print s }' "$1" 2>/dev/null \
    || { local s="" x; for x in $STAGES; do s="$s${s:+	}NA"; done; echo "$s"; }
}
