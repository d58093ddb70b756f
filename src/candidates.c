/* candidates.c — reads -> candidate loci, the step the aligner calls: cut each read into window-sized chunks, embed
 * and search them, pad each hit window by the read's overhang, merge overlapping intervals into loci that score the
 * sum of each chunk's best window inside them. */
#include "store_priv.h"
#include "util.h"
#include <stdlib.h>
#include <htslib/ksort.h>
#include <string.h>
#include <math.h>

/* CPU seconds of this thread spent embedding and searching in es_index_candidates, and queries searched */
static _Thread_local double tl_times[3];

void es_index_thread_times(double t[3], int reset)
{
	memcpy(t, tl_times, sizeof tl_times);
	if (reset)
		memset(tl_times, 0, sizeof tl_times);
}

typedef struct {
	int64_t beg, end;   /* padded hit window [beg,end), clipped to its contig */
	float s;            /* the window's score */
	int chunk;          /* the read's chunk that hit it */
} ival_t;

/* Intervals by start, then end; loci best first, then by start. Both sorts are stable (equal keys keep their order,
 * as glibc's qsort, a merge sort, kept them): klib's typed merge sort (htslib/ksort.h), whose inline compare cut the
 * sorting of a read's hits to a third of qsort's calls through a pointer. */
#define ival_lt(a, b) ((a).beg != (b).beg ? (a).beg < (b).beg : (a).end < (b).end)
KSORT_INIT_STATIC(ival, ival_t, ival_lt)
#define locus_lt(a, b) ((a).score != (b).score ? (a).score > (b).score : (a).beg < (b).beg)
KSORT_INIT_STATIC(locus, es_locus_t, locus_lt)

/* How a read of len bases is cut: one query up to 5/4 of W (or always with ES_CAND_WHOLE), else chunks of W evenly
 * spread over the read, overlapping by a quarter. */
static int n_chunks(int len, int w, int flags)
{
	if (len * 4 <= w * 5 || (flags & ES_CAND_WHOLE))
		return 1;
	int step = w * 3 / 4, n = 1 + (len - w + step - 1) / step;
	return (flags & ES_CAND_ENDS) && n > 2 ? 2 : n;
}

int es_index_read_queries(const es_index_t *idx, int len, int flags)
{
	return n_chunks(len, es_index_w(idx), flags);
}

/* The queries of n reads: qbeg[i]..qbeg[i+1] are read i's chunks (none for a read under 16 bases or mostly N),
 * starting at qs[] with lengths ql[]. Returns the query count; the arrays are malloc'ed. */
static int make_queries(int n, const uint8_t *const *seqs, const int *lens, int w, int flags, int **qbeg_out,
                        const uint8_t ***qs_out, int **ql_out)
{
	int nq = 0;
	int *qbeg = es_malloc((size_t)(n + 1) * sizeof(int));
	for (int i = 0; i < n; i++) {
		qbeg[i] = nq;
		int nn = 0;
		for (int j = 0; j < lens[i]; j++)
			nn += seqs[i][j] > 3;
		if (lens[i] >= 16 && 2 * nn <= lens[i])
			nq += n_chunks(lens[i], w, flags);
	}
	qbeg[n] = nq;
	const uint8_t **qs = es_malloc((size_t)(nq + 1) * sizeof *qs);
	int *ql = es_malloc((size_t)(nq + 1) * sizeof(int));
	for (int i = 0; i < n; i++) {
		int nc = qbeg[i + 1] - qbeg[i];
		for (int c = 0; c < nc; c++) {
			int off = nc == 1 ? 0 : (int)((int64_t)c * (lens[i] - w) / (nc - 1));
			qs[qbeg[i] + c] = seqs[i] + off;
			ql[qbeg[i] + c] = nc == 1 ? lens[i] : w;
		}
	}
	*qbeg_out = qbeg;
	*qs_out = qs;
	*ql_out = ql;
	return nq;
}

/* Lists probed by each query of a read cut into nc chunks: the index's nprobe for a read of one query; every chunk
 * of a longer read is a further chance to find its locus, so each probes a quarter of the lists per extra chunk, at
 * least 8 (chrX 70 Mb, 4,096 lists, 2,000 reads per length: recall@16 of 150 bp reads 99.40 with 16 lists per chunk
 * against 99.43 with 256; of 250 bp reads 99.90 with 8 and with 64). */
static int chunk_nprobe(int nprobe, int nc)
{
	int np = nc > 4 ? nprobe >> 8 : nprobe >> (2 * (nc - 1));
	int lo = nprobe < 8 ? nprobe : 8;
	return np > lo ? np : lo;
}

/* A read whose best window scores below this after the first search is searched again, every chunk probing
 * ES_DEEP_PROBE times the index's nprobe: the first search probes few lists per chunk, enough for an ordinary read
 * (its best window scores 0.88-0.91 or more for 99% of mason reads of chrX 70 Mb at 100-250 bp), not for a read of
 * a sample 10-20% diverged from the reference (best scores 0.62-0.87 for 90% of them), whose true windows lie further
 * from its vector and so in lists further down the probe order. */
#define ES_RETRY_SCORE 0.85f
/* A read whose max_loci-th locus scores at least this fraction of its best (a repeat family fills its candidate
 * list) is searched again for up to `wide` loci (es_index_candidates_wide), those after the max_loci-th kept while
 * they score this fraction of the best. chrX 70 Mb, 100 bp mason reads: 5.6% of them; the 5 reads placed wrong at
 * MAPQ >= 20, each on one copy of a duplication whose other copy the list had missed, were all among them. */
#define ES_SAT_RATIO 0.9f

/* What a pass does with a read whose best window scores below ES_RETRY_SCORE after its first search:
 * search it again at once (RETRY_NOW); mark it, keeping the loci of its first search, for a later pass (RETRY_LATER;
 * pipeline.c verifies them first, then gathers a batch's reads that aligned poorly there, whose deep searches share
 * each list's scan); or, for the reads so marked,
 * search deep at once without the first search (RETRY_DEEP: what RETRY_NOW's second search gives). */
enum { RETRY_NOW, RETRY_LATER, RETRY_DEEP };

/* Whether the read of queries [q0,q1) (kw hits each in sc) is to be searched again with deeper probes. */
static int needs_retry(const float *sc, int q0, int q1, int kw)
{
	float best = -2;
	for (int q = q0; q < q1; q++)
		best = sc[(size_t)q * kw] > best ? sc[(size_t)q * kw] : best;
	return q1 > q0 && best < ES_RETRY_SCORE;
}

/* The reads of embed_search whose best window scores below ES_RETRY_SCORE searched again with deeper probes, their
 * results replacing the first ones in ids/sc. */
static int search_again(const es_index_t *idx, int n, const int *qbeg, const float *emb, int dim, int kw, int flags,
                        int64_t *ids, float *sc)
{
	int nr = 0, ret = 0, deep = idx->nprobe * ES_DEEP_PROBE;
	int *rq = es_malloc(((size_t)qbeg[n] + 1) * sizeof(int));   /* the queries searched again */
	for (int i = 0; i < n; i++)
		if (needs_retry(sc, qbeg[i], qbeg[i + 1], kw))
			for (int q = qbeg[i]; q < qbeg[i + 1]; q++)
				rq[nr++] = q;
	if (nr > 0) {
		float *e2 = es_malloc((size_t)nr * dim * sizeof(float));
		int64_t *i2 = es_malloc((size_t)nr * kw * sizeof(int64_t));
		float *s2 = es_malloc((size_t)nr * kw * sizeof(float));
		int *np2 = es_malloc((size_t)nr * sizeof(int));
		for (int j = 0; j < nr; j++) {
			memcpy(e2 + (size_t)j * dim, emb + (size_t)rq[j] * dim, dim * sizeof(float));
			np2[j] = deep;
		}
		ret = es_index_search_np(idx, nr, e2, np2, kw, flags, i2, s2);
		for (int j = 0; j < nr && ret == 0; j++) {
			memcpy(ids + (size_t)rq[j] * kw, i2 + (size_t)j * kw, kw * sizeof(int64_t));
			memcpy(sc + (size_t)rq[j] * kw, s2 + (size_t)j * kw, kw * sizeof(float));
		}
		free(e2);
		free(i2);
		free(s2);
		free(np2);
	}
	free(rq);
	return ret;
}

/* Embed read i's chunks qbeg[i]..qbeg[i+1] (qs/ql, inside seqs[i]) with one pass over the read each
 * (es_encoder_embed_spans) into emb, or take their vectors from given[i] (an earlier pass's, when not NULL), then
 * search all nq queries, kw windows each, counting this thread's CPU time; a read of low best score as retry says
 * (RETRY_LATER: later[i] = 1). 0, or -1 with es_error. */
static int embed_search(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                        const int *lens, const int *qbeg, const uint8_t **qs, const int *ql, int kw, int flags,
                        int retry, int depth, const float *const *given, float *emb, uint8_t *later, int64_t *ids,
                        float *sc)
{
	int nq = qbeg[n], dim = es_encoder_dim(enc), ret = 0;
	if (nq == 0)
		return 0;
	int lists = idx->hdr.ivf_lists && !(flags & ES_SEARCH_EXACT);   /* a retry searches more of them */
	int *off = es_malloc((size_t)nq * sizeof(int)), *nps = es_malloc((size_t)nq * sizeof(int));
	for (int i = 0; i < n; i++)
		for (int q = qbeg[i]; q < qbeg[i + 1]; q++) {
			off[q] = (int)(qs[q] - seqs[i]);   /* the chunk's start inside its read */
			nps[q] = lists && retry == RETRY_DEEP ? idx->nprobe * depth
			                                      : chunk_nprobe(idx->nprobe, qbeg[i + 1] - qbeg[i]);
		}
	double c0 = es_thread_cputime();
	for (int i = 0; i < n && ret == 0; i++)
		if (given && given[i])
			memcpy(emb + (size_t)qbeg[i] * dim, given[i], (size_t)(qbeg[i + 1] - qbeg[i]) * dim * sizeof(float));
		else if (qbeg[i + 1] > qbeg[i])
			ret = es_encoder_embed_spans(enc, seqs[i], lens[i], qbeg[i + 1] - qbeg[i], off + qbeg[i],
			                             ql + qbeg[i], emb + (size_t)qbeg[i] * dim);
	double c1 = es_thread_cputime();
	if (ret == 0)
		ret = es_index_search_np(idx, nq, emb, nps, kw, flags, ids, sc);
	if (ret == 0 && lists && retry == RETRY_NOW)
		ret = search_again(idx, n, qbeg, emb, dim, kw, flags, ids, sc);
	for (int i = 0; ret == 0 && lists && retry == RETRY_LATER && i < n; i++)
		later[i] = (uint8_t)needs_retry(sc, qbeg[i], qbeg[i + 1], kw);
	double c2 = es_thread_cputime();
	tl_times[0] += c1 - c0;
	tl_times[1] += c2 - c1;
	es_stage_add(ES_STAGE_EMBED, c1 - c0);
	es_stage_add(ES_STAGE_SEARCH, c2 - c1);
	tl_times[2] += nq;
	free(off);
	free(nps);
	return ret != 0 ? -1 : 0;
}

/* The hits of one read's nc chunks (kw each, -1 ends a chunk's list), padded by pad on both sides and clipped to
 * their contig, into iv (sorted by position; ivt: as much scratch). Returns their number. */
static int hit_intervals(const es_index_t *idx, const int64_t *ids, const float *sc, int nc, int kw, int64_t pad,
                         ival_t *iv, ival_t *ivt)
{
	int niv = 0, w = (int)idx->hdr.w;
	for (int c = 0; c < nc; c++)
		for (int j = 0; j < kw; j++) {
			int64_t id = ids[(size_t)c * kw + j];
			if (id < 0)
				break;
			int64_t b = es_index_wstart(idx, id);
			int ci = es_ref_contig_at(&idx->ref, b);
			int64_t e = es_window_end(&idx->ref, idx->contig_end, b, w), coff = idx->ref.contig[ci].off;
			ival_t *x = &iv[niv++];
			x->beg = b - pad > coff ? b - pad : coff;
			x->end = e + pad < idx->contig_end[ci] ? e + pad : idx->contig_end[ci];
			x->s = sc[(size_t)c * kw + j];
			x->chunk = c;
		}
	ks_mergesort(ival, (size_t)niv, iv, ivt);
	return niv;
}

/* Merge overlapping intervals into loci (they never merge across contigs: clipped intervals of two contigs are
 * disjoint); a locus scores the sum over chunks of each chunk's best window inside it. best holds nc floats.
 * Returns the number of loci written to out. */
static int merge_loci(const ival_t *iv, int niv, int nc, float *best, es_locus_t *out)
{
	int nl = 0;
	for (int a = 0; a < niv;) {
		int64_t b = iv[a].beg, e = iv[a].end;
		for (int c = 0; c < nc; c++)
			best[c] = -INFINITY;
		int z = a;
		for (; z < niv && iv[z].beg < e; z++) {
			if (iv[z].end > e)
				e = iv[z].end;
			if (iv[z].s > best[iv[z].chunk])
				best[iv[z].chunk] = iv[z].s;
		}
		float s = 0;
		for (int c = 0; c < nc; c++)
			if (best[c] > -INFINITY)
				s += best[c];
		out[nl].beg = b;
		out[nl].end = e;
		out[nl].score = s;
		nl++;
		a = z;
	}
	return nl;
}

/* The loci of read i (nc chunks, its hits at ids/sc, kw per chunk), best first, at most cap into out; keep_ratio:
 * loci after the first max_loci are kept only while they score at least this fraction of the best. iv, ivt, tmp,
 * ltmp: scratch of nc * kw; best: of nc. Returns the number kept; *n_all the number before the cut. */
static int read_loci(const es_index_t *idx, const int64_t *ids, const float *sc, int nc, int kw, int64_t pad,
                     int max_loci, int cap, float keep_ratio, ival_t *iv, ival_t *ivt, es_locus_t *tmp,
                     es_locus_t *ltmp, float *best, es_locus_t *out, int *n_all)
{
	int niv = hit_intervals(idx, ids, sc, nc, kw, pad, iv, ivt);
	int nl = merge_loci(iv, niv, nc, best, tmp);
	*n_all = nl;
	/* only the cap best are kept: select them (loci are disjoint, so locus_lt is a total order and any selection
	 * gives the same set), then sort those */
	if (nl > cap)
		ks_ksmall(locus, (size_t)nl, tmp, (size_t)cap - 1);
	ks_mergesort(locus, (size_t)(nl < cap ? nl : cap), tmp, ltmp);
	int keep = nl < max_loci ? nl : max_loci;
	while (keep < nl && keep < cap && tmp[keep].score >= keep_ratio * tmp[0].score)
		keep++;
	memcpy(out, tmp, keep * sizeof *tmp);
	return keep;
}

/* Whether one of a read's nc chunk queries (kw windows each) is saturated: its kw-th window scores at least
 * ES_SAT_RATIO of its best, so more look-alikes than it keeps lie around it (a chunk inside a microsatellite or a
 * repeat family), and its re-ranked codes may have left out an exact copy of the read. */
static int chunk_saturated(const int64_t *ids, const float *sc, int nc, int kw)
{
	for (int c = 0; c < nc; c++) {
		const int64_t *id = ids + (size_t)c * kw;
		const float *s = sc + (size_t)c * kw;
		if (id[kw - 1] >= 0 && s[0] > 0 && s[kw - 1] >= ES_SAT_RATIO * s[0])
			return 1;
	}
	return 0;
}

/* What one search of candidates_pass makes: kw windows per chunk query, up to max_loci loci per read (and up to cap
 * while they score keep_ratio of the best), at stride in the loci array; the treatment of a low-scoring read
 * (retry, above); whether the wide pass may follow (widen: sat says which reads it is for); and the query vectors
 * taken from an earlier pass or kept for a later one. */
typedef struct {
	int kw, max_loci, cap;
	float keep_ratio;
	size_t stride;
	int retry, widen;
	int depth;                   /* RETRY_DEEP: each chunk probes depth x the index's nprobe lists */
	const float *const *given;   /* may be NULL: read i's query vectors from an earlier pass, when given[i] */
	float **keep;                /* may be NULL: keep[i] gets a malloc'ed copy of read i's query vectors when its sat
	                              * is not 0 (a later pass may take them), else NULL */
} pass_t;

/* The scratch of pass_loci, grown as the chunks of a read need, reused over a pass's reads. */
typedef struct {
	ival_t *iv, *ivt;
	es_locus_t *tmp, *ltmp;
	float *best;
	size_t m_iv;
} loci_scratch_t;

/* The loci of read j of a pass (nc chunk queries, its hits at ids/sc) into loci; the scratch grown as the chunks
 * need. Returns 1 when the wide pass is to search it again (more than max_loci loci whose max_loci-th scores at
 * least ES_SAT_RATIO of its best, or a saturated chunk), else 0. */
static int pass_loci(const es_index_t *idx, const pass_t *p, const int64_t *ids, const float *sc, int nc, int len,
                     loci_scratch_t *x, es_locus_t *loci, int *n_loci)
{
	int w = (int)idx->hdr.w, S = (int)idx->hdr.stride, kw = p->kw, n_all = 0;
	if (x->m_iv < (size_t)nc * kw) {   /* sized by the chunk count: no read has too many chunks */
		x->m_iv = (size_t)nc * kw;
		x->iv = es_realloc(x->iv, x->m_iv * sizeof *x->iv);
		x->ivt = es_realloc(x->ivt, x->m_iv * sizeof *x->ivt);
		x->tmp = es_realloc(x->tmp, x->m_iv * sizeof *x->tmp);
		x->ltmp = es_realloc(x->ltmp, x->m_iv * sizeof *x->ltmp);
		x->best = es_realloc(x->best, (size_t)nc * sizeof *x->best);
	}
	int64_t pad = (len > w ? len - w : 0) + S;
	*n_loci = read_loci(idx, ids, sc, nc, kw, pad, p->max_loci, p->cap, p->keep_ratio, x->iv, x->ivt, x->tmp,
	                    x->ltmp, x->best, loci, &n_all);
	return p->widen && ((n_all > p->max_loci && x->tmp[p->max_loci - 1].score >= ES_SAT_RATIO * x->tmp[0].score) ||
	                    chunk_saturated(ids, sc, nc, kw));
}

static float *copy_floats(const float *x, size_t n)
{
	float *y = es_malloc(n * sizeof *y);
	memcpy(y, x, n * sizeof *y);
	return y;
}

/* One search of reads sel[0,n) (indices into seqs/lens) as p says: loci into loci[sel[j] * stride ..],
 * n_loci[sel[j]]; sat[sel[j]] (may be NULL unless retry is RETRY_LATER): ES_CAND_RETRY for a read RETRY_LATER
 * marks for the deeper search (its first loci still given), else 1 for a read the wide pass is to search again
 * (pass_loci), else 0. 0, or -1 with es_error. */
static int candidates_pass(const es_index_t *idx, const es_encoder_t *enc, int n, const int *sel,
                           const uint8_t *const *seqs, const int *lens, const pass_t *p, es_locus_t *loci,
                           int *n_loci, uint8_t *sat, int flags)
{
	const uint8_t **ss = es_malloc((size_t)(n + 1) * sizeof *ss);
	int *ls = es_malloc((size_t)(n + 1) * sizeof *ls);
	for (int j = 0; j < n; j++) {
		ss[j] = seqs[sel[j]];
		ls[j] = lens[sel[j]];
	}
	int *qbeg, *ql, kw = p->kw;
	const uint8_t **qs;
	int nq = make_queries(n, ss, ls, (int)idx->hdr.w, flags, &qbeg, &qs, &ql);
	int64_t *ids = es_malloc((size_t)(nq + 1) * kw * sizeof(int64_t));
	float *sc = es_malloc((size_t)(nq + 1) * kw * sizeof(float));
	uint8_t *later = es_calloc((size_t)n + 1, 1);
	int dim = es_encoder_dim(enc);
	float *emb = es_malloc(((size_t)nq + 1) * dim * sizeof(float));
	const float **given = p->given ? es_malloc((size_t)(n + 1) * sizeof *given) : NULL;
	for (int j = 0; given && j < n; j++) {   /* ES_CAND_MIDDLE: vectors of the end chunks, not of every chunk */
		int w = (int)idx->hdr.w;
		int same = !(flags & ES_CAND_MIDDLE) || n_chunks(ls[j], w, flags) == n_chunks(ls[j], w, flags | ES_CAND_ENDS);
		given[j] = same ? p->given[sel[j]] : NULL;
	}
	int ret = embed_search(idx, enc, n, ss, ls, qbeg, qs, ql, kw, flags, p->retry, p->depth, given, emb, later,
	                       ids, sc);
	loci_scratch_t x = { 0 };
	for (int j = 0; j < n && ret == 0; j++) {
		int i = sel[j], nc = qbeg[j + 1] - qbeg[j], widen = 0;
		size_t o = (size_t)qbeg[j] * kw;
		n_loci[i] = 0;
		if (nc > 0)
			widen = pass_loci(idx, p, ids + o, sc + o, nc, ls[j], &x, loci + (size_t)i * p->stride, &n_loci[i]);
		if (later[j])   /* its first loci kept: the caller verifies them before it decides on the deeper search */
			widen = ES_CAND_RETRY;
		if (sat)
			sat[i] = (uint8_t)widen;
		if (p->keep)
			p->keep[i] = widen ? copy_floats(emb + (size_t)qbeg[j] * dim, (size_t)nc * dim) : NULL;
	}
	free(x.iv);
	free(x.ivt);
	free(x.tmp);
	free(x.ltmp);
	free(x.best);
	free(later);
	free(emb);
	free(given);
	free(qbeg);
	free(qs);
	free(ql);
	free(ids);
	free(sc);
	free(ss);
	free(ls);
	return ret;
}

/* Read i's first-pass loci first[0,nf) that overlap none of its wide-pass loci added to them (loci[0,*nl), room
 * for wide), best first: the wide pass, with more windows per chunk, can rank look-alikes found by every chunk above a
 * copy found by fewer, and drop it (chrX 250 bp ART: a read of the inverted duplication at X:52.13 / 52.37 Mb, a tie
 * after the first pass, at MAPQ 60 after the wide one). */
static void keep_first_loci(const es_locus_t *first, int nf, es_locus_t *loci, int *nl, int wide)
{
	int n0 = *nl;
	for (int a = 0; a < nf && *nl < wide; a++) {
		int seen = 0;
		for (int b = 0; b < n0 && !seen; b++)
			seen = first[a].beg < loci[b].end && loci[b].beg < first[a].end;
		if (!seen)
			loci[(*nl)++] = first[a];
	}
	if (*nl > n0)
		ks_mergesort(locus, (size_t)*nl, loci, NULL);
}

static int check_loci_args(const es_index_t *idx, const es_encoder_t *enc, int max_loci, int wide)
{
	if (es_index_check_encoder(idx, enc) != 0)
		return -1;
	if (max_loci < 1 || max_loci > ES_CAND_MAX_LOCI || wide < max_loci || wide > ES_CAND_MAX_LOCI)
		return es_error("%s: candidates: max_loci %d / wide %d out of range (1 <= max_loci <= wide <= %d)",
		                idx->path, max_loci, wide, ES_CAND_MAX_LOCI);
	return 0;
}

/* The first pass of reads sel[0,n): retry RETRY_NOW, RETRY_LATER (sat ES_CAND_RETRY for a read left to
 * es_index_candidates_retry) or RETRY_DEEP (those reads); vec as pass_t's given (RETRY_DEEP) or keep (the others). */
static int first_sel(const es_index_t *idx, const es_encoder_t *enc, int n, const int *sel, const uint8_t *const *seqs,
                     const int *lens, int max_loci, int wide, int retry, int depth, float **vec, es_locus_t *loci,
                     int *n_loci, uint8_t *sat, int flags)
{
	/* windows per query: a locus usually holds several overlapping windows */
	pass_t p = { 4 * max_loci + 16, max_loci, max_loci, 1, (size_t)wide, retry, wide > max_loci, depth, NULL, NULL };
	if (retry == RETRY_DEEP)
		p.given = (const float *const *)vec;
	else
		p.keep = vec;
	return candidates_pass(idx, enc, n, sel, seqs, lens, &p, loci, n_loci, sat, flags);
}

static int *identity(int n)
{
	int *sel = es_malloc((size_t)(n + 1) * sizeof(int));
	for (int i = 0; i < n; i++)
		sel[i] = i;
	return sel;
}

int es_index_candidates_first(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                              const int *lens, int max_loci, int wide, es_locus_t *loci, int *n_loci, uint8_t *sat,
                              float **vec, int flags)
{
	if (check_loci_args(idx, enc, max_loci, wide) != 0)
		return -1;
	int *sel = identity(n);
	int ret = first_sel(idx, enc, n, sel, seqs, lens, max_loci, wide, RETRY_LATER, 0, vec, loci, n_loci, sat, flags);
	free(sel);
	return ret;
}

int es_index_candidates_retry(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                              const int *lens, int max_loci, int wide, int depth, es_locus_t *loci, int *n_loci,
                              uint8_t *sat, const float *const *vec, int flags)
{
	if (check_loci_args(idx, enc, max_loci, wide) != 0)
		return -1;
	if (depth < 1)
		depth = ES_DEEP_PROBE;
	int *sel = identity(n);
	int ret = first_sel(idx, enc, n, sel, seqs, lens, max_loci, wide, RETRY_DEEP, depth, (float **)vec, loci, n_loci,
	                    sat, flags);
	free(sel);
	return ret;
}

/* The wide pass of reads sel[0,ns), their first-pass loci in loci[sel[j] * wide ..] and their query vectors in
 * vec[sel[j]] when vec is not NULL (es_index_candidates_wide). */
static int widen_sel(const es_index_t *idx, const es_encoder_t *enc, int ns, const int *sel,
                     const uint8_t *const *seqs, const int *lens, int max_loci, int wide, es_locus_t *loci,
                     int *n_loci, const float *const *vec, int flags)
{
	/* a repeat family fills the list, or a chunk lies among more look-alikes than it keeps: other copies may score as
	 * well as these, and an exact copy can rank below the codes re-ranked (ES_SEARCH_DEEP re-ranks twice as many; on
	 * chrX 70 Mb, make-bench reads, correct +0.05 / +0.17 points at 150 bp mason / ART, +0.07 / +0.08 at 250 bp,
	 * +0.09 / +0.04 at 100 bp, at ~1.05x the mapping CPU; four times as many gained +0.03 more at 1.15x) */
	if (ns == 0)
		return 0;
	es_locus_t *first = es_malloc((size_t)ns * max_loci * sizeof *first);
	int *nf = es_malloc((size_t)ns * sizeof *nf);
	for (int j = 0; j < ns; j++) {
		nf[j] = n_loci[sel[j]] < max_loci ? n_loci[sel[j]] : max_loci;
		memcpy(first + (size_t)j * max_loci, loci + (size_t)sel[j] * wide, nf[j] * sizeof *first);
	}
	pass_t p = { 4 * wide + 16, max_loci, wide, ES_SAT_RATIO, (size_t)wide, RETRY_NOW, 0, 0, vec, NULL };
	int ret = candidates_pass(idx, enc, ns, sel, seqs, lens, &p, loci, n_loci, NULL, flags | ES_SEARCH_DEEP);
	for (int j = 0; j < ns && ret == 0; j++)
		keep_first_loci(first + (size_t)j * max_loci, nf[j], loci + (size_t)sel[j] * wide, &n_loci[sel[j]], wide);
	free(first);
	free(nf);
	return ret;
}

int es_index_candidates_widen(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                              const int *lens, int max_loci, int wide, es_locus_t *loci, int *n_loci,
                              const float *const *vec, int flags)
{
	if (check_loci_args(idx, enc, max_loci, wide) != 0)
		return -1;
	int *sel = identity(n);
	int ret = widen_sel(idx, enc, n, sel, seqs, lens, max_loci, wide, loci, n_loci, vec, flags);
	free(sel);
	return ret;
}

static void free_vectors(float **vec, int n)
{
	for (int i = 0; vec && i < n; i++)
		free(vec[i]);
	free(vec);
}

int es_index_candidates_wide(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                             const int *lens, int max_loci, int wide, es_locus_t *loci, int *n_loci, int flags)
{
	if (check_loci_args(idx, enc, max_loci, wide) != 0)
		return -1;
	uint8_t *sat = es_malloc((size_t)n + 1);
	float **vec = es_calloc((size_t)n + 1, sizeof *vec);   /* the wide pass's reads are not embedded again */
	int *sel = identity(n), ns = 0;
	int ret = first_sel(idx, enc, n, sel, seqs, lens, max_loci, wide, RETRY_NOW, 0, vec, loci, n_loci, sat, flags);
	for (int i = 0; ret == 0 && i < n; i++)
		if (sat[i])
			sel[ns++] = i;
	if (ret == 0)
		ret = widen_sel(idx, enc, ns, sel, seqs, lens, max_loci, wide, loci, n_loci, (const float *const *)vec, flags);
	free_vectors(vec, n);
	free(sel);
	free(sat);
	return ret;
}

int es_index_candidates(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                        const int *lens, int max_loci, es_locus_t *loci, int *n_loci, int flags)
{
	return es_index_candidates_wide(idx, enc, n, seqs, lens, max_loci, max_loci, loci, n_loci, flags);
}
