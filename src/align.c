/* align.c — es_align: a read against a candidate reference region with bwa mem's scoring and end-clipping rule.
 * Picks a DP fill kernel at run time (AVX2, else scalar; AVX-512BW on request), traces back through the stored H
 * matrix, builds the CIGAR with soft clips, and computes NM/MD. The kernels (align_kern.h) live in align_ref.c
 * and align_simd.c. */
#include "align_kern.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <stdatomic.h>

es_score_t es_score_default(void)
{
	es_score_t s = { .match = 1, .mismatch = 4, .gap_open = 6, .gap_ext = 1, .n_score = -1, .clip_pen = 5 };
	return s;
}

void es_aln_free(es_aln_t *a)
{
	if (!a)
		return;
	free(a->cigar);
	free(a->md);
	memset(a, 0, sizeof *a);
}

int es_align_has_kernel(int kernel)
{
	switch (kernel) {
	case 0:
		return 1;
#if defined(__x86_64__) || defined(__i386__)
	case 1:
		return __builtin_cpu_supports("avx2");
	case 2:
		return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#endif
	default:
		return 0;
	}
}

/* AVX2 is the default even where AVX-512 exists: on the AMD EPYC (Zen 4) we develop on, the 32-lane kernel measured
 * no faster (250 bp vs 330 bp score-only: 13.1-13.7 us AVX2, 13.5-14.0 us AVX-512; test align_bench), since Zen 4
 * splits 512-bit operations. CPUs with native 512-bit units may gain; not measured, so not the default. */
static int auto_kernel(void)
{
	static _Atomic int k = -1;  /* every thread that races here computes the same value */
	int v = atomic_load_explicit(&k, memory_order_relaxed);
	if (v < 0) {
		v = es_align_has_kernel(1) ? 1 : 0;
		atomic_store_explicit(&k, v, memory_order_relaxed);
	}
	return v;
}

const char *es_align_kernel(void)
{
	static const char *names[] = { "scalar", "avx2", "avx512" };
	return names[auto_kernel()];
}

/* One scoring value: lo <= v <= hi, else an error naming it. */
static int check_score(const char *field, int v, int lo, int hi)
{
	if (v < lo || v > hi)
		return es_error("es_align: scoring %s %d outside [%d,%d]", field, v, lo, hi);
	return 0;
}

static int check_scoring(const es_score_t *sc)
{
	if (check_score("match", sc->match, 1, 1000) < 0)
		return -1;
	if (check_score("mismatch", sc->mismatch, 0, 1000) < 0)
		return -1;
	if (check_score("gap_open", sc->gap_open, 0, 1000) < 0)
		return -1;
	if (check_score("gap_ext", sc->gap_ext, 1, 1000) < 0)
		return -1;
	if (check_score("clip_pen", sc->clip_pen, 0, 1000) < 0)
		return -1;
	return check_score("n_score", sc->n_score, -1000, sc->match);
}

/* Codes 0..4 only; what names the sequence in the message ("query", "target"). */
static int check_codes(const char *what, const uint8_t *s, int len)
{
	for (int i = 0; i < len; i++)
		if (s[i] > 4)
			return es_error("es_align: %s code %d at %d (want 0..4)", what, s[i], i);
	return 0;
}

/* Check the arguments and fill the kernels' scaled scoring *p. */
static int check_args(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, es_swp_t *p)
{
	if (!q || !t || !sc)
		return es_error("es_align: NULL argument");
	if (qlen < 1 || tlen < 1)
		return es_error("es_align: empty sequence (qlen %d, tlen %d)", qlen, tlen);
	if (check_scoring(sc) < 0)
		return -1;
	if (qlen > (1 << 20) || (int64_t)qlen * tlen > ((int64_t)1 << 28))
		return es_error("es_align: sequences too long (qlen %d, tlen %d)", qlen, tlen);
	/* the scaled objective must fit the 32-bit kernel (E and F never fall below -(gap_open+gap_ext)*K) */
	if (((int64_t)qlen * sc->match + 2 * (int64_t)sc->clip_pen) * ES_SW_K > ((int64_t)1 << 30))
		return es_error("es_align: scores too large for qlen %d (match %d)", qlen, sc->match);
	if (check_codes("query", q, qlen) < 0 || check_codes("target", t, tlen) < 0)
		return -1;
	for (int a = 0; a < 5; a++)
		for (int b = 0; b < 5; b++) {
			int s = a == 4 || b == 4 ? sc->n_score : a == b ? sc->match : -sc->mismatch;
			p->mat[a * 5 + b] = ES_SW_K * s;
		}
	p->oe = ES_SW_K * (sc->gap_open + sc->gap_ext);
	p->ge = ES_SW_K * sc->gap_ext;
	/* bonus K*c-1: fewer bonuses win ties. With c = 0 there is nothing to prefer and -1 would act as a penalty. */
	p->bonus = sc->clip_pen ? ES_SW_K * sc->clip_pen - 1 : 0;
	return 0;
}

/* bytes of buf's memory (64-byte aligned), reusing what it holds when that is enough. NULL when out of memory. */
static void *buf_get(es_align_buf_t *buf, size_t bytes)
{
	bytes = (bytes + 63) & ~(size_t)63;
	if (bytes <= buf->cap)
		return buf->p;
	size_t cap = bytes + bytes / 2;   /* headroom, so that slightly longer targets do not reallocate */
	cap = (cap + 63) & ~(size_t)63;
	free(buf->p);
	buf->p = aligned_alloc(64, cap);
	buf->cap = buf->p ? cap : 0;
	return buf->p;
}

void es_align_buf_free(es_align_buf_t *buf)
{
	free(buf->p);
	buf->p = NULL;
	buf->cap = 0;
}

/* A 16-bit SIMD kernel's fill (kernel 1 avx2, 2 avx512). Returns 0, 1 if the scores overflow 16 bits, or -1
 * (es_error) when out of memory. store: H goes into buf's memory. */
static int fill16(int kernel, const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int store,
                  es_align_buf_t *buf, es_swmat_t *m)
{
	int seglen = kernel == 2 ? es_sw_avx512_seglen(qlen) : es_sw_avx2_seglen(qlen);
	int w = kernel == 2 ? 32 : 16;
	int16_t *H = NULL;
	if (store) {
		size_t bytes = (size_t)(tlen + 1) * seglen * w * sizeof(int16_t);
		if (!(H = buf_get(buf, bytes)))
			return es_error("es_align: out of memory (%zu bytes)", bytes);
	}
	int r = kernel == 2 ? es_sw_avx512(q, qlen, t, tlen, p, H, m) : es_sw_avx2(q, qlen, t, tlen, p, H, m);
	return r == 0 ? 0 : 1;
}

/* Run the fill of `kernel` (falling back to 32-bit scalar when 16 bits cannot hold the scores). store: keep the
 * matrices for a traceback, in buf's memory. */
static int fill(int kernel, const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int store,
                es_align_buf_t *buf, es_swmat_t *m)
{
	if (kernel < 0)
		kernel = auto_kernel();
	else if (!es_align_has_kernel(kernel))
		return es_error("es_align: this CPU cannot run kernel %d", kernel);
	if (kernel == 1 || kernel == 2) {
		int r = fill16(kernel, q, qlen, t, tlen, p, store, buf, m);
		if (r <= 0)
			return r;
	}
	int32_t *H = NULL;  /* scalar kernel, or scores overflow 16 bits: do it in 32 */
	if (store && !(H = buf_get(buf, (size_t)(tlen + 1) * qlen * sizeof(int32_t))))
		return es_error("es_align: out of memory");
	return es_sw_scalar(q, qlen, t, tlen, p, H, m);
}

/* The traceback's view of H: row offsets precomputed (a division per access cost ~3 us per 250 bp read). */
typedef struct {
	const es_swmat_t *m;
	size_t col;       /* elements per column */
	int32_t *rowoff;  /* offset of row i within a column */
} tbview_t;

static inline int getH(const tbview_t *tv, int i, int j)  /* j >= -1 */
{
	size_t k = (size_t)(j + 1) * tv->col + (size_t)tv->rowoff[i];
	return tv->m->H16 ? tv->m->H16[k] : tv->m->H32[k];
}

/* Does a deletion end at (i,j) with value exactly v? E[i][j] = max over k >= 1 of H[i][j-k] - oe - ge*(k-1), and
 * E <= v there, so look for a k giving v; H <= best bounds how far left one can come from. Keeping E would double
 * the memory the fill writes, for a question asked only at the few gap ends. */
static int deletion_ends_here(const tbview_t *tv, const es_swp_t *p, int i, int j, int v)
{
	for (int k = 1; j - k >= -1 && p->oe + p->ge * (k - 1) <= tv->m->best - v; k++)
		if (getH(tv, i, j - k) - p->oe - p->ge * (k - 1) == v)
			return 1;
	return 0;
}

/* Scaled bonus-free score of the objective value v of an alignment of nb bonuses (v = K*(score + c*nb) - nb). */
static int unscale(int v, int nb, const es_score_t *sc)
{
	if (!sc->clip_pen)
		nb = 0;
	return (v + nb) / ES_SW_K - sc->clip_pen * nb;
}

static int push_op(uint32_t *cig, int n, int op, int len)
{
	if (len <= 0)
		return n;
	if (n > 0 && (cig[n - 1] & 0xf) == (uint32_t)op)
		cig[n - 1] += (uint32_t)len << 4;
	else
		cig[n++] = (uint32_t)len << 4 | op;
	return n;
}

/* Walk back from the best cell. States: H (the cell's value), E (in a deletion), F (in an insertion); the value v
 * being explained is always > 0 (see es_align in esalign.h for the order of preference). A gap is walked until the
 * first cell from which opening it gives v: the shortest gap, the same one E/F's "open over extend" choice would
 * give.
 * Writes the operations last first into ops and returns their number, with the first aligned cell in *i0, *j0;
 * -1 on an inconsistent matrix. */
static int walk_back(const tbview_t *tv, const uint8_t *q, int qlen, const uint8_t *t, const es_swp_t *p,
                     char *ops, int *i0, int *j0)
{
	const es_swmat_t *m = tv->m;
	int i = m->bi;
	int j = m->bj;
	int v = m->best;
	int state = 0;  /* 0 H, 1 E, 2 F */
	int nops = 0;
	for (;;) {
		*i0 = i;
		*j0 = j;
		if (i < 0 || j < 0 || nops > qlen + m->bj + 1)
			return -1;
		if (state == 0) {
			int prev = i == 0 ? p->bonus : j == 0 ? 0 : getH(tv, i - 1, j - 1);
			int s = p->mat[q[i] * 5 + t[j]] + (i == qlen - 1 ? p->bonus : 0);
			if (v == prev + s) {
				ops[nops++] = 'M';
				if (i == 0 || j == 0 || prev == 0)
					return nops;  /* the alignment starts here */
				i--;
				j--;
				v = prev;
			} else if (deletion_ends_here(tv, p, i, j, v)) {
				state = 1;
			} else if (i > 0) {
				state = 2;
			} else {
				return -1;
			}
		} else if (state == 1) {  /* deletion of t[j]; the insertion state below is its mirror (i for j), written
		                           * out so that each reads as its own state, E or F (see above) */
			ops[nops++] = 'D';
			if (j == 0)
				return -1;
			int hl = getH(tv, i, j - 1);
			if (hl - p->oe == v) {
				state = 0;
				v = hl;
			} else {
				v += p->ge;
			}
			j--;
		} else {  /* insertion of q[i] */
			ops[nops++] = 'I';
			if (i == 0)
				return -1;
			int hu = getH(tv, i - 1, j);
			if (hu - p->oe == v) {
				state = 0;
				v = hu;
			} else {
				v += p->ge;
			}
			i--;
		}
	}
}

/* The alignment through the best cell: walk back, then the CIGAR with its soft clips and the score. */
static int traceback(const es_swmat_t *m, const uint8_t *q, int qlen, const uint8_t *t, const es_swp_t *p,
                     const es_score_t *sc, es_aln_t *out)
{
	size_t col = (size_t)m->seglen * m->w;
	tbview_t tv = { m, col, es_malloc(sizeof(int32_t) * col) };
	for (int l = 0; l < m->w; l++)
		for (int s = 0; s < m->seglen; s++)
			tv.rowoff[l * m->seglen + s] = s * m->w + l;  /* row l*seglen+s */
	char *ops = es_malloc((size_t)qlen + m->bj + 2);
	int i;
	int j;
	int nops = walk_back(&tv, q, qlen, t, p, ops, &i, &j);
	free(tv.rowoff);
	if (nops < 0) {
		free(ops);
		return es_error("es_align: internal error: inconsistent traceback at (%d,%d)", i, j);
	}
	out->qbeg = i;
	out->tbeg = j;
	out->qend = m->bi + 1;
	out->tend = m->bj + 1;
	out->cigar = es_malloc(sizeof(uint32_t) * ((size_t)nops + 2));
	int n = push_op(out->cigar, 0, 4, out->qbeg);
	for (int k = nops - 1; k >= 0; k--)
		n = push_op(out->cigar, n, ops[k] == 'M' ? 0 : ops[k] == 'I' ? 1 : 2, 1);
	n = push_op(out->cigar, n, 4, qlen - out->qend);
	out->n_cigar = n;
	free(ops);
	out->score = unscale(m->best, (out->qbeg == 0) + (out->qend == qlen), sc);
	return 0;
}

/* es_align with a chosen kernel and the caller's scratch. */
static int align_in(int kernel, const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc,
                    es_aln_t *out, es_align_buf_t *buf)
{
	es_swp_t p;
	if (!out)
		return es_error("es_align: NULL output");
	memset(out, 0, sizeof *out);
	if (check_args(q, qlen, t, tlen, sc, &p) < 0)
		return -1;
	es_swmat_t m;
	if (fill(kernel, q, qlen, t, tlen, &p, 1, buf, &m) < 0)
		return -1;
	int r = 0;
	if (m.best <= 0 || m.bi < 0) {  /* nothing worth aligning: all soft-clipped */
		out->cigar = es_malloc(sizeof(uint32_t));
		out->cigar[0] = (uint32_t)qlen << 4 | 4;
		out->n_cigar = 1;
	} else {
		r = traceback(&m, q, qlen, t, &p, sc, out);
	}
	if (r == 0)
		r = es_aln_nm_md(out->cigar, out->n_cigar, q, t + out->tbeg, &out->nm, &out->md);
	if (r < 0)
		es_aln_free(out);
	return r;
}

int es_align_with(int kernel, const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc,
                  es_aln_t *out)
{
	es_align_buf_t buf = { NULL, 0 };
	int r = align_in(kernel, q, qlen, t, tlen, sc, out, &buf);
	es_align_buf_free(&buf);
	return r;
}

int es_align(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, es_aln_t *out)
{
	return es_align_with(-1, q, qlen, t, tlen, sc, out);
}

int es_align_into(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, es_aln_t *out,
                  es_align_buf_t *buf)
{
	return align_in(-1, q, qlen, t, tlen, sc, out, buf);
}

int es_align_score_with(int kernel, const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc,
                        int *score, int *tend)
{
	es_swp_t p;
	if (check_args(q, qlen, t, tlen, sc, &p) < 0)
		return -1;
	es_align_buf_t buf = { NULL, 0 };   /* score only: nothing is stored */
	es_swmat_t m;
	if (fill(kernel, q, qlen, t, tlen, &p, 0, &buf, &m) < 0)
		return -1;
	int s = 0;
	int te = 0;
	if (m.best > 0) {
		/* the objective is K*(score + c*nb) - nb with nb <= 2 < K, so nb is -best mod K */
		int nb = sc->clip_pen ? (ES_SW_K - m.best % ES_SW_K) % ES_SW_K : 0;
		s = unscale(m.best, nb, sc);
		te = m.bj + 1;
	}
	if (score)
		*score = s;
	if (tend)
		*tend = te;
	return 0;
}

int es_align_score(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, int *score,
                   int *tend)
{
	return es_align_score_with(-1, q, qlen, t, tlen, sc, score, tend);
}

int es_aln_local_score(const es_aln_t *a, const uint8_t *q, const uint8_t *t, const es_score_t *sc)
{
	/* Kadane over the columns; a gap's opening cost sits on its first column, which is enough: a stretch that
	 * starts inside a gap is never the best, since dropping its leading gap columns only gains */
	int x = a->qbeg;
	int y = a->tbeg;
	int cur = 0;
	int best = 0;
	for (int k = 0; k < a->n_cigar; k++) {
		int op = a->cigar[k] & 0xf;
		int len = (int)(a->cigar[k] >> 4);
		if (op != 0 && op != 1 && op != 2)
			continue;  /* S */
		for (int l = 0; l < len; l++) {
			int v;
			if (op == 0) {
				v = q[x] == 4 || t[y] == 4 ? sc->n_score : q[x] == t[y] ? sc->match : -sc->mismatch;
				x++;
				y++;
			} else {
				v = -sc->gap_ext - (l == 0 ? sc->gap_open : 0);
				if (op == 1)
					x++;
				else
					y++;
			}
			cur = cur + v > 0 ? cur + v : 0;
			if (cur > best)
				best = cur;
		}
	}
	return best;
}

/* MD:Z text being written: s holds n characters (NULL when MD is not wanted); run: matches since the last edit. */
typedef struct {
	char *s;
	int64_t n, run;
} mdbuf_t;

/* A mismatch or the start of a deletion: the pending run of matches, then c. */
static void md_edit(mdbuf_t *md, char c)
{
	if (md->s)
		md->n += sprintf(md->s + md->n, "%lld%c", (long long)md->run, c);
	md->run = 0;
}

int es_aln_nm_md(const uint32_t *cigar, int n_cigar, const uint8_t *q, const uint8_t *t, int *nm, char **md)
{
	static const char nt[] = "ACGTN";
	int64_t cap = 16;
	for (int k = 0; k < n_cigar; k++)
		cap += 2 * (int64_t)(cigar[k] >> 4) + 12;  /* worst case "0A" per base */
	mdbuf_t b = { md ? es_malloc((size_t)cap) : NULL, 0, 0 };
	int64_t x = 0;     /* query position */
	int64_t y = 0;     /* target position */
	int64_t dist = 0;
	for (int k = 0; k < n_cigar; k++) {
		int op = cigar[k] & 0xf;
		int64_t len = cigar[k] >> 4;
		switch (op) {
		case 0: case 7: case 8:  /* M = X */
			for (int64_t l = 0; l < len; l++, x++, y++) {
				if (q[x] == t[y] && q[x] < 4) {
					b.run++;
					continue;
				}
				dist++;
				md_edit(&b, nt[t[y] < 4 ? t[y] : 4]);
			}
			break;
		case 1:  /* I */
			x += len;
			dist += len;
			break;
		case 2:  /* D */
			md_edit(&b, '^');
			for (int64_t l = 0; b.s && l < len; l++)
				b.s[b.n++] = nt[t[y + l] < 4 ? t[y + l] : 4];
			y += len;
			dist += len;
			break;
		case 3:  /* N: a reference skip is no edit */
			y += len;
			break;
		case 4:  /* S */
			x += len;
			break;
		case 5: case 6:  /* H P */
			break;
		default:
			free(b.s);
			return es_error("es_aln_nm_md: unknown CIGAR operation %d", op);
		}
	}
	if (b.s) {
		sprintf(b.s + b.n, "%lld", (long long)b.run);
		*md = b.s;
	}
	if (nm)
		*nm = (int)dist;
	return 0;
}
