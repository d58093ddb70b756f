# index.sh — 'esalign index': build, bench, and refusal of bad input (sourced by tests/cli.sh; $BIN, $T, case_).
awk 'BEGIN { srand(7); print ">chrA"; for (i = 0; i < 40000; i++) { printf "%s", substr("ACGT", int(rand() * 4) + 1, 1); if (i % 60 == 59) print "" }
             print ""; print ">chrB"; for (i = 0; i < 20000; i++) { printf "%s", substr("ACGT", int(rand() * 4) + 1, 1); if (i % 60 == 59) print "" } print "" }' > "$T/idx.fa"
case_ nz 'Usage: esalign index' "$BIN" index
case_ 0 'Usage: esalign index' "$BIN" index --help
case_ 0 'wrote .*idx1.esi: [0-9]+ windows' "$BIN" index -t 2 -o "$T/idx1" "$T/idx.fa"
case_ 0 'wrote .*idx2.esi' "$BIN" index -w 100 -s 20 --codes sign --bits 64 -o "$T/idx2.esi" "$T/idx.fa"
case_ 0 '@16=(9[5-9]|100)' "$BIN" index --bench -n 100 -l 150 "$T/idx1"
case_ 0 'exact.*@16=[0-9]' "$BIN" index --bench --exact -n 50 -l 250 "$T/idx2.esi"
# inverted lists: asked for explicitly (kmer gets none by default); the bench reports them and takes --nprobe
case_ 0 'wrote .*idx3.esi' "$BIN" index -t 2 --lists 16 -o "$T/idx3" "$T/idx.fa"
case_ 0 'lists=16	nprobe=16	.*@16=(9[5-9]|100)' "$BIN" index --bench -n 100 -l 150 "$T/idx3"
case_ 0 'lists=16	nprobe=2	.*@16=[0-9]' "$BIN" index --bench --nprobe 2 -n 100 -l 150 "$T/idx3"
case_ 0 'lists=16	nprobe=16	.*@16=(9[5-9]|100)' "$BIN" index --bench --nprobe 99 -n 100 -l 150 "$T/idx3"
case_ 0 'lists=0	nprobe=0	' "$BIN" index --bench -n 20 -l 150 "$T/idx1"
case_ nz 'inverted lists need PQ6' "$BIN" index --codes sign --lists 8 -o "$T/bad" "$T/idx.fa"
case_ nz 'expected an integer' "$BIN" index --lists 70000 "$T/idx.fa"
case_ nz 'cannot open' "$BIN" index "$T/missing.fa"
case_ nz 'cannot open index' "$BIN" index --bench "$T/missing"
case_ nz 'not an esalign index' "$BIN" index --bench "$T/idx.fa"
case_ nz 'stride 200 exceeds' "$BIN" index -w 100 -s 200 "$T/idx.fa"
case_ nz 'expected an integer' "$BIN" index -w 5 "$T/idx.fa"
case_ nz 'expected pq6, pq4 or sign' "$BIN" index --codes foo "$T/idx.fa"
case_ nz 'PQ subspaces' "$BIN" index --pq-m 6 -o "$T/bad" "$T/idx.fa"
head -c 50000 "$T/idx1.esi" > "$T/trunc.esi"
case_ nz 'truncated' "$BIN" index --bench "$T/trunc.esi"
case_ 0 '' test ! -e "$T/bad.esi"
