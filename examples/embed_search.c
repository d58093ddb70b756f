/* embed_search.c — Embed-Search-Align by hand through the public header alone (built with -Iinclude only): load an
 * index, embed one sequence, retrieve its candidate loci and verify each with Smith-Waterman on both strands.
 * Usage: embed_search INDEX ACGT...   (build the index with 'esalign index ref.fa -o INDEX') */
#include <esalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOCI 8

/* Align the read (fw and its reverse complement rc, len bases) into locus l and print the better strand. */
static void print_locus(const es_ref_t *ref, int i, const es_locus_t *l, const uint8_t *fw, const uint8_t *rc,
                        int len)
{
	const es_contig_t *c = &ref->contig[es_ref_contig_at(ref, l->beg)];
	int64_t tl = l->end - l->beg;
	uint8_t *t = malloc(tl);
	if (!t)
		return;
	es_ref_get(ref, l->beg, l->end, t);
	es_score_t sc = es_score_default();
	es_aln_t a[2];
	memset(a, 0, sizeof a);
	if (es_align(fw, len, t, (int)tl, &sc, &a[0]) < 0 || es_align(rc, len, t, (int)tl, &sc, &a[1]) < 0) {
		fprintf(stderr, "embed_search: %s\n", es_last_error());
		free(t);
		return;
	}
	int s = a[1].score > a[0].score;
	printf("locus %d  %s:%lld-%lld  similarity %.3f  best strand %c  score %d  at %s:%lld  NM %d  MD %s\n", i,
	       c->name, (long long)(l->beg - c->off), (long long)(l->end - c->off), l->score, s ? '-' : '+', a[s].score,
	       c->name, (long long)(l->beg + a[s].tbeg - c->off), a[s].nm, a[s].md);
	es_aln_free(&a[0]);
	es_aln_free(&a[1]);
	free(t);
}

int main(int argc, char *argv[])
{
	if (argc != 3) {
		fprintf(stderr, "Usage: embed_search INDEX SEQUENCE\n");
		return 1;
	}
	int rc_exit = 1;
	es_encoder_t *enc = NULL;
	uint8_t *fw = NULL;
	uint8_t *rc = NULL;
	es_index_t *idx = es_index_load(argv[1]);
	if (!idx)
		goto fail;
	enc = es_index_open_encoder(idx);
	if (!enc)
		goto fail;
	int len = (int)strlen(argv[2]);
	fw = malloc(len + 1);
	rc = malloc(len + 1);
	if (!fw || !rc)
		goto fail;
	for (int i = 0; i < len; i++)
		fw[i] = es_nt4[(uint8_t)argv[2][i]];
	memcpy(rc, fw, len);
	es_revcomp(rc, len);
	es_locus_t loci[MAX_LOCI];
	int n_loci = 0;
	const uint8_t *seqs[1] = { fw };
	if (es_index_candidates(idx, enc, 1, seqs, &len, MAX_LOCI, loci, &n_loci, 0) < 0)
		goto fail;
	for (int i = 0; i < n_loci; i++)
		print_locus(es_index_ref(idx), i, &loci[i], fw, rc, len);
	rc_exit = 0;
fail:
	if (rc_exit)
		fprintf(stderr, "embed_search: %s\n", es_last_error());
	free(fw);
	free(rc);
	es_encoder_destroy(enc);
	es_index_destroy(idx);
	return rc_exit;
}
