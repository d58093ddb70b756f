/* header_check.c — include/esalign.h first and alone in the test binary, with the tests' flags: the public header
 * needs nothing before it (examples/embed_search.c, built with -Iinclude only, checks the same in `make`). It is the
 * one copy of every public declaration; the internal headers include it, so there is no twin left to compare. */
#include <esalign.h>
#include "thread.h"

/* esalign.h states the thread limit of es_map_file in words (ES_MAX_THREADS is internal, thread.h). */
_Static_assert(ES_MAX_THREADS == 64, "esalign.h documents n_threads 1..ES_MAX_THREADS as 1..64: update it");
