/* seqio.h — reference genomes (2-bit packed, contig table, N runs) and read input (FASTA/FASTQ, plain or gzip, or "-").
 * Nucleotide codes everywhere: A=0 C=1 G=2 T=3 N=4 (anything not ACGT, any case, is N).
 * Coordinates are 0-based half-open [beg,end). "Global" coordinates index the concatenation of all contigs. */
#ifndef ES_SEQIO_H
#define ES_SEQIO_H
#include <stdint.h>
#include <stddef.h>

extern const uint8_t es_nt4[256];   /* ASCII -> code 0..4 */
extern const char es_code2nt[5];   /* code -> "ACGTN" */
/* Reverse-complement codes in place (N stays N). */
void es_revcomp(uint8_t *s, int64_t len);

typedef struct {
	char *name;
	int64_t len;   /* bases */
	int64_t off;   /* global offset of base 0: contig covers [off, off+len) */
} es_contig_t;

typedef struct {
	int64_t beg, end;  /* [beg,end) global: a maximal run of N */
} es_nrun_t;

typedef struct {
	int32_t n_contig;
	es_contig_t *contig;
	int64_t len;       /* total bases, sum of contig lengths */
	uint8_t *pac;      /* 2-bit packed, base i in bits 2*(i&3) of byte i>>2; N positions hold 0 (see nrun) */
	int64_t n_nrun;
	es_nrun_t *nrun;   /* sorted, non-overlapping, never spanning two contigs */
	int owns_pac;      /* 1 if pac/contig/nrun were malloc'ed (0 when they point into an mmap'ed index) */
} es_ref_t;

/* Read a FASTA or FASTA.gz (htslib). Returns a new reference or NULL (es_error names the file and the problem:
 * missing, empty, no '>' header, empty contig, duplicate contig name). Free with es_ref_destroy(). */
es_ref_t *es_ref_load_fasta(const char *fn);
void es_ref_destroy(es_ref_t *ref);

/* Base code (0..3, or 4 inside an N run) at global position pos. */
int es_ref_base(const es_ref_t *ref, int64_t pos);
/* Copy codes of global [beg,end) into out (end-beg bytes); N runs give 4. Caller keeps ranges inside [0,len). */
void es_ref_get(const es_ref_t *ref, int64_t beg, int64_t end, uint8_t *out);
/* Contig index holding global position pos (binary search); -1 if out of range. */
int es_ref_contig_at(const es_ref_t *ref, int64_t pos);
/* Number of N bases in global [beg,end). */
int64_t es_ref_count_n(const es_ref_t *ref, int64_t beg, int64_t end);
/* Index of a contig by name, or -1. */
int es_ref_contig_by_name(const es_ref_t *ref, const char *name);

/* ---- reads ---- */
typedef struct {
	char *name;          /* up to the first whitespace */
	char *comment;       /* rest of the header line after whitespace ("" if none) */
	char *seq;           /* as in the file (ASCII) */
	char *qual;          /* NULL for FASTA input */
	int len;
	int64_t id;          /* 0-based record number in its file */
} es_read_t;

typedef struct es_reader_s es_reader_t;
/* Open FASTQ or FASTA, plain or gzip; "-" is stdin. NULL on failure (es_error set). */
es_reader_t *es_reader_open(const char *fn);
/* Read the next record into r (r's buffers are reused and owned by r; free with es_read_free).
 * Returns 1 on a record, 0 at end of file, -1 on a malformed or truncated record (es_error names file and record). */
int es_reader_next(es_reader_t *rd, es_read_t *r);
void es_reader_close(es_reader_t *rd);
void es_read_free(es_read_t *r);
#endif
