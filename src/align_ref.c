/* align_ref.c — the scalar (32-bit, plain Gotoh) fill of es_align's DP: the slow twin that the SIMD kernels are
 * tested against, and the fallback on CPUs without AVX2 or for scores too large for 16-bit lanes.
 * Same recurrences, boundaries and tie rules as the striped kernels (see align_kern.h, es_swmat_t). */
#include "align_kern.h"
#include "util.h"
#include <stdlib.h>

#define NEG32 (-(1 << 28))  /* "minus infinity" that survives subtracting gap penalties without overflow */

/* H[i][j] = max(0, D + s(i,j), E[i][j], F[i][j]) with D = H[i-1][j-1], the row above the query worth the start
 * bonus (H[-1][j] = bonus) and the column before the target worth 0 (H[i][-1] = 0); s(i,j) of the last row includes
 * the end bonus. E[i][j] = max(H[i][j-1]-oe, E[i][j-1]-ge) (E[i][0] = -oe), F likewise along i (F[0][j] = -inf):
 * so an alignment can only start and end with a match/mismatch. */
int es_sw_scalar(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_swp_t *p, int32_t *H, es_swmat_t *m)
{
	int32_t *hbuf = H ? NULL : es_malloc(sizeof(int32_t) * 2 * qlen);  /* score only: two columns of H */
	int32_t *enext = es_malloc(sizeof(int32_t) * qlen);  /* E[.][j] for the column being filled */
	for (int i = 0; i < qlen; i++)
		enext[i] = -p->oe;  /* from H[i][-1] = 0 */
	int best = 0;
	int bi = -1;
	int bj = -1;
	for (int j = 0; j < tlen; j++) {
		/* hp: column j-1 (NULL for j=0: all 0); hc: column j */
		const int32_t *hp = j ? (H ? H + (size_t)j * qlen : hbuf + (size_t)((j - 1) & 1) * qlen) : NULL;
		int32_t *hc = H ? H + (size_t)(j + 1) * qlen : hbuf + (size_t)(j & 1) * qlen;
		const int *ms = p->mat + t[j];
		int32_t f = NEG32;
		for (int i = 0; i < qlen; i++) {
			int32_t d = i == 0 ? p->bonus : hp ? hp[i - 1] : 0;
			int32_t s = ms[q[i] * 5] + (i == qlen - 1 ? p->bonus : 0);
			int32_t e = enext[i];
			int32_t h = d + s;
			if (e > h)
				h = e;
			if (f > h)
				h = f;
			if (h < 0)
				h = 0;
			hc[i] = h;
			if (h > best) {
				best = h;
				bi = i;
				bj = j;
			}
			int32_t ho = h - p->oe;
			enext[i] = e - p->ge > ho ? e - p->ge : ho;
			f = f - p->ge > ho ? f - p->ge : ho;
		}
	}
	if (H)
		for (int i = 0; i < qlen; i++)
			H[i] = 0;  /* column j=-1 */
	free(enext);
	free(hbuf);
	m->H32 = H;
	m->H16 = 0;
	m->w = 1;
	m->seglen = qlen;
	m->best = best;
	m->bi = H ? bi : -1;
	m->bj = bj;
	return 0;
}
