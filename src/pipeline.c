/* pipeline.c — es_map_file, the driver of 'esalign align': three steps on es_pipeline, so reading the next batch and
 * writing the previous one overlap the mapping of this one: read (parse, 2-bit codes, reverse complements), map
 * (es_for over chunks of ES_MAP_CHUNK reads), write (records in input order, then freed). */
#include "pipeline.h"
#include "sam.h"
#include "thread.h"
#include "util.h"
#include <htslib/hts_log.h>
#include <stdlib.h>
#include <string.h>

/* Longer reads are refused (a documented limit with its error): the windows and the verification band are sized
 * for short reads. */
#define MAX_READ_LEN 1000
/* Paired-end: the insert model is estimated from the uniquely placed pairs among the first this many pairs of the
 * input (bwa uses each batch; one fixed block keeps the output independent of threads and batch size). */
#define ES_PE_STAT_PAIRS 5000

enum { STEP_READ, STEP_MAP, STEP_WRITE, N_STEPS };

typedef struct {            /* one batch of reads on its way through the pipeline */
	int n;                  /* reads in it (<= batch_size) */
	es_read_t *reads;
	uint8_t **fw, **rc;     /* codes of each read, forward and reverse complement */
	bam1_t ***recs;         /* records of each read, n_recs[i] of them (NULL slots are skipped) */
	int *n_recs;
	double t_map;           /* wall seconds of its mapping step */
	es_locus_t *loci;       /* every read's candidate loci (max_loci slots each) and their number */
	int *n_loci;
	es_locus_t **wide;      /* a read's own block when it has more than max_loci (the wide search of a
	                         * repeat family); NULL for the others. Slots of 4 x max_loci for every read cost ~50 MiB
	                         * at 20,000 pairs (human 2x150: 398 vs 347 MiB single-end) */
	es_map_hit_t **hits;    /* paired-end: every read's verified hits (NULL once taken over; n_hits < 0: none yet) */
	int *n_hits;
	uint8_t *sat;           /* single-end: ES_CAND_RETRY for a read to search again deeper, 1 for one the wide pass
	                         * searches again (es_map_candidates_first), else 0 */
	int *wsel, n_wsel;      /* single-end: the reads of the current later pass or last look, in input order, */
	int n_wgroups;          /* searched in this many groups (one es_for item each) */
	int wpass;              /* that pass: ES_CAND_RETRY (es_map_candidates_retry) or 1 (es_map_candidates_widen) */
	float **vec;            /* single-end: the query vectors of a read of a later pass (es_map_candidates_first) */
	atomic_int n_look_better;   /* single-end: the last look's reads (n_looked of them) it aligned better */
	int n_looked;
	int n_low, n_deep;      /* single-end: reads of low score after the first search, and those searched deeper */
	int p_search;           /* paired-end: pairs [0, p_search) are searched whole (the insert estimate's block),
	                         * pairs from p_search on go through search_pairs */
} batch_t;

typedef struct {            /* what the three steps share; each field is written by one step only */
	es_mapper_t m;
	es_map_opt_t ropt;      /* the last look's options (es_map_look_opt) */
	es_mapper_t rm;         /* m with ropt */
	const char *reads_path;
	es_reader_t *rd;        /* step 0 */
	const char *mate_path;  /* paired-end: the second mates' file (NULL: single-end, or interleaved in rd) */
	es_reader_t *rd2;       /* step 0 */
	int paired;             /* reads come in pairs: mate 1, mate 2 */
	int eof;                /* step 0 */
	es_map_buf_t **buf;     /* step 1: one per mapping thread */
	es_pe_buf_t **pbuf;     /* step 1: paired-end scratch, one per mapping thread */
	es_pe_model_t pe;       /* step 1: the insert-size model, from -I or estimated on the first batch */
	int pe_ready;           /* step 1 */
	batch_t *cur;           /* step 1: the batch the mapping threads work on */
	atomic_int failed;      /* step 1: the first mapping thread to fail sets it and writes err */
	char err[1024];
	es_sam_out_t *out;      /* step 2 */
	es_map_stats_t *stats;  /* step 2 */
} shared_t;

static void free_wide(batch_t *b)
{
	for (int i = 0; b->wide && i < b->n; i++)
		free(b->wide[i]);
	free(b->wide);
	b->wide = NULL;
}

static void free_vectors(batch_t *b)
{
	for (int i = 0; b->vec && i < b->n; i++)
		free(b->vec[i]);
	free(b->vec);
	b->vec = NULL;
}

/* A read's records (n of them; NULL slots skipped) and their array. */
static void free_recs(bam1_t **recs, int n)
{
	for (int j = 0; recs && j < n; j++)
		if (recs[j])
			bam_destroy1(recs[j]);
	free(recs);
}

static void batch_free(void *shared, void *data)
{
	(void)shared;
	batch_t *b = data;
	for (int i = 0; i < b->n; i++) {
		es_read_free(&b->reads[i]);
		free(b->fw[i]);
		free(b->rc[i]);
		free_recs(b->recs[i], b->n_recs[i]);
	}
	free(b->reads);
	free(b->fw);
	free(b->rc);
	free(b->recs);
	free(b->n_recs);
	free(b->loci);
	free(b->n_loci);
	free_wide(b);
	free(b->sat);
	free(b->wsel);
	free_vectors(b);
	for (int i = 0; b->hits && i < b->n; i++) {
		for (int j = 0; b->hits[i] && j < b->n_hits[i]; j++)   /* n_hits < 0: not verified, no hits */
			es_aln_free(&b->hits[i][j].aln);
		free(b->hits[i]);
	}
	free(b->hits);
	free(b->n_hits);
	free(b);
}

static batch_t *batch_new(int cap)
{
	batch_t *b = es_calloc(1, sizeof *b);
	atomic_init(&b->n_look_better, 0);
	b->reads = es_calloc(cap, sizeof(es_read_t));
	b->fw = es_calloc(cap, sizeof(uint8_t *));
	b->rc = es_calloc(cap, sizeof(uint8_t *));
	b->recs = es_calloc(cap, sizeof(bam1_t **));
	b->n_recs = es_calloc(cap, sizeof(int));
	return b;
}

/* Read the next record of rd (file path) into b->reads[b->n] with its codes. Returns 1, 0 at the end, -1 (es_error). */
static int take_read(batch_t *b, es_reader_t *rd, const char *path)
{
	int r = es_reader_next(rd, &b->reads[b->n]);
	if (r <= 0) {
		if (r < 0)
			es_read_free(&b->reads[b->n]);   /* the malformed record es_reader_next was filling */
		return r;
	}
	es_read_t *rr = &b->reads[b->n++];   /* counted now, so that batch_free frees it on every path */
	if (rr->len > MAX_READ_LEN)
		return es_error("%s: record %lld ('%s'): read of %d bp is longer than the %d bp supported", path,
		                (long long)rr->id + 1, rr->name, rr->len, MAX_READ_LEN);
	uint8_t *fw = b->fw[b->n - 1] = es_malloc(rr->len);
	uint8_t *rc = b->rc[b->n - 1] = es_malloc(rr->len);
	for (int i = 0; i < rr->len; i++)
		fw[i] = es_nt4[(uint8_t)rr->seq[i]];
	memcpy(rc, fw, rr->len);
	es_revcomp(rc, rr->len);
	return 1;
}

/* A mate's name without a trailing "/1" or "/2" (bwa's convention), in place. */
static void strip_mate_suffix(char *name)
{
	size_t l = strlen(name);
	if (l > 2 && name[l - 2] == '/' && (name[l - 1] == '1' || name[l - 1] == '2'))
		name[l - 2] = 0;
}

/* The second mate of the pair whose first mate was just read: from the mates' file, or the next record of an
 * interleaved file. Returns 1, or -1 with es_error naming both files and the record. */
static int take_mate(shared_t *sh, batch_t *b)
{
	es_reader_t *rd = sh->rd2 ? sh->rd2 : sh->rd;
	const char *path = sh->rd2 ? sh->mate_path : sh->reads_path;
	const es_read_t *m1 = &b->reads[b->n - 1];
	int r = take_read(b, rd, path);
	if (r == 0 && sh->rd2)
		return es_error("%s ends at record %lld while %s goes on ('%s'): the files must hold the same pairs", path,
		                (long long)m1->id, sh->reads_path, m1->name);
	if (r == 0)
		return es_error("%s: record %lld ('%s') has no mate: an interleaved file must hold an even number of "
		                "records", path, (long long)m1->id + 1, m1->name);
	if (r < 0)
		return -1;
	es_read_t *m2 = &b->reads[b->n - 1];
	strip_mate_suffix(b->reads[b->n - 2].name);
	strip_mate_suffix(m2->name);
	if (strcmp(b->reads[b->n - 2].name, m2->name) != 0)
		return es_error("%s record %lld and %s record %lld: mate names differ ('%s' and '%s')", sh->reads_path,
		                (long long)b->reads[b->n - 2].id + 1, path, (long long)m2->id + 1, b->reads[b->n - 2].name,
		                m2->name);
	return 1;
}

/* After the last pair of a two-file input, the mates' file must be at its end too. */
static int check_mates_end(shared_t *sh, batch_t *b)
{
	if (!sh->rd2)
		return 0;
	int r = take_read(b, sh->rd2, sh->mate_path);
	if (r == 0)
		return 0;
	if (r > 0)
		return es_error("%s has more records than %s (record %lld, '%s', has no first mate): the files must hold "
		                "the same pairs", sh->mate_path, sh->reads_path, (long long)b->reads[b->n - 1].id + 1,
		                b->reads[b->n - 1].name);
	return -1;
}

/* Step 0: up to batch_size reads (paired: batch_size / 2 pairs, mates adjacent) with their codes. *data stays
 * NULL at the end of the input. */
static int read_batch(shared_t *sh, void **data)
{
	int cap = sh->m.opt->batch_size;
	if (sh->paired)
		cap &= ~1;
	if (sh->eof)
		return 0;
	double c0 = es_thread_cputime();
	batch_t *b = batch_new(cap + 1);
	int r = 0;
	while (b->n < cap && (r = take_read(b, sh->rd, sh->reads_path)) > 0)
		if (sh->paired && (r = take_mate(sh, b)) < 0)
			break;
	if (r == 0) {
		sh->eof = 1;
		if (sh->paired)
			r = check_mates_end(sh, b);
	}
	es_stage_add(ES_STAGE_PARSE, es_thread_cputime() - c0);
	if (r < 0 || b->n == 0) {
		batch_free(sh, b);
		return r < 0 ? -1 : 0;
	}
	*data = b;
	return 0;
}

/* The first mapping thread to fail keeps its message; the others stop at their next item. */
static void item_failed(shared_t *sh)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&sh->failed, &expected, 1))
		snprintf(sh->err, sizeof sh->err, "%s", es_last_error());
}

/* Read r's candidate loci (b->n_loci[r] of them). */
static const es_locus_t *loci_of(const shared_t *sh, const batch_t *b, size_t r)
{
	return b->wide[r] ? b->wide[r] : b->loci + r * sh->m.opt->max_loci;
}

/* Keep read r's n loci, in its max_loci slots or, when it has more, in a block of its own. */
static void keep_loci(const shared_t *sh, batch_t *b, size_t r, const es_locus_t *loci, int n)
{
	int K = sh->m.opt->max_loci;
	free(b->wide[r]);
	b->wide[r] = NULL;
	if (n > K) {
		b->wide[r] = es_malloc((size_t)n * sizeof *loci);
		memcpy(b->wide[r], loci, (size_t)n * sizeof *loci);
	} else {
		memcpy(b->loci + r * K, loci, (size_t)n * sizeof *loci);
	}
	b->n_loci[r] = n;
}

/* Room for the candidate loci of the current batch's reads (keep_loci), freed by free_loci or batch_free. */
static void alloc_loci(const shared_t *sh, batch_t *b)
{
	b->loci = es_malloc((size_t)b->n * sh->m.opt->max_loci * sizeof(es_locus_t));
	b->n_loci = es_calloc(b->n, sizeof(int));
	b->wide = es_calloc(b->n, sizeof *b->wide);
}

static void free_loci(batch_t *b)
{
	free(b->loci);
	b->loci = NULL;
	free_wide(b);
}

/* The candidate loci of the reads idx[0, n) of the current batch (n <= ES_MAP_CHUNK; any selection, as one
 * vector-store call), kept by keep_loci. */
static void candidates_of(shared_t *sh, const int *idx, int n)
{
	batch_t *b = sh->cur;
	size_t K = es_map_loci_stride(sh->m.opt);
	es_read_t reads[ES_MAP_CHUNK];   /* side by side as es_map_candidates wants them */
	uint8_t *fw[ES_MAP_CHUNK];
	es_locus_t *loci = es_malloc((size_t)n * K * sizeof *loci);
	int n_loci[ES_MAP_CHUNK];
	for (int k = 0; k < n; k++) {
		reads[k] = b->reads[idx[k]];
		fw[k] = b->fw[idx[k]];
	}
	if (es_map_candidates(&sh->m, n, reads, fw, loci, n_loci) < 0)
		item_failed(sh);
	for (int k = 0; k < n; k++)
		keep_loci(sh, b, idx[k], loci + k * K, n_loci[k]);
	free(loci);
}

/* Paired-end, the insert estimate's block: the candidate loci of reads [Ci, Ci+C) (C = ES_MAP_CHUNK) of pairs
 * [0, p_search). */
static void cand_item(void *arg, int64_t i, int tid)
{
	(void)tid;
	shared_t *sh = arg;
	batch_t *b = sh->cur;
	if (atomic_load(&sh->failed))
		return;
	int i0 = (int)i * ES_MAP_CHUNK, end = 2 * b->p_search;
	int n = end - i0 < ES_MAP_CHUNK ? end - i0 : ES_MAP_CHUNK, idx[ES_MAP_CHUNK];
	for (int k = 0; k < n; k++)
		idx[k] = i0 + k;
	candidates_of(sh, idx, n);
}

/* Paired-end, the insert estimate's block: the verified hits of reads [Ci, Ci+C), kept in the batch for the
 * estimate and then for the pairing (each read is verified once). */
static void hits_item(void *arg, int64_t i, int tid)
{
	shared_t *sh = arg;
	batch_t *b = sh->cur;
	int end = 2 * b->p_search;
	int r1 = (int)(i + 1) * ES_MAP_CHUNK < end ? (int)(i + 1) * ES_MAP_CHUNK : end;
	for (int r = (int)i * ES_MAP_CHUNK; r < r1; r++) {
		int cap = 0;
		b->n_hits[r] = es_map_read_hits(&sh->m, sh->buf[tid], &b->reads[r], b->fw[r], b->rc[r], loci_of(sh, b, r),
		                                b->n_loci[r], &b->hits[r], &cap);
	}
}

/* The insert-size model from the uniquely placed pairs of the first ES_PE_STAT_PAIRS pairs (so it depends neither
 * on the threads nor on the batch size), printed like bwa's. */
static int estimate_insert(shared_t *sh, batch_t *b)
{
	int np = b->p_search, n = 0;
	if (es_for(sh->m.opt->n_threads, hits_item, sh, (2 * np + ES_MAP_CHUNK - 1) / ES_MAP_CHUNK) < 0)
		return -1;
	int *dir = es_malloc((size_t)np * sizeof *dir);
	int64_t *dist = es_malloc((size_t)np * sizeof *dist);
	for (int i = 0; i < np; i++)
		n += es_map_pair_stat(&sh->m, b->hits + 2 * i, b->n_hits + 2 * i, &dir[n], &dist[n]);
	es_pe_model_estimate(&sh->pe, n, dir, dist);
	free(dir);
	free(dist);
	char lines[1024];
	es_pe_model_format(&sh->pe, lines, sizeof lines);
	es_log(2, "align", "insert size from the first %d pairs, %d of them placed uniquely on one contig:", np, n);
	char *save = NULL;
	for (char *l = strtok_r(lines, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		es_log(2, "align", "  %s", l);
	if (!es_pe_model_usable(&sh->pe))
		es_log(2, "align", "too few unique pairs for an insert-size model: mates are placed as single reads "
		       "(set one with -I MEAN,SD)");
	sh->pe_ready = 1;
	return 0;
}

/* Paired-end, second pass: pairs [Ci/2, (i+1)C/2) of the current batch. */
static void pair_item(void *arg, int64_t i, int tid)
{
	shared_t *sh = arg;
	batch_t *b = sh->cur;
	int p1 = (int)(i + 1) * (ES_MAP_CHUNK / 2) < b->n / 2 ? (int)(i + 1) * (ES_MAP_CHUNK / 2) : b->n / 2;
	for (int p = (int)i * (ES_MAP_CHUNK / 2); p < p1 && !atomic_load(&sh->failed); p++) {
		size_t r = 2 * (size_t)p;
		const es_locus_t *loci[2] = { loci_of(sh, b, r), loci_of(sh, b, r + 1) };
		if (es_map_pair(&sh->m, sh->buf[tid], sh->pbuf[tid], &sh->pe, b->reads + r, b->fw + r, b->rc + r, loci,
		                b->n_loci + r, b->hits + r, b->n_hits + r, b->recs + r, b->n_recs + r) < 0)
			item_failed(sh);
	}
}

/* Pairs from p_search on, first pass: mate 1's loci for pairs p_search + [Ci, Ci+C). */
static void cand1_item(void *arg, int64_t i, int tid)
{
	(void)tid;
	shared_t *sh = arg;
	batch_t *b = sh->cur;
	if (atomic_load(&sh->failed))
		return;
	int p0 = b->p_search + (int)i * ES_MAP_CHUNK, np = b->n / 2;
	int n = np - p0 < ES_MAP_CHUNK ? np - p0 : ES_MAP_CHUNK;
	int idx[ES_MAP_CHUNK];
	for (int k = 0; k < n; k++)
		idx[k] = 2 * (p0 + k);
	candidates_of(sh, idx, n);
}

/* Mate 1's hits for pairs p_search + [Ci, Ci+C), and mate 2 placed by rescue alone where mate 1 is unique
 * and the rescue aligns it almost whole (es_map_rescue_mate): such a mate 2 needs no vector search. */
static void rescue_item(void *arg, int64_t i, int tid)
{
	shared_t *sh = arg;
	batch_t *b = sh->cur;
	int pb = b->p_search + (int)i * ES_MAP_CHUNK;
	int p1 = pb + ES_MAP_CHUNK < b->n / 2 ? pb + ES_MAP_CHUNK : b->n / 2;
	for (int p = pb; p < p1 && !atomic_load(&sh->failed); p++) {
		size_t r = 2 * (size_t)p;
		int cap = 0;
		b->n_hits[r] = es_map_read_hits(&sh->m, sh->buf[tid], &b->reads[r], b->fw[r], b->rc[r], loci_of(sh, b, r),
		                                b->n_loci[r], &b->hits[r], &cap);
		b->n_hits[r + 1] = -1;   /* mate 2 not verified yet */
		es_map_rescue_mate(&sh->m, sh->pbuf[tid], &sh->pe, b->reads + r, b->fw + r, b->rc + r, b->hits[r],
		                   b->n_hits[r], &b->hits[r + 1], &b->n_hits[r + 1]);
	}
}

typedef struct { shared_t *sh; const int *need; int n_need; } need_ctx_t;

/* The loci of the mates 2 that rescue did not place, need[Ci, Ci+C) (read indices). */
static void cand2_item(void *arg, int64_t i, int tid)
{
	(void)tid;
	need_ctx_t *c = arg;
	if (atomic_load(&c->sh->failed))
		return;
	int q0 = (int)i * ES_MAP_CHUNK;
	candidates_of(c->sh, c->need + q0, c->n_need - q0 < ES_MAP_CHUNK ? c->n_need - q0 : ES_MAP_CHUNK);
}

/* Pairs from p_search on: mate 1 searched and verified, mate 2 rescued next to it where that suffices, searched
 * otherwise. */
static int search_pairs(shared_t *sh, batch_t *b)
{
	int nt = sh->m.opt->n_threads, np = b->n / 2, ns = np - b->p_search;
	if (ns <= 0)
		return 0;
	if (es_for(nt, cand1_item, sh, (ns + ES_MAP_CHUNK - 1) / ES_MAP_CHUNK) < 0)
		return -1;
	if (!atomic_load(&sh->failed) && es_for(nt, rescue_item, sh, (ns + ES_MAP_CHUNK - 1) / ES_MAP_CHUNK) < 0)
		return -1;
	int *need = es_malloc((size_t)(np + 1) * sizeof *need), n_need = 0;
	for (int p = b->p_search; p < np; p++)
		if (b->n_hits[2 * p + 1] < 0)
			need[n_need++] = 2 * p + 1;
	need_ctx_t c = { sh, need, n_need };
	int ret = 0;
	if (!atomic_load(&sh->failed) && n_need > 0)
		ret = es_for(nt, cand2_item, &c, (n_need + ES_MAP_CHUNK - 1) / ES_MAP_CHUNK);
	free(need);
	return ret;
}

/* Step 1 for pairs. The first ES_PE_STAT_PAIRS pairs of the input are searched whole (both mates) and give the
 * insert model; every later pair searches mate 1 and is rescued next to it where that places mate 2 well, mate 2
 * searched otherwise (search_pairs). Then each pair is decided. */
static int map_batch_pe(shared_t *sh, batch_t *b)
{
	double t0 = es_time();
	int nt = sh->m.opt->n_threads;
	sh->cur = b;
	alloc_loci(sh, b);
	b->hits = es_calloc(b->n, sizeof *b->hits);
	b->n_hits = es_calloc(b->n, sizeof *b->n_hits);
	b->p_search = 0;
	if (!sh->pe_ready) {
		b->p_search = b->n / 2 < ES_PE_STAT_PAIRS ? b->n / 2 : ES_PE_STAT_PAIRS;
		if (es_for(nt, cand_item, sh, (2 * b->p_search + ES_MAP_CHUNK - 1) / ES_MAP_CHUNK) < 0)
			return -1;
		if (!atomic_load(&sh->failed) && estimate_insert(sh, b) < 0)
			return -1;
	}
	if (!atomic_load(&sh->failed) && search_pairs(sh, b) < 0)
		return -1;
	int n_pair_chunks = (b->n / 2 + ES_MAP_CHUNK / 2 - 1) / (ES_MAP_CHUNK / 2);
	if (!atomic_load(&sh->failed) && es_for(nt, pair_item, sh, n_pair_chunks) < 0)
		return -1;
	if (atomic_load(&sh->failed))
		return es_error("%s", sh->err);
	free_loci(b);   /* the records are made: the loci need not wait for the writer */
	b->t_map = es_time() - t0;
	return 0;
}

/* Single-end, the first search of chunk i (ES_MAP_CHUNK reads): the loci of its reads (keep_loci), and which of them
 * a later pass is to search again (b->sat). */
static void first_item(void *arg, int64_t i, int tid)
{
	(void)tid;
	shared_t *sh = arg;
	batch_t *b = sh->cur;
	if (atomic_load(&sh->failed))
		return;
	int i0 = (int)i * ES_MAP_CHUNK, n = b->n - i0 < ES_MAP_CHUNK ? b->n - i0 : ES_MAP_CHUNK;
	size_t K = es_map_loci_stride(sh->m.opt);
	const uint8_t *seqs[ES_MAP_CHUNK];
	int lens[ES_MAP_CHUNK], n_loci[ES_MAP_CHUNK];
	for (int k = 0; k < n; k++) {
		seqs[k] = b->fw[i0 + k];
		lens[k] = b->reads[i0 + k].len;
	}
	es_locus_t *loci = es_malloc((size_t)n * K * sizeof *loci);
	if (es_map_candidates_first(&sh->m, n, seqs, lens, loci, n_loci, b->sat + i0, b->vec + i0) < 0)
		item_failed(sh);
	else
		for (int k = 0; k < n; k++)
			keep_loci(sh, b, i0 + k, loci + k * K, n_loci[k]);
	free(loci);
}

/* The reads of group i of a later pass or the last look (b->wsel split into b->n_wgroups groups) and their search
 * buffers: seqs / lens from the batch, room for K loci per read. */
typedef struct {
	int n;
	const int *sel;          /* the group's reads: batch indexes */
	const uint8_t **seqs;
	int *lens, *n_loci;
	es_locus_t *loci;        /* [n * K] */
} group_buf_t;

/* Group i's reads of b->wsel: [*g0, *g1). */
static void group_range(const batch_t *b, int64_t i, int *g0, int *g1)
{
	*g0 = (int)(i * b->n_wsel / b->n_wgroups);
	*g1 = (int)((i + 1) * b->n_wsel / b->n_wgroups);
}

static void group_init(group_buf_t *g, const batch_t *b, int64_t i, size_t K)
{
	int g0, g1;
	group_range(b, i, &g0, &g1);
	g->n = g1 - g0;
	g->sel = b->wsel + g0;
	g->seqs = es_malloc((size_t)g->n * sizeof *g->seqs);
	g->lens = es_malloc((size_t)g->n * sizeof *g->lens);
	g->n_loci = es_malloc((size_t)g->n * sizeof *g->n_loci);
	g->loci = es_malloc((size_t)g->n * K * sizeof *g->loci);
	for (int k = 0; k < g->n; k++) {
		g->seqs[k] = b->fw[g->sel[k]];
		g->lens[k] = b->reads[g->sel[k]].len;
	}
}

static void group_free(group_buf_t *g)
{
	free(g->seqs);
	free(g->lens);
	free(g->n_loci);
	free(g->loci);
}

/* A read of low score (its best window under the first search's threshold, candidates.c) that aligned at its first
 * loci with at least this fraction of a whole-read match is searched again with ES_DEEP_LIGHT x the index's nprobe
 * lists per chunk (PASS_LIGHT), the others with the full deeper search (ES_DEEP_PROBE x, candidates.c). 1 Gb
 * synthetic genome, 100 bp reads: 12% of them scored low, 72% of those stayed low after the deeper search and 98% of
 * those mapped right all the same (the synthetic contigs' embeddings score lower than chrX's); of the 516 reads the
 * deeper search placed right where the first loci did not, 463 were unmapped there and 53 aligned under 80%. The
 * light search is the guard for the rest: without it, a chrX 100 bp mason read aligned well on one arm of an
 * inverted duplication went to MAPQ 60 there, wrong, as the other arm (its origin) was only in the deeper lists. */
#define ES_DEEP_GATE 0.8
#define ES_DEEP_LIGHT 2
#define PASS_LIGHT 3   /* b->sat of a read for the light deeper search (not 0, 1 or ES_CAND_RETRY) */

/* Single-end, group i of the reads of a later pass (b->wsel, b->wpass): the deeper search of the batch's reads of
 * low score, or the wide pass of its saturated ones. Gathered from every chunk, the queries of a group share each
 * list's scan (search.c), as the few of one chunk did not (20-60 per 1,024 reads). */
static void group_item(void *arg, int64_t i, int tid)
{
	(void)tid;
	shared_t *sh = arg;
	batch_t *b = sh->cur;
	if (atomic_load(&sh->failed))
		return;
	size_t K = es_map_loci_stride(sh->m.opt);
	group_buf_t g;
	group_init(&g, b, i, K);
	int n = g.n;
	const int *sel = g.sel;
	uint8_t *sat = es_malloc((size_t)n);
	const float **vec = es_malloc((size_t)n * sizeof *vec);
	for (int k = 0; k < n; k++) {
		vec[k] = b->vec[sel[k]];
		g.n_loci[k] = b->n_loci[sel[k]];
		memcpy(g.loci + k * K, loci_of(sh, b, sel[k]), (size_t)g.n_loci[k] * sizeof *g.loci);
	}
	int deep = b->wpass == ES_CAND_RETRY || b->wpass == PASS_LIGHT;
	int ret = deep ? es_map_candidates_retry(&sh->m, n, g.seqs, g.lens, b->wpass == PASS_LIGHT ? ES_DEEP_LIGHT : 0,
	                                         g.loci, g.n_loci, sat, vec)
	               : es_map_candidates_widen(&sh->m, n, g.seqs, g.lens, g.loci, g.n_loci, vec);
	if (ret < 0)
		item_failed(sh);
	for (int k = 0; k < n && ret == 0; k++) {
		keep_loci(sh, b, sel[k], g.loci + k * K, g.n_loci[k]);
		b->sat[sel[k]] = deep ? sat[k] : 0;
	}
	group_free(&g);
	free(sat);
	free(vec);
}

/* Single-end, chunk i's reads mapped at their loci on mapping thread tid. */
static void map_item(void *arg, int64_t i, int tid)
{
	shared_t *sh = arg;
	batch_t *b = sh->cur;
	if (atomic_load(&sh->failed))
		return;
	int i0 = (int)i * ES_MAP_CHUNK, n = b->n - i0 < ES_MAP_CHUNK ? b->n - i0 : ES_MAP_CHUNK;
	const es_locus_t *loci[ES_MAP_CHUNK];
	for (int k = 0; k < n; k++)
		loci[k] = loci_of(sh, b, i0 + k);
	if (es_map_with_loci(&sh->m, sh->buf[tid], n, b->reads + i0, b->fw + i0, b->rc + i0, loci, b->n_loci + i0,
	                     b->recs + i0, b->n_recs + i0) < 0)
		item_failed(sh);
}

/* Single-end, group i of the reads of the deeper search (b->wsel) mapped again at their new loci, their first
 * records replaced. */
static void remap_item(void *arg, int64_t i, int tid)
{
	shared_t *sh = arg;
	batch_t *b = sh->cur;
	if (atomic_load(&sh->failed))
		return;
	int g0, g1;
	group_range(b, i, &g0, &g1);
	for (int k = g0; k < g1; k++) {
		int r = b->wsel[k];
		free_recs(b->recs[r], b->n_recs[r]);
		b->recs[r] = NULL;
		b->n_recs[r] = 0;
		const es_locus_t *lp = loci_of(sh, b, r);
		if (es_map_with_loci(&sh->m, sh->buf[tid], 1, &b->reads[r], &b->fw[r], &b->rc[r], &lp, &b->n_loci[r],
		                     &b->recs[r], &b->n_recs[r]) < 0) {
			item_failed(sh);
			return;
		}
	}
}

/* The selected reads b->wsel[0, n_wsel) run through item in groups of at most ES_MAP_CHUNK, at least one per mapping
 * thread while there are reads enough. 0, or -1 when the threads could not be run. */
static int run_groups(shared_t *sh, batch_t *b, es_for_fn item)
{
	int nt = sh->m.opt->n_threads;
	int g = (b->n_wsel + ES_MAP_CHUNK - 1) / ES_MAP_CHUNK;
	b->n_wgroups = g > nt ? g : nt < b->n_wsel ? nt : b->n_wsel;
	return b->n_wgroups > 0 ? es_for(nt, item, sh, b->n_wgroups) : 0;
}

/* b->wsel ready for b->n reads, none selected yet. */
static void select_none(batch_t *b)
{
	if (!b->wsel)
		b->wsel = es_malloc((size_t)b->n * sizeof *b->wsel);
	b->n_wsel = 0;
}

/* The score of a read's primary record (AS:i), or -1 when it is unmapped. */
static int primary_score(bam1_t *const *recs, int n_recs)
{
	if (n_recs < 1 || !recs[0] || (recs[0]->core.flag & 4))
		return -1;
	uint8_t *as = bam_aux_get(recs[0], "AS");
	return as ? (int)bam_aux2i(as) : -1;
}

/* The later pass `pass` of the reads whose b->sat is pass (run_groups). 0, or -1 when the threads could not be
 * run. */
static int later_pass(shared_t *sh, batch_t *b, int pass)
{
	select_none(b);
	for (int r = 0; r < b->n; r++)
		if (b->sat[r] == pass)
			b->wsel[b->n_wsel++] = r;
	b->wpass = pass;
	return run_groups(sh, b, group_item);
}

/* The most MAPQ a read the first search left unmapped gets from the last look. On the make-bench sets (chrX 70 Mb
 * mason / ART 100-250 bp, E. coli 10% / 15% diverged 250 bp) the last look placed 467 such reads, 6 of them wrong
 * (1.3%: MAPQ 19); given the MAPQ of their features, 2 wrong ones sat at MAPQ 30-39 (E. coli 15% diverged) and the
 * error at MAPQ >= 20 of that set rose from 0.035 to 0.045%. */
#define ES_LOOK_FOUND_MAPQ 19

/* Single-end, group i of the last look's reads (b->wsel): each searched again with the look's options (sh->rm:
 * es_map_look_widen times the loci, es_map_look_opt) and verified at them with as many alignments; its records replaced when the new
 * primary aligns better than the old one (a higher AS, or mapped where it was not), else kept: a read's result
 * still depends on that read alone. */
static void look_item(void *arg, int64_t i, int tid)
{
	shared_t *sh = arg;
	batch_t *b = sh->cur;
	if (atomic_load(&sh->failed))
		return;
	size_t K = es_map_loci_stride(&sh->ropt);
	group_buf_t g;
	group_init(&g, b, i, K);
	int ret = es_map_candidates_of(&sh->rm, g.n, g.seqs, g.lens, g.loci, g.n_loci, ES_SEARCH_LOOK);
	for (int k = 0; k < g.n && ret == 0; k++) {
		int r = g.sel[k], n_rec = 0;
		bam1_t **recs = NULL;
		const es_locus_t *lp = g.loci + k * K;
		ret = es_map_with_loci(&sh->rm, sh->buf[tid], 1, &b->reads[r], &b->fw[r], &b->rc[r], &lp, &g.n_loci[k],
		                       &recs, &n_rec);
		int was = primary_score(b->recs[r], b->n_recs[r]);
		if (ret == 0 && primary_score(recs, n_rec) > was) {
			atomic_fetch_add(&b->n_look_better, 1);
			if (was < 0 && recs[0]->core.qual > ES_LOOK_FOUND_MAPQ)
				recs[0]->core.qual = ES_LOOK_FOUND_MAPQ;
			bam1_t **old = b->recs[r];
			int n_old = b->n_recs[r];
			b->recs[r] = recs;
			b->n_recs[r] = n_rec;
			recs = old;
			n_rec = n_old;
		}
		free_recs(recs, n_rec);
	}
	if (ret < 0)
		item_failed(sh);
	group_free(&g);
}

/* The last look of the batch's reads placed at MAPQ <= look_mapq or left unmapped (long enough to be mapped; not
 * those aligned whole without an edit: ~55% of the low-MAPQ reads of chrX, exact copies), in groups (run_groups). chrX 70 Mb, 100 bp mason reads: ~3.5% of them; they hold most of the reads placed
 * wrong, whose own copy is a near-tie among look-alikes the first pass kept too few of (docs/pipeline.md, "The last
 * look"). 0, or -1 when the threads could not be run. */
static int last_look(shared_t *sh, batch_t *b)
{
	const es_map_opt_t *o = sh->m.opt;
	if (o->look_mapq < 0)
		return 0;
	select_none(b);
	for (int r = 0; r < b->n; r++) {
		bam1_t *p = b->n_recs[r] > 0 ? b->recs[r][0] : NULL;
		int len = b->reads[r].len;   /* a read aligned whole without an edit cannot align better */
		if (p && len >= o->min_len && ((p->core.flag & 4) || p->core.qual <= o->look_mapq) &&
		    primary_score(b->recs[r], b->n_recs[r]) < len * o->sc.match)
			b->wsel[b->n_wsel++] = r;
	}
	b->n_looked = b->n_wsel;
	return run_groups(sh, b, look_item);
}

/* The deeper search of the batch's reads of low score, together: the full one for those that aligned poorly at their
 * first loci (ES_DEEP_GATE), the light one for the others; the wide pass of those it leaves saturated, and all of them
 * mapped again at their new loci. 0, or -1 when the threads could not be run. */
static int deep_pass(shared_t *sh, batch_t *b)
{
	const es_map_opt_t *o = sh->m.opt;
	int low = 0;
	for (int r = 0; r < b->n; r++) {
		if (b->sat[r] != ES_CAND_RETRY)
			continue;
		low++;
		if (primary_score(b->recs[r], b->n_recs[r]) >= ES_DEEP_GATE * b->reads[r].len * o->sc.match)
			b->sat[r] = PASS_LIGHT;
	}
	b->n_low = low;
	int *deep = es_malloc(((size_t)low + 1) * sizeof *deep), n_deep = 0, ret = 0;
	for (int pass = 0; pass < 2 && ret == 0 && !atomic_load(&sh->failed); pass++) {
		ret = later_pass(sh, b, pass == 0 ? ES_CAND_RETRY : PASS_LIGHT);
		if (pass == 0)
			b->n_deep = b->n_wsel;
		memcpy(deep + n_deep, b->wsel, (size_t)b->n_wsel * sizeof *deep);
		n_deep += b->n_wsel;
	}
	if (ret == 0 && !atomic_load(&sh->failed))
		ret = later_pass(sh, b, 1);
	if (ret == 0 && !atomic_load(&sh->failed)) {
		memcpy(b->wsel, deep, (size_t)n_deep * sizeof *deep);
		b->n_wsel = n_deep;
		ret = run_groups(sh, b, remap_item);
	}
	free(deep);
	return ret;
}

/* Step 1, single-end: the first search of every read, the wide pass of its saturated reads together, each read
 * verified at its loci, then the deeper search of the reads of low score (deep_pass, its depth by their first
 * alignment) and the last look; on n_threads threads. The result of a read depends on that read alone. */
static int map_batch(shared_t *sh, batch_t *b)
{
	double t0 = es_time();
	int nt = sh->m.opt->n_threads, n_chunks = (b->n + ES_MAP_CHUNK - 1) / ES_MAP_CHUNK;
	sh->cur = b;
	alloc_loci(sh, b);
	b->sat = es_calloc(b->n, 1);
	b->vec = es_calloc(b->n, sizeof *b->vec);
	if (es_for(nt, first_item, sh, n_chunks) < 0)
		return -1;
	if (!atomic_load(&sh->failed) && later_pass(sh, b, 1) < 0)
		return -1;
	if (!atomic_load(&sh->failed) && es_for(nt, map_item, sh, n_chunks) < 0)
		return -1;
	if (!atomic_load(&sh->failed) && deep_pass(sh, b) < 0)
		return -1;
	free_loci(b);
	if (!atomic_load(&sh->failed) && last_look(sh, b) < 0)
		return -1;
	if (atomic_load(&sh->failed))
		return es_error("%s", sh->err);
	free_vectors(b);
	b->t_map = es_time() - t0;
	return 0;
}

/* Step 2: the batch's records in input order, and a progress line. */
static int write_batch(shared_t *sh, batch_t *b)
{
	es_map_stats_t *st = sh->stats;
	double c0 = es_thread_cputime();
	for (int i = 0; i < b->n; i++) {
		if (b->n_recs[i] > 0 && !(b->recs[i][0]->core.flag & 4))
			st->n_mapped++;
		for (int j = 0; j < b->n_recs[i]; j++)
			if (es_sam_write(sh->out, b->recs[i][j]) < 0)
				return -1;
	}
	st->n_reads += b->n;
	st->n_looked += b->n_looked;
	st->n_low += b->n_low;
	st->n_deep += b->n_deep;
	st->n_look_better += atomic_load(&b->n_look_better);
	es_stage_add(ES_STAGE_FORMAT, es_thread_cputime() - c0);
	double t = b->t_map > 0 ? b->t_map : 1e-9;
	es_log(2, "align", "%d reads (%lld in all) in %.1f s, %.0f reads/s", b->n, (long long)st->n_reads, b->t_map,
	       b->n / t);
	return 0;
}

static int run_step(void *shared, int step, void **data)
{
	if (step == STEP_READ)
		return read_batch(shared, data);
	if (step == STEP_MAP)
		return ((shared_t *)shared)->paired ? map_batch_pe(shared, *data) : map_batch(shared, *data);
	return write_batch(shared, *data);
}

/* Option values es_map_file cannot run with, refused before anything is opened or written. */
static int check_opt(const es_map_opt_t *o)
{
	if (o->n_threads < 1 || o->n_threads > ES_MAX_THREADS)
		return es_error("threads: %d requested, the supported range is 1..%d", o->n_threads, ES_MAX_THREADS);
	if (o->max_loci < 1)
		return es_error("candidate loci per read (-K): %d, must be at least 1", o->max_loci);
	if (o->batch_size < 1)
		return es_error("batch size: %d reads, must be at least 1", o->batch_size);
	if (o->n_secondary < 0)
		return es_error("secondary records per read: %d, must be at least 0", o->n_secondary);
	if (o->mate_path && o->interleaved)
		return es_error("paired-end: give either a second reads file or -p (interleaved), not both");
	return 0;
}

/* The insert-size model given with -I, if any (else it is estimated on the first batch). */
static int set_insert(shared_t *sh, const es_map_opt_t *o)
{
	sh->paired = o->mate_path || o->interleaved;
	if (!sh->paired || !o->insert_arg)
		return 0;
	if (es_pe_model_parse(&sh->pe, o->insert_arg) < 0)
		return -1;
	char line[512];
	es_pe_model_format(&sh->pe, line, sizeof line);
	es_log(2, "align", "insert size %s", line);
	sh->pe_ready = 1;
	return 0;
}

/* The index, its encoder (or the one asked for, which must be the index's), the reads and (paired-end from two
 * files) the second mates. */
static int open_inputs(const char *index_path, const char *reads_path, const es_map_opt_t *o, es_index_t **idx,
                       es_encoder_t **enc, es_reader_t **rd, es_reader_t **rd2)
{
	if (!(*idx = es_index_load(index_path)))
		return -1;
	if (o->nprobe > 0 && es_index_ivf_lists(*idx) > 0)
		es_index_set_nprobe(*idx, o->nprobe);
	if (o->encoder_spec) {
		if (!(*enc = es_encoder_open(o->encoder_spec)) || es_index_check_encoder(*idx, *enc) < 0)
			return -1;
	} else if (!(*enc = es_index_open_encoder(*idx))) {
		return -1;
	}
	if (!(*rd = es_reader_open(reads_path)))
		return -1;
	if (o->mate_path && !(*rd2 = es_reader_open(o->mate_path)))
		return -1;
	return 0;
}


/* Run the pipeline into an open output; the output is closed (kept) or aborted (removed) here. */
static int run_pipeline(shared_t *sh, es_sam_out_t *out)
{
	const es_map_opt_t *o = sh->m.opt;
	sh->out = out;
	sh->buf = es_calloc(o->n_threads, sizeof(es_map_buf_t *));
	sh->pbuf = es_calloc(o->n_threads, sizeof(es_pe_buf_t *));
	for (int t = 0; t < o->n_threads; t++) {
		sh->buf[t] = es_map_buf_init(o);
		sh->pbuf[t] = sh->paired ? es_pe_buf_init() : NULL;
	}
	atomic_init(&sh->failed, 0);
	double c0 = es_process_cputime(), none[ES_N_STAGES];
	es_stage_take(none);   /* what an earlier run in this process left */
	int ret = es_pipeline(N_STEPS, run_step, batch_free, sh);
	double *sc = sh->stats->stage_cpu, all = es_process_cputime() - c0, rest;
	es_stage_take(sc);
	rest = all - sc[ES_STAGE_PARSE] - sc[ES_STAGE_EMBED] - sc[ES_STAGE_SEARCH] - sc[ES_STAGE_FORMAT];
	sc[ES_STAGE_VERIFY] = rest > 0 ? rest : 0;   /* locate, align, choose, MAPQ, pair: the rest of the CPU */
	for (int t = 0; t < o->n_threads; t++) {
		es_map_buf_destroy(sh->buf[t]);
		es_pe_buf_destroy(sh->pbuf[t]);
	}
	free(sh->buf);
	free(sh->pbuf);
	if (ret < 0) {
		es_sam_abort(out);
		return -1;
	}
	return es_sam_close(out);
}

int es_map_file(const char *index_path, const char *reads_path, const char *out_path, const es_map_opt_t *opt,
                const char *cmdline, es_map_stats_t *stats)
{
	double t0 = es_time();
	memset(stats, 0, sizeof *stats);
	if (check_opt(opt) < 0)
		return -1;
	es_map_opt_t o = *opt;
	char *rg_id = NULL, *rg_line = NULL;
	if (o.rg_line && !(rg_line = es_map_parse_rg(o.rg_line, &rg_id)))
		return -1;
	o.rg_line = rg_line;
	es_index_t *idx = NULL;
	es_encoder_t *enc = NULL;
	es_reader_t *rd = NULL, *rd2 = NULL;
	sam_hdr_t *hdr = NULL;
	es_sam_out_t *out = NULL;
	int ret = -1;
	if (open_inputs(index_path, reads_path, &o, &idx, &enc, &rd, &rd2) < 0)
		goto done;
	shared_t sh = { .m = { idx, es_index_ref(idx), enc, &o, rg_id }, .reads_path = reads_path, .rd = rd,
	                .mate_path = o.mate_path, .rd2 = rd2 };
	sh.stats = stats;
	es_map_look_opt(&o, es_index_n_windows(idx), &sh.ropt);
	sh.rm = sh.m;
	sh.rm.opt = &sh.ropt;
	if (set_insert(&sh, &o) < 0)
		goto done;
	if (!(hdr = es_sam_header(sh.m.ref, o.rg_line, cmdline)))
		goto done;
	/* every htslib failure of the output becomes one es_error line: its own log lines would come on top */
	enum htsLogLevel log_level = hts_get_log_level();
	hts_set_log_level(HTS_LOG_OFF);
	if ((out = es_sam_open(out_path, hdr)))
		ret = run_pipeline(&sh, out);
	hts_set_log_level(log_level);
done:
	if (hdr)
		sam_hdr_destroy(hdr);
	es_reader_close(rd);
	es_reader_close(rd2);
	es_encoder_destroy(enc);
	es_index_destroy(idx);
	free(rg_id);
	free(rg_line);
	stats->seconds = es_time() - t0;
	return ret;
}
