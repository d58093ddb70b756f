# faults.sh — output faults of every subcommand that writes (sourced by tests/cli.sh; $BIN, $T, case_): a full disk
# (/dev/full for standard output; a file-size limit, `ulimit -f` with SIGXFSZ ignored so write() fails with EFBIG, for
# files written under a temporary name), a closed pipe, and several aligners sharing one index.
awk 'BEGIN{srand(5); print ">f1"; s=""; for(i=0;i<40000;i++){s=s substr("ACGT",int(rand()*4)+1,1); if(length(s)==60){print s; s=""}} print s}' > "$T/fl.fa"
case_ 0 '' "$BIN" index -v 0 -o "$T/fl" "$T/fl.fa"
case_ 0 '' "$BIN" simulate -n 2000 -l 150 -s 9 -o "$T/fl.fq" "$T/fl.fa"
# a file-size limit of 64 KiB: every output below is larger, so its write fails part-way
limited() { (trap '' XFSZ; ulimit -f 64; "$@"); }
nothing_left() { ! ls "$T"/fault/* >/dev/null 2>&1; }   # no output, no temporary
mkdir -p "$T/fault"
case_ nz 'fault/x.sam.*(File too large|write)' limited "$BIN" align -v 0 -o "$T/fault/x.sam" "$T/fl.esi" "$T/fl.fq"
case_ 0 '' nothing_left
case_ nz 'fault/x.bam.*(File too large|write)' limited "$BIN" align -v 0 -o "$T/fault/x.bam" "$T/fl.esi" "$T/fl.fq"
case_ 0 '' nothing_left
case_ nz 'fault/x.esi.*(File too large|write)' limited "$BIN" index -v 0 -o "$T/fault/x" "$T/fl.fa"
case_ 0 '' nothing_left
# the vector scratch file beside the output is what hits the limit first (2,000 windows of 64 bytes)
case_ nz 'fault/x.esi: embedding: the vector scratch file beside it: File too large' limited "$BIN" index -v 0 \
  -o "$T/fault/x" "$T/fl.fa"
case_ 0 '' nothing_left
case_ nz 'fault/x.fq.*(File too large|write)' limited "$BIN" simulate -n 5000 -l 150 -o "$T/fault/x.fq" "$T/fl.fa"
case_ 0 '' nothing_left
case_ nz 'fault/m.model.*(File too large|write)' limited "$BIN" train -v 0 -o "$T/fault/m" --windows 100 -b 8 -n 1 -t 1 \
  --eval-every 0 --train-region f1 --eval-region f1 "$T/fl.fa"
case_ 0 '' nothing_left
# standard output on a full disk: a one-line error and a non-zero exit, for every subcommand that prints data
case_ nz 'stdout.*(No space|write)' bash -c "'$BIN' align -v 0 '$T/fl.esi' '$T/fl.fq' > /dev/full"
case_ 0 '' "$BIN" align -v 0 -o "$T/fl.sam" "$T/fl.esi" "$T/fl.fq"
case_ nz '(No space|write)' bash -c "'$BIN' eval --tsv '$T/fl.sam' > /dev/full"
case_ nz '(No space|write)' bash -c "'$BIN' embed --encoder kmer '$T/fl.fa' > /dev/full"
case_ nz '(No space|write)' bash -c "'$BIN' simulate -n 100 -l 100 '$T/fl.fa' > /dev/full"
# a closed pipe ends the run quietly and promptly (no error line, no hang)
case_ 0 '^@HD' bash -c "timeout 20 '$BIN' align -v 1 '$T/fl.esi' '$T/fl.fq' 2>'$T/pipe.err' | head -n 1"
case_ 0 '' bash -c "! grep -q . '$T/pipe.err'"
# three aligners at once on one index: identical output, and the index pages shared between them. Each reads its
# reads from a FIFO, so all three hold the loaded (checksummed, hence resident) index while we look at their maps.
run3() {
  local i pids="" shared=0 kb
  for i in 1 2 3; do
    mkfifo "$T/sh$i.fifo"
    "$BIN" align -v 0 -t 1 -o "$T/sh$i.sam" "$T/fl.esi" "$T/sh$i.fifo" &
    pids="$pids $!"
  done
  sleep 1
  for i in $pids; do   # Shared_Clean+Shared_Dirty of the index mapping: its pages are mapped by more than one process
    kb=$(awk -v f="$T/fl.esi" '$NF == f { m = 1; next } /^[0-9a-f]+-/ { m = 0 } m && /^Shared_(Clean|Dirty)/ { s += $2 }
      END { print s + 0 }' "/proc/$i/smaps" 2>/dev/null)
    [ "${kb:-0}" -gt 0 ] && shared=$((shared + 1))
  done
  for i in 1 2 3; do cat "$T/fl.fq" > "$T/sh$i.fifo"; done
  wait
  echo "processes sharing the index pages: $shared of 3"
  [ $shared -eq 3 ] && cmp <(grep -v '^@PG' "$T/sh1.sam") <(grep -v '^@PG' "$T/sh2.sam") &&
    cmp <(grep -v '^@PG' "$T/sh1.sam") <(grep -v '^@PG' "$T/sh3.sam")
}
case_ 0 'sharing the index pages: 3 of 3' run3
