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
	int step = w * 3 / 4;
	return 1 + (len - w + step - 1) / step;
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
#define ES_DEEP_PROBE 8   /* 8 sqrt(lists): what 4 x 2 sqrt(lists) was, when the first search probed 2 sqrt(lists) */

/* The reads of embed_search whose best window scores below ES_RETRY_SCORE searched again with deeper probes, their
 * results replacing the first ones in ids/sc. */
static int search_again(const es_index_t *idx, int n, const int *qbeg, const float *emb, int dim, int kw, int flags,
                        int64_t *ids, float *sc)
{
	int nr = 0, ret = 0, deep = idx->nprobe * ES_DEEP_PROBE;
	int *rq = es_malloc(((size_t)qbeg[n] + 1) * sizeof(int));   /* the queries searched again */
	for (int i = 0; i < n; i++) {
		float best = -2;
		for (int q = qbeg[i]; q < qbeg[i + 1]; q++)
			best = sc[(size_t)q * kw] > best ? sc[(size_t)q * kw] : best;
		if (qbeg[i + 1] > qbeg[i] && best < ES_RETRY_SCORE)
			for (int q = qbeg[i]; q < qbeg[i + 1]; q++)
				rq[nr++] = q;
	}
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
 * (es_encoder_embed_spans), then search all nq queries, kw windows each, counting this thread's CPU time. 0, or -1
 * with es_error. */
static int embed_search(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                        const int *lens, const int *qbeg, const uint8_t **qs, const int *ql, int kw, int flags,
                        int64_t *ids, float *sc)
{
	int nq = qbeg[n], dim = es_encoder_dim(enc), ret = 0;
	if (nq == 0)
		return 0;
	float *emb = es_malloc((size_t)nq * dim * sizeof(float));
	int *off = es_malloc((size_t)nq * sizeof(int)), *nps = es_malloc((size_t)nq * sizeof(int));
	for (int i = 0; i < n; i++)
		for (int q = qbeg[i]; q < qbeg[i + 1]; q++) {
			off[q] = (int)(qs[q] - seqs[i]);   /* the chunk's start inside its read */
			nps[q] = chunk_nprobe(idx->nprobe, qbeg[i + 1] - qbeg[i]);
		}
	double c0 = es_thread_cputime();
	for (int i = 0; i < n && ret == 0; i++)
		if (qbeg[i + 1] > qbeg[i])
			ret = es_encoder_embed_spans(enc, seqs[i], lens[i], qbeg[i + 1] - qbeg[i], off + qbeg[i],
			                             ql + qbeg[i], emb + (size_t)qbeg[i] * dim);
	double c1 = es_thread_cputime();
	if (ret == 0)
		ret = es_index_search_np(idx, nq, emb, nps, kw, flags, ids, sc);
	if (ret == 0 && idx->hdr.ivf_lists && !(flags & ES_SEARCH_EXACT))
		ret = search_again(idx, n, qbeg, emb, dim, kw, flags, ids, sc);
	double c2 = es_thread_cputime();
	tl_times[0] += c1 - c0;
	tl_times[1] += c2 - c1;
	es_stage_add(ES_STAGE_EMBED, c1 - c0);
	es_stage_add(ES_STAGE_SEARCH, c2 - c1);
	tl_times[2] += nq;
	free(emb);
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

/* One search of reads sel[0,n) (indices into seqs/lens): kw windows per chunk query, up to max_loci loci per read (and
 * up to cap while they score keep_ratio of the best) into loci[sel[j] * stride ..], n_loci[sel[j]]; sat[sel[j]]
 * (may be NULL): 1 when the read had more than max_loci loci and its max_loci-th scores at least ES_SAT_RATIO of its
 * best, or one of its chunks is saturated (chunk_saturated). 0, or -1 with es_error. */
static int candidates_pass(const es_index_t *idx, const es_encoder_t *enc, int n, const int *sel,
                           const uint8_t *const *seqs, const int *lens, int kw, int max_loci, int cap,
                           float keep_ratio, size_t stride, es_locus_t *loci, int *n_loci, uint8_t *sat, int flags)
{
	int w = (int)idx->hdr.w, S = (int)idx->hdr.stride;
	const uint8_t **ss = es_malloc((size_t)(n + 1) * sizeof *ss);
	int *ls = es_malloc((size_t)(n + 1) * sizeof *ls);
	for (int j = 0; j < n; j++) {
		ss[j] = seqs[sel[j]];
		ls[j] = lens[sel[j]];
	}
	int *qbeg, *ql;
	const uint8_t **qs;
	int nq = make_queries(n, ss, ls, w, flags, &qbeg, &qs, &ql);
	int64_t *ids = es_malloc((size_t)(nq + 1) * kw * sizeof(int64_t));
	float *sc = es_malloc((size_t)(nq + 1) * kw * sizeof(float));
	int ret = embed_search(idx, enc, n, ss, ls, qbeg, qs, ql, kw, flags, ids, sc);
	ival_t *iv = NULL, *ivt = NULL;
	es_locus_t *tmp = NULL, *ltmp = NULL;
	float *best = NULL;
	size_t m_iv = 0;
	for (int j = 0; j < n && ret == 0; j++) {
		int i = sel[j], nc = qbeg[j + 1] - qbeg[j], n_all = 0;
		n_loci[i] = 0;
		if (sat)
			sat[i] = 0;
		if (nc == 0)
			continue;
		if (m_iv < (size_t)nc * kw) {   /* sized by the chunk count: no read has too many chunks */
			m_iv = (size_t)nc * kw;
			iv = es_realloc(iv, m_iv * sizeof *iv);
			ivt = es_realloc(ivt, m_iv * sizeof *ivt);
			tmp = es_realloc(tmp, m_iv * sizeof *tmp);
			ltmp = es_realloc(ltmp, m_iv * sizeof *ltmp);
			best = es_realloc(best, (size_t)nc * sizeof *best);
		}
		int64_t pad = (ls[j] > w ? ls[j] - w : 0) + S;
		size_t o = (size_t)qbeg[j] * kw;
		n_loci[i] = read_loci(idx, ids + o, sc + o, nc, kw, pad, max_loci, cap, keep_ratio, iv, ivt, tmp, ltmp,
		                      best, loci + (size_t)i * stride, &n_all);
		if (sat && ((n_all > max_loci && tmp[max_loci - 1].score >= ES_SAT_RATIO * tmp[0].score) ||
		            chunk_saturated(ids + o, sc + o, nc, kw)))
			sat[i] = 1;
	}
	free(iv);
	free(ivt);
	free(tmp);
	free(ltmp);
	free(best);
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

int es_index_candidates_wide(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                             const int *lens, int max_loci, int wide, es_locus_t *loci, int *n_loci, int flags)
{
	if (es_index_check_encoder(idx, enc) != 0)
		return -1;
	if (max_loci < 1 || max_loci > ES_CAND_MAX_LOCI || wide < max_loci || wide > ES_CAND_MAX_LOCI)
		return es_error("%s: candidates: max_loci %d / wide %d out of range (1 <= max_loci <= wide <= %d)",
		                idx->path, max_loci, wide, ES_CAND_MAX_LOCI);
	int *sel = es_malloc((size_t)(n + 1) * sizeof(int));
	uint8_t *sat = wide > max_loci ? es_malloc((size_t)n + 1) : NULL;
	for (int i = 0; i < n; i++)
		sel[i] = i;
	/* windows per query: a locus usually holds several overlapping windows */
	int ret = candidates_pass(idx, enc, n, sel, seqs, lens, 4 * max_loci + 16, max_loci, max_loci, 1, (size_t)wide,
	                          loci, n_loci, sat, flags);
	int ns = 0;
	for (int i = 0; sat && i < n; i++)
		if (sat[i])
			sel[ns++] = i;
	/* a repeat family fills the list, or a chunk lies among more look-alikes than it keeps: other copies may score as
	 * well as these, and an exact copy can rank below the codes re-ranked (ES_SEARCH_DEEP re-ranks twice as many; on
	 * chrX 70 Mb, make-bench reads, correct +0.05 / +0.17 points at 150 bp mason / ART, +0.07 / +0.08 at 250 bp,
	 * +0.09 / +0.04 at 100 bp, at ~1.05x the mapping CPU; four times as many gained +0.03 more at 1.15x) */
	es_locus_t *first = ns > 0 ? es_malloc((size_t)ns * max_loci * sizeof *first) : NULL;
	int *nf = ns > 0 ? es_malloc((size_t)ns * sizeof *nf) : NULL;
	for (int j = 0; j < ns; j++) {
		nf[j] = n_loci[sel[j]];
		memcpy(first + (size_t)j * max_loci, loci + (size_t)sel[j] * wide, nf[j] * sizeof *first);
	}
	if (ret == 0 && ns > 0)
		ret = candidates_pass(idx, enc, ns, sel, seqs, lens, 4 * wide + 16, max_loci, wide, ES_SAT_RATIO,
		                      (size_t)wide, loci, n_loci, NULL, flags | ES_SEARCH_DEEP);
	for (int j = 0; j < ns && ret == 0; j++)
		keep_first_loci(first + (size_t)j * max_loci, nf[j], loci + (size_t)sel[j] * wide, &n_loci[sel[j]], wide);
	free(first);
	free(nf);
	free(sel);
	free(sat);
	return ret;
}

int es_index_candidates(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                        const int *lens, int max_loci, es_locus_t *loci, int *n_loci, int flags)
{
	return es_index_candidates_wide(idx, enc, n, seqs, lens, max_loci, max_loci, loci, n_loci, flags);
}
