/* header_public.c — include/esalign.h alone: it compiles without any internal header, and each struct it defines
 * has the layout of its internal twin (field offsets, sizes and kinds, as header_check.c records them). */
#include <esalign.h>
#include "header_fields.h"
#include "test.h"

extern const es_hdr_row_t es_hdr_layout_internal[];
extern const size_t es_hdr_n_internal;
static const es_hdr_row_t layout_public[] = ES_HDR_LAYOUT;
static const char *const row_name[] = { ES_HDR_STRUCTS(ES_HDR_TYPE_NAME_ROW) ES_HDR_FIELDS(ES_HDR_NAME_ROW) };

TEST(header_public_layout)
{
	size_t n = sizeof layout_public / sizeof layout_public[0];
	CHECK_EQ_INT(n, es_hdr_n_internal);
	for (size_t i = 0; i < n && i < es_hdr_n_internal; i++) {
		const es_hdr_row_t *a = &layout_public[i];
		const es_hdr_row_t *b = &es_hdr_layout_internal[i];
		CHECKF(a->off == b->off && a->size == b->size && a->cls == b->cls,
		       "%s: public offset %zu size %zu class %zu, internal %zu %zu %zu", row_name[i], a->off, a->size,
		       a->cls, b->off, b->size, b->cls);
	}
}
