/* pipeline.h — the inside of es_map_file (esalign.h): the per-read mapper of map.c as pipeline.c drives it.
 * Private to the library (include/esalign.h does not include it). */
#ifndef ES_PIPELINE_H
#define ES_PIPELINE_H
#include <stdint.h>
#include <htslib/sam.h>
#include "map.h"
#include "store.h"
#include "encoder.h"
#include "seqio.h"

#define ES_MAP_CHUNK 64   /* reads per vector-store call: the unit of work of the mapping threads */

/* What every read is mapped against; read-only while mapping. */
typedef struct {
	const es_index_t *idx;
	const es_ref_t *ref;
	const es_encoder_t *enc;
	const es_map_opt_t *opt;
	const char *rg_id;        /* RG:Z on every record, or NULL */
} es_mapper_t;

/* Scratch of one mapping thread, reused across reads and batches. */
typedef struct es_map_buf_s es_map_buf_t;
es_map_buf_t *es_map_buf_init(const es_map_opt_t *opt);
void es_map_buf_destroy(es_map_buf_t *b);   /* NULL is a no-op */

/* Map reads[0,n) (n <= ES_MAP_CHUNK; fw[i], rc[i]: codes of read i and of its reverse complement): one vector-store
 * call, then each read on its own. recs[i] gets a malloc'ed array of n_recs[i] >= 1 records (primary or unmapped
 * first, then up to opt->n_secondary secondary ones), in the order they are to be written. The result of a read
 * depends only on that read. Returns 0, or -1 with es_error set (the records made so far are in recs/n_recs). */
int es_map_chunk(const es_mapper_t *m, es_map_buf_t *b, int n, const es_read_t *reads, uint8_t *const *fw,
                 uint8_t *const *rc, bam1_t ***recs, int *n_recs);
#endif
