/* embed_search.c — Embed-Search-Align by hand through the public header: load an index, embed one sequence, retrieve
 * its candidate loci and verify the best one with Smith-Waterman.
 * Usage: embed_search INDEX ACGT...   (build the index with 'esalign index ref.fa -o INDEX') */
#include <esalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char *argv[])
{
	if (argc != 3) { fprintf(stderr, "Usage: embed_search INDEX SEQUENCE\n"); return 1; }
	es_index_t *idx = es_index_load(argv[1]);
	if (!idx) { fprintf(stderr, "embed_search: %s\n", es_last_error()); return 1; }
	es_encoder_t *enc = es_index_open_encoder(idx);
	if (!enc) { fprintf(stderr, "embed_search: %s\n", es_last_error()); es_index_destroy(idx); return 1; }
	const es_ref_t *ref = es_index_ref(idx);
	int len = (int)strlen(argv[2]);
	uint8_t *fw = malloc(len), *rc = malloc(len);
	for (int i = 0; i < len; i++) fw[i] = es_nt4[(uint8_t)argv[2][i]];
	memcpy(rc, fw, len);
	es_revcomp(rc, len);
	es_locus_t loci[8];
	int n_loci = 0;
	const uint8_t *seqs[1] = { fw };
	if (es_index_candidates(idx, enc, 1, seqs, &len, 8, loci, &n_loci, 0) < 0) { fprintf(stderr, "embed_search: %s\n", es_last_error()); return 1; }
	es_score_t sc = es_score_default();
	for (int i = 0; i < n_loci; i++) {
		int ci = es_ref_contig_at(ref, loci[i].beg);
		int64_t tl = loci[i].end - loci[i].beg;
		uint8_t *t = malloc(tl);
		es_ref_get(ref, loci[i].beg, loci[i].end, t);
		es_aln_t a[2];
		memset(a, 0, sizeof a);
		es_align(fw, len, t, (int)tl, &sc, &a[0]);
		es_align(rc, len, t, (int)tl, &sc, &a[1]);
		int s = a[1].score > a[0].score;
		printf("locus %d  %s:%lld-%lld  similarity %.3f  best strand %c  score %d  at %s:%lld  NM %d  MD %s\n", i,
		       ref->contig[ci].name, (long long)(loci[i].beg - ref->contig[ci].off), (long long)(loci[i].end - ref->contig[ci].off),
		       loci[i].score, s ? '-' : '+', a[s].score, ref->contig[ci].name,
		       (long long)(loci[i].beg + a[s].tbeg - ref->contig[ci].off), a[s].nm, a[s].md);
		es_aln_free(&a[0]); es_aln_free(&a[1]);
		free(t);
	}
	free(fw); free(rc);
	es_encoder_destroy(enc);
	es_index_destroy(idx);
	return 0;
}
