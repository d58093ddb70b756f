# qconv.sh — command-line cases for int8 encoder inference (sourced by tests/cli.sh; $BIN, $T, case_): the shipped
# model embeds in int8 unless ESALIGN_ENCODER_FLOAT=1, and an index built one way is refused the other way with the
# encoder-mismatch message (both names shown, ",int8" telling them apart), while each maps its own reads.
awk 'BEGIN{srand(5); print ">q1"; s=""; for(i=0;i<40000;i++){s=s substr("ACGT",int(rand()*4)+1,1);
  if(length(s)==60){print s; s=""}} if(s!="")print s}' > "$T/q8.fa"
case_ 0 '' "$BIN" simulate -n 200 -l 150 -s 3 -o "$T/q8.fq" "$T/q8.fa"
case_ 0 '' env ESALIGN_ENCODER_FLOAT=1 "$BIN" index --encoder models/esalign.model -o "$T/q8f" "$T/q8.fa"
case_ 0 '' "$BIN" index --encoder models/esalign.model -o "$T/q8i" "$T/q8.fa"
case_ 1 'built with encoder transformer\([^)]*params=23840\) .*not with transformer\([^)]*,int8\)' \
  "$BIN" align -o "$T/q8x.sam" "$T/q8f.esi" "$T/q8.fq"
case_ 1 'built with encoder transformer\([^)]*,int8\) .*not with transformer\([^)]*params=23840\)' \
  env ESALIGN_ENCODER_FLOAT=1 "$BIN" align -o "$T/q8x.sam" "$T/q8i.esi" "$T/q8.fq"
case_ 0 '' env ESALIGN_ENCODER_FLOAT=1 "$BIN" align -o "$T/q8f.sam" "$T/q8f.esi" "$T/q8.fq"
case_ 0 '' "$BIN" align -o "$T/q8i.sam" "$T/q8i.esi" "$T/q8.fq"
case_ 0 'correct +[0-9]+ +(9[89]|100)\.' "$BIN" eval "$T/q8f.sam"
case_ 0 'correct +[0-9]+ +(9[89]|100)\.' "$BIN" eval "$T/q8i.sam"
