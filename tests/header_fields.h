/* header_fields.h — the structs include/esalign.h defines and their fields, for the layout comparison of
 * header_check.c (the internal definitions) and header_public.c (the public ones). Add a field here when adding
 * one to a public struct. */
#ifndef ES_HEADER_FIELDS_H
#define ES_HEADER_FIELDS_H
#include <stddef.h>

/* F(type, field) for every field; T(type) for every struct */
#define ES_HDR_STRUCTS(T) T(es_contig_t) T(es_nrun_t) T(es_ref_t) T(es_locus_t) T(es_score_t) T(es_aln_t) \
	T(es_map_opt_t) T(es_map_stats_t)
#define ES_HDR_FIELDS(F) \
	F(es_contig_t, name) F(es_contig_t, len) F(es_contig_t, off) \
	F(es_nrun_t, beg) F(es_nrun_t, end) \
	F(es_ref_t, n_contig) F(es_ref_t, contig) F(es_ref_t, len) F(es_ref_t, pac) F(es_ref_t, n_nrun) \
	F(es_ref_t, nrun) F(es_ref_t, owns_pac) \
	F(es_locus_t, beg) F(es_locus_t, end) F(es_locus_t, score) \
	F(es_score_t, match) F(es_score_t, mismatch) F(es_score_t, gap_open) F(es_score_t, gap_ext) \
	F(es_score_t, n_score) F(es_score_t, clip_pen) \
	F(es_aln_t, score) F(es_aln_t, qbeg) F(es_aln_t, qend) F(es_aln_t, tbeg) F(es_aln_t, tend) \
	F(es_aln_t, cigar) F(es_aln_t, n_cigar) F(es_aln_t, nm) F(es_aln_t, md) \
	F(es_map_opt_t, n_threads) F(es_map_opt_t, max_loci) F(es_map_opt_t, max_align) F(es_map_opt_t, n_secondary) \
	F(es_map_opt_t, min_len) F(es_map_opt_t, min_score) F(es_map_opt_t, batch_size) F(es_map_opt_t, rg_line) \
	F(es_map_opt_t, encoder_spec) F(es_map_opt_t, locus_ratio) F(es_map_opt_t, deficit_coef) \
	F(es_map_opt_t, exact) F(es_map_opt_t, nprobe) F(es_map_opt_t, sc) F(es_map_opt_t, mapq_features) \
	F(es_map_stats_t, n_reads) F(es_map_stats_t, n_mapped) F(es_map_stats_t, n_unmapped_short) \
	F(es_map_stats_t, seconds)

/* One row per struct (its size) and per field (offset, size, GCC's type class: integer, real, pointer, record). */
#define ES_HDR_STRUCT_ROW(type) { sizeof(type), 0, 0 },
#define ES_HDR_FIELD_ROW(type, f) \
	{ offsetof(type, f), sizeof(((type *)0)->f), (size_t)__builtin_classify_type(((type *)0)->f) },
#define ES_HDR_LAYOUT { ES_HDR_STRUCTS(ES_HDR_STRUCT_ROW) ES_HDR_FIELDS(ES_HDR_FIELD_ROW) }
#define ES_HDR_NAME_ROW(type, f) #type "." #f,
#define ES_HDR_TYPE_NAME_ROW(type) #type,
typedef struct {
	size_t off, size, cls;
} es_hdr_row_t;
#endif
