/* map.h — 'esalign align': reads -> (embed, search the vector store) candidate loci -> Smith-Waterman verification
 * -> SAM/BAM records, multi-threaded, output in input order and byte-identical for any thread count. Per-read mapping
 * is map.c, the records and the output file sam.c, the read -> map -> write pipeline (es_map_file) pipeline.c. */
#ifndef ES_MAP_H
#define ES_MAP_H
#include <stdint.h>
#include "esalign.h"   /* es_map_opt_t, es_map_stats_t, es_map_opt_init, es_map_file */

/* Validate an @RG line as given on the command line ("\t" may be the two characters '\' 't'); on success returns a
 * malloc'ed line with real tabs and stores its ID in *id (malloc'ed). NULL with es_error set on a bad line. */
char *es_map_parse_rg(const char *arg, char **id);

#endif
