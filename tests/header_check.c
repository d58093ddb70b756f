/* header_check.c — include/esalign.h compiled together with every internal header (the Makefile passes each src/
 * header with -include, so they come first): a public declaration that differs from its internal twin is a compile
 * error.
 * The public structs are compared field by field with their internal twins by header_public.c. */
#if !defined(ES_SEQIO_H) || !defined(ES_STORE_H) || !defined(ES_ALIGN_H) || !defined(ES_MAP_H) || !defined(ES_UTIL_H)
#error "header_check.c needs the internal headers first (-include src/*.h, see the Makefile)"
#endif
#include <esalign.h>
#include "header_fields.h"

/* the internal structs' layout, compared with the public ones' by the test in header_public.c */
const es_hdr_row_t es_hdr_layout_internal[] = ES_HDR_LAYOUT;
const size_t es_hdr_n_internal = sizeof es_hdr_layout_internal / sizeof es_hdr_layout_internal[0];
