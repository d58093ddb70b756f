/* align.c — es_align: a read against a candidate reference region with bwa mem's scoring and end-clipping rule.
 * Picks a DP fill kernel at run time (AVX2, else scalar; AVX-512BW on request), traces back through the stored H
 * matrix, builds the CIGAR with soft clips, and computes NM/MD. The kernels live in align_ref.c and align_avx*.c. */
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
	if (!a) return;
	free(a->cigar);
	free(a->md);
	memset(a, 0, sizeof *a);
}

int es_align_has_kernel(int kernel)
{
	switch (kernel) {
	case 0: return 1;
#if defined(__x86_64__) || defined(__i386__)
	case 1: return __builtin_cpu_supports("avx2");
	case 2: return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
#endif
	default: return 0;
	}
}

/* AVX2 is the default even where AVX-512 exists: on the AMD EPYC (Zen 4) we develop on, the 32-lane kernel measured
 * no faster (250 bp vs 330 bp score-only: 13.1-13.7 us AVX2, 13.5-14.0 us AVX-512; test align_bench), since Zen 4
 * splits 512-bit operations. CPUs with native 512-bit units may gain; not measured, so not the default. */
static int auto_kernel(void)
{
	static _Atomic int k = -1;  /* every thread that races here computes the same value */
	int v = atomic_load_explicit(&k, memory_order_relaxed);
	if (v < 0) atomic_store_explicit(&k, v = es_align_has_kernel(1) ? 1 : 0, memory_order_relaxed);
	return v;
}

const char *es_align_kernel(void)
{
	static const char *names[] = { "scalar", "avx2", "avx512" };
	return names[auto_kernel()];
}

static int check_args(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, es_swp_t *p)
{
	if (!q || !t || !sc) return es_error("es_align: NULL argument");
	if (qlen < 1 || tlen < 1) return es_error("es_align: empty sequence (qlen %d, tlen %d)", qlen, tlen);
	if (sc->match < 1 || sc->mismatch < 0 || sc->gap_open < 0 || sc->gap_ext < 1 || sc->clip_pen < 0 ||
	    sc->match > 1000 || sc->mismatch > 1000 || sc->gap_open > 1000 || sc->gap_ext > 1000 || sc->clip_pen > 1000 ||
	    sc->n_score < -1000 || sc->n_score > sc->match)
		return es_error("es_align: bad scoring (match %d mismatch %d gap %d+%d*L N %d clip %d)", sc->match,
		                sc->mismatch, sc->gap_open, sc->gap_ext, sc->n_score, sc->clip_pen);
	if (qlen > (1 << 20) || (int64_t)qlen * tlen > ((int64_t)1 << 28))
		return es_error("es_align: sequences too long (qlen %d, tlen %d)", qlen, tlen);
	/* the scaled objective must fit the 32-bit kernel (E and F never fall below -(gap_open+gap_ext)*K) */
	if (((int64_t)qlen * sc->match + 2 * (int64_t)sc->clip_pen) * ES_SW_K > ((int64_t)1 << 30))
		return es_error("es_align: scores too large for qlen %d (match %d)", qlen, sc->match);
	for (int i = 0; i < qlen; i++) if (q[i] > 4) return es_error("es_align: query code %d at %d (want 0..4)", q[i], i);
	for (int j = 0; j < tlen; j++) if (t[j] > 4) return es_error("es_align: target code %d at %d (want 0..4)", t[j], j);
	for (int a = 0; a < 5; a++)
		for (int b = 0; b < 5; b++)
			p->mat[a * 5 + b] = ES_SW_K * (a == 4 || b == 4 ? sc->n_score : a == b ? sc->match : -sc->mismatch);
	p->oe = ES_SW_K * (sc->gap_open + sc->gap_ext);
	p->ge = ES_SW_K * sc->gap_ext;
	/* bonus K*c-1: fewer bonuses win ties. With c = 0 there is nothing to prefer and -1 would act as a penalty. */
	p->bonus = sc->clip_pen ? ES_SW_K * sc->clip_pen - 1 : 0;
	return 0;
}

/* Run the fill of `kernel` (falling back to 32-bit scalar when 16 bits cannot hold the scores). store: keep the
 * matrices for a traceback; they are malloc'ed into *buf (free it). */
static int fill(int kernel, const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int store,
                void **buf, es_swmat_t *m)
{
	*buf = NULL;
	if (kernel < 0) kernel = auto_kernel();
	else if (!es_align_has_kernel(kernel)) return es_error("es_align: this CPU cannot run kernel %d", kernel);
	if (kernel == 1 || kernel == 2) {
		int seglen = kernel == 2 ? es_sw_avx512_seglen(qlen) : es_sw_avx2_seglen(qlen), w = kernel == 2 ? 32 : 16;
		int16_t *H = NULL;
		if (store) {
			size_t bytes = ((size_t)(tlen + 1) * seglen * w * sizeof(int16_t) + 63) & ~(size_t)63;
			*buf = aligned_alloc(64, bytes);
			if (!*buf) return es_error("es_align: out of memory (%zu bytes)", bytes);
			H = *buf;
		}
		int r = kernel == 2 ? es_sw_avx512(q, qlen, t, tlen, p, H, m) : es_sw_avx2(q, qlen, t, tlen, p, H, m);
		if (r == 0) return 0;
		free(*buf); *buf = NULL;  /* scores overflow 16 bits: do it in 32 */
	}
	int32_t *H = NULL;
	if (store) {
		*buf = malloc((size_t)(tlen + 1) * qlen * sizeof(int32_t));
		if (!*buf) return es_error("es_align: out of memory");
		H = *buf;
	}
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
		if (getH(tv, i, j - k) - p->oe - p->ge * (k - 1) == v) return 1;
	return 0;
}

/* Scaled bonus-free score of the objective value v of an alignment of nb bonuses (v = K*(score + c*nb) - nb). */
static int unscale(int v, int nb, const es_score_t *sc)
{
	if (!sc->clip_pen) nb = 0;
	return (v + nb) / ES_SW_K - sc->clip_pen * nb;
}

static int push_op(uint32_t *cig, int n, int op, int len)
{
	if (len <= 0) return n;
	if (n > 0 && (cig[n - 1] & 0xf) == (uint32_t)op) cig[n - 1] += (uint32_t)len << 4;
	else cig[n++] = (uint32_t)len << 4 | op;
	return n;
}

/* Walk back from the best cell. States: H (the cell's value), E (in a deletion), F (in an insertion); the value v
 * being explained is always > 0 (see align.h for the order of preference). A gap is walked until the first cell
 * from which opening it gives v: the shortest gap, the same one E/F's "open over extend" choice would give. */
static int traceback(const es_swmat_t *m, const uint8_t *q, int qlen, const uint8_t *t, const es_swp_t *p,
                     const es_score_t *sc, es_aln_t *out)
{
	int i = m->bi, j = m->bj, v = m->best, state = 0;  /* 0 H, 1 E, 2 F */
	tbview_t tv = { m, (size_t)m->seglen * m->w, es_malloc(sizeof(int32_t) * ((size_t)m->seglen * m->w)) };
	for (int l = 0; l < m->w; l++)
		for (int s = 0; s < m->seglen; s++) tv.rowoff[l * m->seglen + s] = s * m->w + l;  /* row l*seglen+s */
	char *ops = es_malloc((size_t)qlen + m->bj + 2);
	int nops = 0;
	for (;;) {
		if (i < 0 || j < 0 || nops > qlen + m->bj + 1) goto bad;
		if (state == 0) {
			int prev = i == 0 ? p->bonus : j == 0 ? 0 : getH(&tv, i - 1, j - 1);
			int s = p->mat[q[i] * 5 + t[j]] + (i == qlen - 1 ? p->bonus : 0);
			if (v == prev + s) {
				ops[nops++] = 'M';
				if (i == 0 || j == 0 || prev == 0) break;  /* the alignment starts here */
				i--, j--, v = prev;
			} else if (deletion_ends_here(&tv, p, i, j, v)) state = 1;
			else if (i > 0) state = 2;
			else goto bad;
		} else if (state == 1) {  /* deletion of t[j] */
			ops[nops++] = 'D';
			if (j == 0) goto bad;
			int hl = getH(&tv, i, j - 1);
			if (hl - p->oe == v) state = 0, v = hl;
			else v += p->ge;
			j--;
		} else {  /* insertion of q[i] */
			ops[nops++] = 'I';
			if (i == 0) goto bad;
			int hu = getH(&tv, i - 1, j);
			if (hu - p->oe == v) state = 0, v = hu;
			else v += p->ge;
			i--;
		}
	}
	out->qbeg = i; out->tbeg = j;
	out->qend = m->bi + 1; out->tend = m->bj + 1;
	out->cigar = es_malloc(sizeof(uint32_t) * ((size_t)nops + 2));
	int n = push_op(out->cigar, 0, 4, out->qbeg);
	for (int k = nops - 1; k >= 0; k--) n = push_op(out->cigar, n, ops[k] == 'M' ? 0 : ops[k] == 'I' ? 1 : 2, 1);
	n = push_op(out->cigar, n, 4, qlen - out->qend);
	out->n_cigar = n;
	free(ops); free(tv.rowoff);
	out->score = unscale(m->best, (out->qbeg == 0) + (out->qend == qlen), sc);
	return 0;
bad:
	free(ops); free(tv.rowoff);
	return es_error("es_align: internal error: inconsistent traceback at (%d,%d)", i, j);
}

int es_align_with(int kernel, const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, es_aln_t *out)
{
	es_swp_t p;
	if (!out) return es_error("es_align: NULL output");
	memset(out, 0, sizeof *out);
	if (check_args(q, qlen, t, tlen, sc, &p) < 0) return -1;
	void *buf;
	es_swmat_t m;
	if (fill(kernel, q, qlen, t, tlen, &p, 1, &buf, &m) < 0) return -1;
	int r = 0;
	if (m.best <= 0 || m.bi < 0) {  /* nothing worth aligning: all soft-clipped */
		out->cigar = es_malloc(sizeof(uint32_t));
		out->cigar[0] = (uint32_t)qlen << 4 | 4;
		out->n_cigar = 1;
	} else r = traceback(&m, q, qlen, t, &p, sc, out);
	free(buf);
	if (r == 0) r = es_aln_nm_md(out->cigar, out->n_cigar, q, t + out->tbeg, &out->nm, &out->md);
	if (r < 0) es_aln_free(out);
	return r;
}

int es_align(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, es_aln_t *out)
{
	return es_align_with(-1, q, qlen, t, tlen, sc, out);
}

int es_align_score_with(int kernel, const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc,
                        int *score, int *tend)
{
	es_swp_t p;
	if (check_args(q, qlen, t, tlen, sc, &p) < 0) return -1;
	void *buf;
	es_swmat_t m;
	if (fill(kernel, q, qlen, t, tlen, &p, 0, &buf, &m) < 0) return -1;
	free(buf);
	int s = 0, te = 0;
	if (m.best > 0) {
		/* the objective is K*(score + c*nb) - nb with nb <= 2 < K, so nb is -best mod K */
		int nb = sc->clip_pen ? (ES_SW_K - m.best % ES_SW_K) % ES_SW_K : 0;
		s = unscale(m.best, nb, sc);
		te = m.bj + 1;
	}
	if (score) *score = s;
	if (tend) *tend = te;
	return 0;
}

int es_align_score(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, int *score, int *tend)
{
	return es_align_score_with(-1, q, qlen, t, tlen, sc, score, tend);
}

int es_aln_local_score(const es_aln_t *a, const uint8_t *q, const uint8_t *t, const es_score_t *sc)
{
	/* Kadane over the columns; a gap's opening cost sits on its first column, which is enough: a stretch that
	 * starts inside a gap is never the best, since dropping its leading gap columns only gains */
	int x = a->qbeg, y = a->tbeg, cur = 0, best = 0;
	for (int k = 0; k < a->n_cigar; k++) {
		int op = a->cigar[k] & 0xf, len = (int)(a->cigar[k] >> 4);
		if (op != 0 && op != 1 && op != 2) continue;  /* S */
		for (int l = 0; l < len; l++) {
			int v;
			if (op == 0) { v = q[x] == 4 || t[y] == 4 ? sc->n_score : q[x] == t[y] ? sc->match : -sc->mismatch; x++, y++; }
			else { v = -sc->gap_ext - (l == 0 ? sc->gap_open : 0); if (op == 1) x++; else y++; }
			cur = cur + v > 0 ? cur + v : 0;
			if (cur > best) best = cur;
		}
	}
	return best;
}

int es_aln_nm_md(const uint32_t *cigar, int n_cigar, const uint8_t *q, const uint8_t *t, int *nm, char **md)
{
	static const char nt[] = "ACGTN";
	int64_t cap = 16;
	for (int k = 0; k < n_cigar; k++) cap += 2 * (int64_t)(cigar[k] >> 4) + 12;  /* worst case "0A" per base */
	char *s = md ? es_malloc((size_t)cap) : NULL;
	int64_t n = 0, run = 0, x = 0, y = 0, dist = 0;  /* x: query position, y: target position */
	for (int k = 0; k < n_cigar; k++) {
		int op = cigar[k] & 0xf;
		int64_t len = cigar[k] >> 4;
		switch (op) {
		case 0: case 7: case 8:  /* M = X */
			for (int64_t l = 0; l < len; l++, x++, y++) {
				if (q[x] == t[y] && q[x] < 4) { run++; continue; }
				dist++;
				if (s) n += sprintf(s + n, "%lld%c", (long long)run, nt[t[y] < 4 ? t[y] : 4]);
				run = 0;
			}
			break;
		case 1: x += len; dist += len; break;  /* I */
		case 2:  /* D */
			if (s) {
				n += sprintf(s + n, "%lld^", (long long)run);
				for (int64_t l = 0; l < len; l++) s[n++] = nt[t[y + l] < 4 ? t[y + l] : 4];
			}
			run = 0; y += len; dist += len;
			break;
		case 3: y += len; break;  /* N: a reference skip is no edit */
		case 4: x += len; break;  /* S */
		case 5: case 6: break;    /* H P */
		default:
			free(s);
			return es_error("es_aln_nm_md: unknown CIGAR operation %d", op);
		}
	}
	if (s) { sprintf(s + n, "%lld", (long long)run); *md = s; }
	if (nm) *nm = (int)dist;
	return 0;
}
