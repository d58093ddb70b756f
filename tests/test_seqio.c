/* test_seqio.c — reference loading (2-bit packing, N runs, contigs), reverse complement. */
#include "test.h"
#include "seqio.h"
#include "util.h"
#include <stdlib.h>

static char *write_tmp(const char *name, const char *text)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/%s", es_test_tmpdir(), name);
	FILE *fp = fopen(path, "w"); fputs(text, fp); fclose(fp);
	return path;
}

TEST(seqio_ref_pack_roundtrip)
{
	es_rng_t rng; es_rng_seed(&rng, 1);
	int n = 10007;
	char *s = malloc(n + 1);
	for (int i = 0; i < n; i++) s[i] = "ACGTacgtN"[es_rng_below(&rng, 9)];
	s[n] = 0;
	FILE *fp = fopen(write_tmp("r.fa", ""), "w");  /* create, then fill */
	fprintf(fp, ">c1 desc\n");
	for (int i = 0; i < n; i += 60) fprintf(fp, "%.60s\n", s + i);
	fprintf(fp, ">c2\nNNNNACGTRYKM\n");
	fclose(fp);
	char path[512]; snprintf(path, sizeof path, "%s/r.fa", es_test_tmpdir());
	es_ref_t *ref = es_ref_load_fasta(path);
	CHECK(ref != NULL);
	if (!ref) { free(s); return; }
	CHECK_EQ_INT(ref->n_contig, 2);
	CHECK_STR(ref->contig[0].name, "c1");
	CHECK_EQ_INT(ref->contig[0].len, n);
	CHECK_EQ_INT(ref->contig[1].off, n);
	CHECK_EQ_INT(ref->contig[1].len, 12);
	uint8_t *buf = malloc(ref->len);
	es_ref_get(ref, 0, ref->len, buf);
	int bad = 0;
	for (int i = 0; i < n; i++) if (buf[i] != es_nt4[(uint8_t)s[i]]) bad++;
	CHECK_EQ_INT(bad, 0);
	const char *c2 = "NNNNACGTNNNN";
	for (int i = 0; i < 12; i++) CHECK_EQ_INT(buf[n + i], es_nt4[(uint8_t)c2[i]]);
	for (int64_t i = 0; i < ref->len; i += 97) CHECK_EQ_INT(es_ref_base(ref, i), buf[i]);
	/* every start and length mod 4 (es_ref_get copies whole packed bytes in the middle), against es_ref_base */
	uint8_t part[64];
	int bad_part = 0;
	for (int64_t b = n - 40; b < n - 32; b++)
		for (int l = 0; l <= 40 && b + l <= ref->len; l++) {
			memset(part, 9, sizeof part);
			es_ref_get(ref, b, b + l, part);
			for (int i = 0; i < l; i++) bad_part += part[i] != es_ref_base(ref, b + i);
			bad_part += part[l] != 9;   /* nothing written past the end */
		}
	CHECK_EQ_INT(bad_part, 0);
	/* N runs never span contigs: c1's last base and c2's first are separate runs when both N */
	int64_t nn = 0; for (int64_t i = 0; i < ref->len; i++) nn += buf[i] == 4;
	CHECK_EQ_INT(es_ref_count_n(ref, 0, ref->len), nn);
	for (int64_t i = 0; i < ref->n_nrun; i++) CHECK(es_ref_contig_at(ref, ref->nrun[i].beg) == es_ref_contig_at(ref, ref->nrun[i].end - 1));
	CHECK_EQ_INT(es_ref_contig_at(ref, n - 1), 0);
	CHECK_EQ_INT(es_ref_contig_at(ref, n), 1);
	CHECK_EQ_INT(es_ref_contig_at(ref, ref->len), -1);
	CHECK_EQ_INT(es_ref_contig_by_name(ref, "c2"), 1);
	free(buf); free(s);
	es_ref_destroy(ref);
}

TEST(seqio_ref_errors)
{
	const char *cases[][2] = {
		{ "empty.fa", "" },
		{ "nohdr.fa", "ACGT\n" },
		{ "emptycontig.fa", ">a\n>b\nACGT\n" },
		{ "lastempty.fa", ">a\nACGT\n>b\n" },
		{ "dup.fa", ">a\nACGT\n>a\nACGT\n" },
		{ "badchar.fa", ">a\nAC1GT\n" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *p = write_tmp(cases[i][0], cases[i][1]);
		es_ref_t *ref = es_ref_load_fasta(p);
		CHECKF(ref == NULL, "%s accepted", cases[i][0]);
		CHECKF(strstr(es_last_error(), cases[i][0]) != NULL, "error does not name the file: %s", es_last_error());
		es_ref_destroy(ref);
	}
	CHECK(es_ref_load_fasta("/nonexistent/x.fa") == NULL);
	CHECK(strstr(es_last_error(), "/nonexistent/x.fa") != NULL);
}

TEST(seqio_revcomp)
{
	uint8_t s[] = { 0, 1, 2, 3, 4, 0, 0 };
	es_revcomp(s, 7);
	uint8_t want[] = { 3, 3, 4, 0, 1, 2, 3 };
	CHECK(memcmp(s, want, 7) == 0);
	uint8_t odd[] = { 0, 1, 2 };
	es_revcomp(odd, 3);
	CHECK(odd[0] == 1 && odd[1] == 2 && odd[2] == 3);
}
