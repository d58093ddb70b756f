/* store_priv.h — private to the vector store (store_file.c, store_build.c, search.c, candidates.c; and its tests):
 * the on-disk header and section ids of the .esi file, the loaded index, and the limits the loader enforces.
 * All integers on disk are little-endian (x86-64 native). Layout and figures: docs/store.md. */
#ifndef ES_STORE_PRIV_H
#define ES_STORE_PRIV_H
#include "store.h"
#include "ann.h"
#include "ivf.h"
#include "lowc.h"

/* [header HDR_SIZE bytes][sections in this order, each starting on a 64-byte boundary] */
enum { SEC_CONTIG, SEC_NAMES, SEC_NRUN, SEC_PAC, SEC_WRUN, SEC_CODES, SEC_VEC, SEC_SCALE, SEC_PROJ,
	SEC_IVF_CENT, SEC_IVF_LIST, SEC_IVF_IDS, SEC_LOWC, N_SEC };
extern const char *const es_sec_name[N_SEC];   /* "contigs", ..., as error messages name them */
#define HDR_SIZE 4096
#define HDR_CK_SEED 0x4844     /* seed of the header checksum; section i is checksummed with seed i */

#define ES_INDEX_MAX_DIM     65536           /* embedding dimensions an index may hold */
#define ES_INDEX_MAX_WINDOWS 4294967295LL    /* window and code ids are uint32 in the search */
#define ES_INDEX_MAX_LISTS   65536

typedef struct {
	uint64_t off, size, ck;   /* file offset, bytes, es_fast_checksum(bytes, seed = section id) */
} sec_t;

typedef struct {
	char magic[8];
	uint32_t version, hdr_size;
	uint32_t w, stride, dim, code_bits;
	int32_t n_contig;
	uint32_t code_step;       /* window c*code_step has code c: codes cover every code_step-th window */
	uint32_t code_kind, pq_m; /* ES_CODE_SIGN (code_bits sign bits), ES_CODE_PQ4/PQ6 (pq_m subspaces,
	                           * code_bits = 4 or 6 * pq_m) */
	int64_t ref_len, n_nrun, n_windows, n_codes, file_size;
	uint32_t ivf_lists;       /* inverted lists (PQ6 only; 0: none, the codes are in code order) */
	uint32_t vec_bits;        /* 8: int8 vectors, float scales; 4: two 4-bit values a byte (the even dimension in
	                           * the low nibble), uint16 scales (max |x| * 65535; es_dot_f32_i4) */
	int64_t n_pos;            /* code slots in the codes section: n_codes, or with lists their 64-aligned total */
	int64_t n_wrun;           /* window runs (wrun_t): the window table, implicit (version 3) */
	uint64_t enc_checksum;
	char enc_spec[512];
	char enc_name[128];
	sec_t sec[N_SEC];
	uint64_t hdr_ck;          /* es_fast_checksum of the header block with this field zero */
} hdr_t;
_Static_assert(sizeof(hdr_t) <= HDR_SIZE, "the header struct must fit the header block");

typedef struct {
	int64_t len, off, name_off;   /* contig covers global [off, off+len); its name at name_off in the names */
} disk_contig_t;
typedef struct {
	int64_t beg, len;             /* a list's code slots [beg, beg+len), beg a multiple of 64 */
} ivf_list_t;
typedef struct {
	int64_t first, beg, n;        /* windows [first, first+n) start at beg, beg+S, beg+2S, ... (one contig) */
} wrun_t;

/* The global start of window id: its run (the last one whose first <= id; runs in window order) and the stride.
 * A run per stretch of regular windows, so a contig is one run plus its end-aligned last window and one per N
 * gap skipped: 24 bytes instead of 8 per window (docs/store.md). */
static inline int64_t es_wrun_start(const wrun_t *r, int64_t nr, int64_t stride, int64_t id)
{
	int64_t lo = 0, hi = nr - 1;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo + 1) / 2;
		if (r[mid].first <= id)
			lo = mid;
		else
			hi = mid - 1;
	}
	return r[lo].beg + (id - r[lo].first) * stride;
}

struct es_index_s {
	char *path;
	uint8_t *map;
	size_t map_size;
	hdr_t hdr;
	es_ref_t ref;              /* arrays point into the map except contig[] (names point into the map) */
	const wrun_t *wrun;        /* [n_wrun] the window table (es_index_wstart) */
	const uint64_t *codes;     /* sign codes: nw planes of n_codes words */
	const int8_t *vec;         /* [n_windows][dim * vec_bits / 8] */
	const float *scale;        /* [n_windows] (vec_bits 8) */
	const uint16_t *scale16;   /* [n_windows] (vec_bits 4) */
	int64_t vec_row;           /* bytes per vector */
	const float *proj;         /* sign: [code_bits][dim] projection; pq: [pq_m][K][dim/pq_m] centroids */
	float *proj_t;             /* pq: the centroids as es_pq_lut_t reads them, [pq_m][dim/pq_m][K] (malloc'ed) */
	const uint8_t *pq;         /* pq codes, 64-window blocks (ann.h); with lists, slot order */
	const float *ivf_cent;     /* [ivf_lists][dim] unit centroids */
	const ivf_list_t *ivf_list;/* [ivf_lists] slots [beg, beg+len) of each list, beg a multiple of 64 */
	const uint32_t *ivf_ids;   /* [n_pos] code index of each slot (increasing inside a list), UINT32_MAX for padding */
	int nprobe;
	float probe_gap;           /* es_index_set_probe_gap */
	es_ivf_groups_t *groups;   /* the lists grouped for a two-level probe (more than 4,096 lists), or NULL */
	int64_t *contig_end;       /* [n_contig] off+len, to clip windows */
	int rerank;
	es_dot_i8_fn dot8;         /* es_dot_i8_best() */
	es_lowc_t lowc;            /* the low-complexity seed table (lowc.h), in the map */
};

/* The end of the window starting at b: b+w clipped to the end of its contig (cend[c] = off+len of contig c). */
static inline int64_t es_window_end(const es_ref_t *ref, const int64_t *cend, int64_t b, int w)
{
	int c = es_ref_contig_at(ref, b);
	int64_t e = b + w;
	return e < cend[c] ? e : cend[c];
}

static inline int64_t es_index_wstart(const es_index_t *idx, int64_t id)
{
	return es_wrun_start(idx->wrun, idx->hdr.n_wrun, idx->hdr.stride, id);
}

/* Window w's score against query q: the one score exact search and every re-rank use. */
static inline float es_index_window_dot(const es_index_t *idx, const float *q, int64_t w)
{
	int dim = (int)idx->hdr.dim;
	if (idx->hdr.vec_bits == 4)
		return es_dot_f32_i4(q, (const uint8_t *)idx->vec + w * idx->vec_row, idx->scale16[w], dim);
	return idx->dot8(q, idx->vec + w * dim, idx->scale[w], dim);
}

/* The header block's checksum (hbuf: HDR_SIZE bytes; its hdr_ck field is taken as zero). */
uint64_t es_index_hdr_checksum(const uint8_t *hbuf);
/* Write header h (section sizes in h->sec[].size; offsets, checksums and file size are filled in here) and the
 * sections sp[] atomically to path; a section whose sp[i] is NULL (and size not 0) is read from file descriptor fd
 * from offset fd_off (the build streams the vectors there). Returns 0, or -1 with es_error set. */
int es_index_write(const char *path, hdr_t *h, const void *const sp[N_SEC], int fd, int64_t fd_off);
#endif
