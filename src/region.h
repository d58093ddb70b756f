/* region.h — the one region rule of esalign: "CONTIG" or "CONTIG:BEG-END", 0-based half-open [BEG,END), resolved
 * against a reference to global coordinates [beg,end). Used by training, recall, simulation (and, through
 * es_sim_region_parse, eval). */
#ifndef ES_REGION_H
#define ES_REGION_H
#include <stdint.h>
#include "seqio.h"

/* Parse only. The suffix after the last ':' is taken as BEG-END only when it is two numbers joined by '-' (commas in
 * numbers are ignored); otherwise the ':' belongs to the contig name (e.g. HLA-A*01:01). *contig is malloc'ed
 * (caller frees; NULL on error); "CONTIG" alone gives beg 0, end -1 (to its end).
 * Returns 0, or -1 with es_error set (empty name, beg >= end, malformed numbers). */
int es_region_parse(const char *s, char **contig, int64_t *beg, int64_t *end);

/* Parse s and resolve it in ref: global [*beg,*end) inside one contig. An unknown contig, an empty region or an END
 * past the contig's end is an error naming the region, the contig and its length (no clipping).
 * Returns 0, or -1 with es_error set. */
int es_ref_region(const es_ref_t *ref, const char *s, int64_t *beg, int64_t *end);
#endif
