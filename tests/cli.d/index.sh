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
case_ 0 'lists=16	groups=0	nprobe=4	.*@16=(9[5-9]|100)' "$BIN" index --bench -n 100 -l 150 "$T/idx3"
case_ 0 'lists=16	groups=0	nprobe=2	.*@16=[0-9]' "$BIN" index --bench --nprobe 2 -n 100 -l 150 "$T/idx3"
case_ 0 'lists=16	groups=0	nprobe=16	.*@16=(9[5-9]|100)' "$BIN" index --bench --nprobe 99 -n 100 -l 150 "$T/idx3"
case_ 0 'lists=0	groups=0	nprobe=0	' "$BIN" index --bench -n 20 -l 150 "$T/idx1"
# two-level lists (groups of lists for training and assignment; the search ranks every list): recall as with flat
case_ 0 'wrote .*idx3g.esi' "$BIN" index -t 2 --lists 16 --list-groups 4 -o "$T/idx3g" "$T/idx.fa"
case_ 0 'lists=16	groups=0	nprobe=4	.*@16=(9[5-9]|100)' "$BIN" index --bench -n 100 -l 150 "$T/idx3g"
case_ 0 '' bash -c "! cmp -s '$T/idx3.esi' '$T/idx3g.esi'"
case_ nz "^esalign index: --list-groups: expected an integer in -1\.\.65536, got '-2'$" "$BIN" index --list-groups -2 "$T/idx.fa"
# the vectors go to a scratch file beside the output, or in $TMPDIR for an output written in place (a device)
ln -sf /dev/full "$T/full.esi"
case_ nz "^esalign index: .*full\.esi: cannot create the build's vector scratch file /nonexistent/esalign\.vec\." \
  env TMPDIR=/nonexistent "$BIN" index -v 0 -o "$T/full" "$T/idx.fa"
case_ nz '^esalign index: .*full\.esi: write failed: No space' env TMPDIR="$T" "$BIN" index -v 0 -o "$T/full" "$T/idx.fa"
case_ 0 '' bash -c "! ls '$T'/esalign.vec.* 2>/dev/null"
case_ nz 'inverted lists need PQ6' "$BIN" index --codes sign --lists 8 -o "$T/bad" "$T/idx.fa"
case_ nz "^esalign index: --lists: expected an integer in -1\.\.65536, got '70000'$" "$BIN" index --lists 70000 "$T/idx.fa"
case_ 1 "^esalign index: -t: expected an integer in 1\.\.64, got '65'$" "$BIN" index -t 65 "$T/idx.fa"
case_ 1 "^esalign index: --max-n: expected a number in 0\.\.1, got '2'$" "$BIN" index --max-n 2 "$T/idx.fa"
case_ 1 "^esalign index: -e: expected a number in 0\.\.0\.5, got '0\.9'$" "$BIN" index --bench -e 0.9 "$T/idx1"
case_ 1 "^esalign index: -n: expected an integer in 1\.\.10000000, got '1x'$" "$BIN" index --bench -n 1x "$T/idx1"
case_ 0 'recall@1=[0-9.]+	.*threads=2' "$BIN" index --bench -t 2 -n 100 -l 150 "$T/idx1"
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
# the re-rank's prefetches survive compilation: GCC deletes the calls of a helper holding only prefetches unless it
# is inlined early (src/search.c prefetch_window); without them every re-ranked row waits on memory (2x the search)
case_ 0 '^[2-9]|^[1-9][0-9]' sh -c "objdump -d '$BIN' | grep -c prefetcht0"
