/* lowc.h — the low-complexity seed table: the 16-mers at every third position of the reference's low-complexity
 * stretches (microsatellites, tandem arrays, and 250 bases of flank on each side), each with its positions, for the reads
 * whose embedding cannot tell one array of a motif from another. Such a read's windows embed alike wherever the motif
 * lies, so the vector search rarely ranks its own array first; what tells the arrays apart is a few bases (the
 * array's own defects, its junctions with the flanks), which exact k-mers find (docs/store.md, "Low-complexity
 * reads"). The table is a section of the .esi file (store_file.c); built by es_lowc_build, searched by es_lowc_loci.
 * Coordinates are the reference's global ones, 0-based half-open [beg,end). */
#ifndef ES_LOWC_H
#define ES_LOWC_H
#include <stddef.h>
#include <stdint.h>
#include "esalign.h"

#define ES_LOWC_K 16        /* the seed length: a 16-mer is one uint32 key */
#define ES_LOWC_MAX_OCC 32  /* keys kept more often in the stretches (the motif's own k-mers) are left out */
#define ES_LOWC_MAX_LOCI 8  /* seed loci a read gets at most */

/* The section's first 32 bytes; then uint32 dir[2^dir_bits + 1] (the entries of the keys whose top dir_bits bits are
 * b: [dir[b], dir[b+1]); dir_bits 16..24), uint32 pos[n] (global position of the seed's first base, a multiple of 3; increasing
 * for equal keys), uint16 rem[n] (the key's low 32 - dir_bits bits; the keys increase). */
typedef struct {
	uint32_t k, dir_bits, max_occ, pad;   /* pad: flank bases added on each side of a stretch */
	uint64_t n;                           /* entries */
	uint64_t bases;                       /* bases in the stretches (with their flanks) */
} es_lowc_hdr_t;

typedef struct es_lowc_s {   /* a loaded table: pointers into the section (an empty table: n == 0) */
	const es_lowc_hdr_t *h;
	const uint32_t *dir, *pos;
	const uint16_t *rem;
	uint64_t n;
} es_lowc_t;

typedef struct {   /* per-thread scratch of es_lowc_loci and es_lowc_read */
	uint64_t *v;       /* votes */
	int m_v;
	uint32_t *set;
	int m_set;
} es_lowc_buf_t;

/* The table of ref into *out (malloc'ed section bytes, *size of them). References of 2^32 bases or more get an empty
 * table (positions are uint32). progress: es_log lines. 0, or -1 with es_error set. */
int es_lowc_build(const es_ref_t *ref, int progress, void **out, size_t *size);
/* Point t into the section [p, p+size) after checking its layout (fn names the file in the error); ref_len bounds
 * the positions the lookups may return. 0, or -1 with es_error set. */
int es_lowc_open(const void *p, size_t size, int64_t ref_len, const char *fn, es_lowc_t *t);
/* 1 if a read of codes fw[0,qlen) (0-3, 4 = N) is low-complexity: fewer than 80% of its 12-mers distinct. */
int es_lowc_read(es_lowc_buf_t *b, const uint8_t *fw, int qlen);
/* Up to max (<= ES_LOWC_MAX_LOCI) seed loci of the read (fw and its reverse complement rc, qlen bases) into out, the
 * best supported first (support: the read's seeds on one strand and diagonal band; at least 2), each locus the read's
 * span at that placement, [beg,end) inside one contig of ref. The score of each locus is set to 0. Returns their
 * number. */
int es_lowc_loci(const es_lowc_t *t, const es_ref_t *ref, es_lowc_buf_t *b, const uint8_t *fw, const uint8_t *rc,
                 int qlen, es_locus_t *out, int max);
void es_lowc_buf_free(es_lowc_buf_t *b);

#endif
