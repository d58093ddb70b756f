# align.sh — command-line cases for 'esalign align' and 'esalign demo' (sourced by tests/cli.sh; $BIN, $T, case_).
awk 'BEGIN{srand(3); for(c=1;c<=2;c++){print ">ctg" c; s="";
  for(i=0;i<30000;i++){s=s substr("ACGT",int(rand()*4)+1,1); if(length(s)==60){print s; s=""}} if(s!="")print s}}' \
  > "$T/al.fa"
case_ 0 '' "$BIN" index -o "$T/al" "$T/al.fa"
case_ 0 '' "$BIN" simulate -n 2500 -l 120 -s 3 -o "$T/al.fq" "$T/al.fa"
case_ 0 'reads/s' "$BIN" align -t 2 -o "$T/al.sam" "$T/al.esi" "$T/al.fq"
case_ 0 '' samtools quickcheck "$T/al.sam"
case_ 0 '^2500$' samtools view -c -F 0x900 "$T/al.sam"
case_ 0 '' "$BIN" align -t 1 -o "$T/al1.sam" "$T/al.esi" "$T/al.fq"
# same bytes for -t 1 and -t 2 (CL: differs)
case_ 0 '' cmp <(grep -v '^@PG' "$T/al.sam") <(grep -v '^@PG' "$T/al1.sam")
case_ 0 'correct +[0-9]+ +(9[89]|100)\.' "$BIN" eval "$T/al.sam"
# microsatellite arrays (CA)n with their own defects: the index holds their seeds, the reads of the arrays are
# placed by them, byte-identical for 1 and 2 threads; --no-lowc-seeds leaves them out
awk 'BEGIN{srand(5); s=""; for(i=0;i<60000;i++){ if(i%5000==1000){ for(j=0;j<300;j++){ b=substr("CA",j%2+1,1);
  if(rand()<0.04) b=substr("GT",int(rand()*2)+1,1); s=s b }; i+=299 } else s=s substr("ACGT",int(rand()*4)+1,1) }
  print ">sat"; for(i=1;i<=length(s);i+=60) print substr(s,i,60)}' > "$T/sat.fa"
case_ 0 'low-complexity seeds: [0-9]+ bases in stretches' "$BIN" index -v 2 --encoder kmer -o "$T/sat" "$T/sat.fa"
case_ 0 '' "$BIN" simulate -n 1000 -l 150 -s 4 -o "$T/sat.fq" "$T/sat.fa"
case_ 0 '' "$BIN" align -t 2 -o "$T/sat2.sam" "$T/sat.esi" "$T/sat.fq"
case_ 0 '' "$BIN" align -t 1 -o "$T/sat1.sam" "$T/sat.esi" "$T/sat.fq"
case_ 0 '' cmp <(grep -v '^@PG' "$T/sat1.sam") <(grep -v '^@PG' "$T/sat2.sam")
case_ 0 '' "$BIN" align -t 2 --no-lowc-seeds -o "$T/sat0.sam" "$T/sat.esi" "$T/sat.fq"
case_ 0 '^ok$' bash -c "a=\$('$BIN' eval --tsv '$T/sat2.sam' | tail -1 | cut -f3); b=\$('$BIN' eval --tsv '$T/sat0.sam' | tail -1 | cut -f3);
  awk -v a=\$a -v b=\$b 'BEGIN{print (a >= b && a >= 97) ? \"ok\" : \"seeds \" a \" without \" b}'"
case_ 0 '' "$BIN" align -t 2 -R '@RG\tID:g1\tSM:x' -o "$T/al.bam" "$T/al.esi" "$T/al.fq"
case_ 0 '' samtools quickcheck "$T/al.bam"
case_ 0 '^2500$' bash -c "samtools view '$T/al.bam' | grep -c 'RG:Z:g1'"
case_ 0 '@RG	ID:g1	SM:x' samtools view -H "$T/al.bam"
case_ 0 '@PG	ID:esalign	PN:esalign	VN:[0-9.]+	CL:.*align -t 2 -R' samtools view -H "$T/al.bam"
case_ 0 'NM:i:[0-9]+	MD:Z:[0-9ACGTN^]+	AS:i:' \
  bash -c "'$BIN' align '$T/al.esi' '$T/al.fq' 2>/dev/null | samtools view - | head -1"
# an index with inverted lists: the same reads map as well, byte-identical for 1 and 2 threads; --nprobe is checked
case_ 0 '' "$BIN" index --lists 8 -o "$T/alivf" "$T/al.fa"
case_ 0 '' "$BIN" align -t 2 --nprobe 4 -o "$T/alivf2.sam" "$T/alivf.esi" "$T/al.fq"
case_ 0 '' "$BIN" align -t 1 --nprobe 4 -o "$T/alivf1.sam" "$T/alivf.esi" "$T/al.fq"
case_ 0 '' cmp <(grep -v '^@PG' "$T/alivf1.sam") <(grep -v '^@PG' "$T/alivf2.sam")
case_ 0 'correct +[0-9]+ +(9[89]|100)\.' "$BIN" eval "$T/alivf2.sam"
case_ nz 'nprobe: expected an integer in 1\.\.65536' "$BIN" align --nprobe 0 "$T/alivf.esi" "$T/al.fq"
case_ nz 'ID' "$BIN" align -R '@RG\tSM:x' "$T/al.esi" "$T/al.fq"
# the per-stage CPU line; scoring options and the divergent preset (applied before the options, whatever its place)
case_ 0 'CPU per read \(us, all threads\): parse [0-9.]+, embed [0-9.]+, search [0-9.]+, verify [0-9.]+, format [0-9.]+$' \
  "$BIN" align -o "$T/st.sam" "$T/al.esi" "$T/al.fq"
case_ 0 '' "$BIN" align -t 2 -x divergent -o "$T/div.sam" "$T/al.esi" "$T/al.fq"
case_ 0 'correct +[0-9]+ +(9[89]|100)\.' "$BIN" eval "$T/div.sam"
case_ 0 '' "$BIN" align -t 2 -B 2 -O 4 -E 1 -K 32 -A 32 -o "$T/div2.sam" "$T/al.esi" "$T/al.fq"
case_ 0 '' cmp <(grep -v '^@PG' "$T/div.sam") <(grep -v '^@PG' "$T/div2.sam")
case_ 0 '' "$BIN" align -t 2 -B 4 -x divergent -O 6 -K 16 -A 16 -o "$T/div3.sam" "$T/al.esi" "$T/al.fq"
case_ 0 '' cmp <(grep -v '^@PG' "$T/al.sam") <(grep -v '^@PG' "$T/div3.sam")
case_ 1 "^esalign align: -x: unknown preset 'fast' \(known: divergent\)$" "$BIN" align -x fast "$T/al.esi" "$T/al.fq"
# the preset is found as getopt reads the line: here -x is -T's value, refused as such
case_ 1 "^esalign align: -T: expected an integer in .*, got '-x'$" "$BIN" align -T -x divergent "$T/al.esi" "$T/al.fq"
case_ 1 "^esalign align: -B: expected an integer in 0\.\.1000, got '-1'$" "$BIN" align -B -1 "$T/al.esi" "$T/al.fq"
case_ 1 "^esalign align: -E: expected an integer in 1\.\.1000, got '0'$" "$BIN" align -E 0 "$T/al.esi" "$T/al.fq"
case_ nz 'no-such.esi' "$BIN" align "$T/no-such.esi" "$T/al.fq"
case_ nz 'no-such.fq' "$BIN" align "$T/al.esi" "$T/no-such.fq"
printf '@r1\nACGTACGTAC\n+\nIII\n' > "$T/bad.fq"
case_ nz 'bad.fq.*record 1' "$BIN" align -o "$T/bad.sam" "$T/al.esi" "$T/bad.fq"
case_ 1 '' test -e "$T/bad.sam"
: > "$T/empty.fq"
case_ 0 '' "$BIN" align -o "$T/empty.sam" "$T/al.esi" "$T/empty.fq"
case_ 0 '^0$' samtools view -c "$T/empty.sam"
case_ nz '' "$BIN" align -t 0 "$T/al.esi" "$T/al.fq"
case_ 0 'Usage: esalign align' "$BIN" align --help
case_ 0 'correct' "$BIN" demo -n 500 -l 100 "$T/al.fa"
# the example program built against include/esalign.h alone finds a read's locus
EX=${ESALIGN_EXAMPLE:-build/embed_search}
SEQ=$(sed -n 2p "$T/al.fq")
case_ 0 'locus 0 .* score (1[01][0-9]|120) ' "$EX" "$T/al.esi" "$SEQ"
case_ nz "not with kmer\(k=13" "$BIN" align --encoder kmer:13:64 "$T/al.esi" "$T/al.fq"
# faults: a failed write (full device, file-size limit) exits non-zero with one line naming the file and the system
# error, leaves neither the file nor its temporary, and never renames over a device
# fault_ CMD...: "rc=STATUS lines=N: LAST LINE" of CMD's stderr
fault_() {
  local e rc
  e=$("$@" 2>&1 >/dev/null); rc=$?
  echo "rc=$rc lines=$(grep -c . <<<"$e"): $(tail -n1 <<<"$e")"
}
AI="$T/al.esi"; AQ="$T/al.fq"; NZ='^rc=[1-9][0-9]* lines'
NOSPACE='No space left on device$'
case_ 0 "$NZ=1: esalign align: /dev/full: .*$NOSPACE" fault_ "$BIN" align -o /dev/full "$AI" "$AQ"
case_ 0 '' test -c /dev/full
case_ 0 '^0$' bash -c "ls /dev | grep -c 'full\.tmp'; true"
case_ 0 "$NZ=1: esalign align: stdout: .*$NOSPACE" fault_ bash -c "exec '$BIN' align '$AI' '$AQ' > /dev/full"
case_ 0 "$NZ=1: esalign align: stdout: .*$NOSPACE" fault_ bash -c "exec '$BIN' align '$AI' '$T/empty.fq' > /dev/full"
LIM="trap '' XFSZ; ulimit -f"   # a file-size limit: writes past it fail with EFBIG
# records fail past 4 KiB. (htslib's bgzf_close returns before freeing its BGZF when its last write fails,
# samtools/htslib#1123: these cases run without LeakSanitizer under make check.)
for f in lim.sam lim.bam; do
  case_ 0 "$NZ=1: esalign align: .*$f: write failed: File too large$" \
    fault_ env ASAN_OPTIONS=detect_leaks=0 bash -c "$LIM 4; exec '$BIN' align -o '$T/$f' '$AI' '$AQ'"
done
# 10 reads fit htslib's buffer: the failure comes at the final flush, after the batch's progress line
head -n 40 "$AQ" > "$T/few.fq"
case_ 0 "$NZ=[0-9]+: esalign align: stdout: write failed: File too large$" \
  fault_ bash -c "$LIM 1; exec '$BIN' align '$AI' '$T/few.fq' > '$T/few-out.sam'"
case_ 0 "$NZ=[0-9]+: esalign align: .*few.sam: write failed: File too large$" \
  fault_ bash -c "$LIM 1; exec '$BIN' align -o '$T/few.sam' '$AI' '$T/few.fq'"
case_ 0 '^0$' bash -c "ls '$T' | grep -cE 'lim\.|few\.sam|\.tmp\.'; true"
case_ nz '1\.\.64.*65' "$BIN" align -t 65 -o "$T/t65.sam" "$AI" "$AQ"
case_ 1 '' test -e "$T/t65.sam"
# a progress line per batch at the default verbosity; -v 1 is quiet
case_ 0 '^\[esalign align\] 2500 reads \(2500 in all\) in [0-9.]+ s, [0-9]+ reads/s$' \
  "$BIN" align -o "$T/pr.sam" "$AI" "$AQ"
case_ 0 '^0$' bash -c "'$BIN' align -v 1 -o '$T/pr.sam' '$AI' '$AQ' 2>&1 | wc -l"
