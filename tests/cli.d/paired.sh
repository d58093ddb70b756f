# paired.sh — command-line cases of paired-end 'esalign align' (sourced by tests/cli.sh; $BIN, $T, case_): two files
# and interleaved input (also from stdin), pair fields checked by samtools (quickcheck, flagstat, fixmate, markdup),
# accuracy against mason's truth, determinism, and every input fault named with its file and record.
MASON=${MASON_DIR:-/usr/lib/seqan/bin}
awk 'BEGIN{srand(11); for(c=1;c<=2;c++){print ">pc" c; s=""; for(i=0;i<60000;i++){s=s substr("ACGT",int(rand()*4)+1,1); if(length(s)==60){print s; s=""}} if(s!="")print s}}' > "$T/pe.fa"
case_ 0 '' "$BIN" index -v 0 -o "$T/pe" "$T/pe.fa"
case_ 0 '' "$MASON/mason_simulator" -q -ir "$T/pe.fa" -n 1500 --seed 5 --num-threads 1 --illumina-read-length 150 \
  --fragment-mean-size 400 --fragment-size-std-dev 40 -o "$T/pe_1.fq" -or "$T/pe_2.fq" -oa "$T/pe.truth.sam"
case_ 0 'FR: [0-9]+ pairs, mean (3[89][0-9]|40[0-9])' "$BIN" align -t 2 -o "$T/pe.sam" "$T/pe.esi" "$T/pe_1.fq" "$T/pe_2.fq"
case_ 0 '' samtools quickcheck "$T/pe.sam"
case_ 0 '^3000 \+ 0 paired in sequencing' bash -c "samtools flagstat '$T/pe.sam' | grep 'paired in sequencing'"
case_ 0 'properly paired \((99|100)\.' samtools flagstat "$T/pe.sam"
case_ 0 '^3000 \+ 0 with itself and mate mapped' bash -c "samtools flagstat '$T/pe.sam' | grep 'itself and mate'"
case_ 0 'correct +[0-9]+ +(9[89]|100)\.' "$BIN" eval --truth "$T/pe.truth.sam" "$T/pe.sam"
# flagstat agrees with the FLAGs: read1/read2 counts and proper pairs recounted from the records
pe_counts() {   # read1, read2, and whether flagstat's proper-pair count equals the records with 0x1 and 0x2
  local p
  p=$(samtools flagstat "$T/pe.sam" | awk '/properly paired/ { print $1 }')
  echo "$(samtools view -c -f 64 "$T/pe.sam") $(samtools view -c -f 128 "$T/pe.sam")" \
    "$([ "$(samtools view -c -f 3 "$T/pe.sam")" = "$p" ] && echo ok || echo bad)"
}
case_ 0 '^1500 1500 ok$' pe_counts
# determinism: 1 and 2 threads, two files and interleaved (also from stdin) give the same records
case_ 0 '' "$BIN" align -t 1 -v 1 -o "$T/pe1.sam" "$T/pe.esi" "$T/pe_1.fq" "$T/pe_2.fq"
case_ 0 '' cmp <(grep -v '^@PG' "$T/pe.sam") <(grep -v '^@PG' "$T/pe1.sam")
paste <(paste - - - - < "$T/pe_1.fq") <(paste - - - - < "$T/pe_2.fq") | tr '\t' '\n' > "$T/pe_il.fq"
case_ 0 '' bash -c "'$BIN' align -v 1 -p '$T/pe.esi' - < '$T/pe_il.fq' | grep -v '^@PG' | cmp - <(grep -v '^@PG' '$T/pe.sam')"
# downstream tools read the pair fields: markdup straight from our MC/ms tags, and after fixmate
case_ 0 '' bash -c "samtools sort -o '$T/pe.srt.bam' '$T/pe.sam' && samtools markdup '$T/pe.srt.bam' '$T/pe.md.bam'"
case_ 0 '' bash -c "samtools sort -n '$T/pe.sam' | samtools fixmate -m - - | samtools sort - | samtools markdup - '$T/pe.fm.bam'"
case_ 0 '' samtools quickcheck "$T/pe.md.bam" "$T/pe.fm.bam"
# like bwa: the reference path finds its index beside it
case_ 0 '' "$BIN" index -v 0 "$T/pe.fa"
case_ 0 '^@HD' bash -c "'$BIN' align -v 1 '$T/pe.fa' '$T/pe_1.fq' '$T/pe_2.fq' | head -n 1"
case_ 0 'insert size FR: from -I' "$BIN" align -I 400,40 -o "$T/peI.sam" "$T/pe.esi" "$T/pe_1.fq" "$T/pe_2.fq"
# input faults: one line naming the files and the record, no output left behind
head -n 400 "$T/pe_2.fq" > "$T/pe_2short.fq"
case_ nz 'pe_2short.fq ends at record 100 while .*pe_1.fq goes on' "$BIN" align -o "$T/x.sam" "$T/pe.esi" "$T/pe_1.fq" "$T/pe_2short.fq"
case_ 1 '' test -e "$T/x.sam"
case_ nz 'pe_1.fq has more records than .*pe_2short.fq' "$BIN" align -o "$T/x.sam" "$T/pe.esi" "$T/pe_2short.fq" "$T/pe_1.fq"
sed '5s/^@.*/@other\/2/' "$T/pe_2.fq" > "$T/pe_2bad.fq"
case_ nz "pe_1.fq record 2 and .*pe_2bad.fq record 2: mate names differ \('simulated.2' and 'other'\)" \
  "$BIN" align -o "$T/x.sam" "$T/pe.esi" "$T/pe_1.fq" "$T/pe_2bad.fq"
head -n 12 "$T/pe_il.fq" > "$T/pe_odd.fq"
case_ nz 'pe_odd.fq: record 3 .* has no mate: an interleaved file must hold an even number' "$BIN" align -p "$T/pe.esi" "$T/pe_odd.fq"
case_ nz '-I: expected MEAN' "$BIN" align -I 400,x "$T/pe.esi" "$T/pe_1.fq" "$T/pe_2.fq"
case_ nz 'either a second reads file or -p' "$BIN" align -p "$T/pe.esi" "$T/pe_1.fq" "$T/pe_2.fq"
