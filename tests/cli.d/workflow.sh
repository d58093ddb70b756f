# workflow.sh — the Snakemake workflow (workflow/Snakefile) run locally on lambda phage with 2 shards: the merged BAM
# holds exactly the records of one 'esalign align' of the unsplit reads (sourced by tests/cli.sh; $BIN, $T, case_).
# snakemake is a test dependency (scripts/setup.sh installs it): without it these cases FAIL, they are not skipped.
W=$T/wf; mkdir -p "$W"
ESA=$(realpath "$(command -v "$BIN" || echo "$BIN")")
case_ 0 'snakemake' bash -c 'command -v snakemake || { echo "snakemake is not installed (bash scripts/setup.sh)"; exit 1; }'
case_ 0 '' bash scripts/fetch-genomes.sh lambda
REF=$(realpath "${ESALIGN_DATA:-data}/genomes/lambda.fa.gz")
case_ 0 '' "$BIN" simulate -n 2000 -l 150 -o "$W/reads.fq" "$REF"
# the splitter: N files always, pairs stay together, mates of different lengths are refused
case_ 0 '' bash scripts/split-fastq.sh -n 3 -o "$W/sp/x" "$W/reads.fq" "$W/reads.fq"
case_ 0 '^2000$' bash -c "cat '$W'/sp/x.00[012].1.fq | awk 'NR % 4 == 1' | sort -u | wc -l"
case_ 0 '' cmp "$W/sp/x.001.1.fq" "$W/sp/x.001.2.fq"
case_ nz 'different numbers of lines' bash scripts/split-fastq.sh -n 2 -o "$W/sp/y" "$W/reads.fq" <(head -n 40 "$W/reads.fq")
printf 'reference: %s\nsamples: samples.tsv\nesalign: %s\nshards: 2\n' "$REF" "$ESA" > "$W/config.yaml"
printf 'sample\tr1\tr2\nlambda\treads.fq\t\n' > "$W/samples.tsv"
SMK=(snakemake -s workflow/Snakefile --profile workflow/profiles/local --cores 2 --configfile "$W/config.yaml" --directory "$W")
case_ 0 'steps \(100%\) done' "${SMK[@]}"
case_ 0 'Nothing to be done' "${SMK[@]}"
case_ 0 '^2$' bash -c "ls '$W/results/logs/align' | wc -l"               # two shards were aligned
case_ 0 '^0$' bash -c "ls '$W/results/shards/lambda' | wc -l"            # and their temporary files removed
case_ 0 '' "$BIN" align -t 2 -R '@RG\tID:lambda\tSM:lambda' -o "$W/one.bam" "$W/results/index/ref.esi" "$W/reads.fq"
# records, not headers (@PG lines name the shard files; the merged header adds samtools' @PG and SO:coordinate)
case_ 0 '' cmp <(samtools view "$W/one.bam" | LC_ALL=C sort) <(samtools view "$W/results/lambda.bam" | LC_ALL=C sort)
case_ 0 '^2000$' samtools view -c "$W/results/lambda.bam"
case_ 0 '^1$' bash -c "samtools view -H '$W/results/lambda.bam' | grep -c '^@RG'"
case_ 0 '@RG	ID:lambda	SM:lambda' samtools view -H "$W/results/lambda.bam"
case_ 0 'SO:coordinate' samtools view -H "$W/results/lambda.bam"
case_ 0 '^2000 \+ 0 in total' cat "$W/results/lambda.flagstat"
case_ 0 '' samtools idxstats "$W/results/lambda.bam"
# a paired sample: the align rule passes both mate shards (esalign align INDEX r1 r2)
printf 'sample\tr1\tr2\nlambda\treads.fq\t\npair\treads.fq\treads.fq\n' > "$W/samples2.tsv"
case_ 0 'align .*pair\.000\.1\.fq.*pair\.000\.2\.fq' "${SMK[@]}" -n --config samples=samples2.tsv
