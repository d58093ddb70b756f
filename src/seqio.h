/* seqio.h — reference genomes (2-bit packed, contig table, N runs) and read input (FASTA/FASTQ, plain or gzip, or
 * "-"). The reference types es_ref_t, es_contig_t, es_nrun_t and the public accessors are in esalign.h.
 * Nucleotide codes everywhere: A=0 C=1 G=2 T=3 N=4 (anything not ACGT, any case, is N).
 * Coordinates are 0-based half-open [beg,end). "Global" coordinates index the concatenation of all contigs. */
#ifndef ES_SEQIO_H
#define ES_SEQIO_H
#include <stdint.h>
#include <stddef.h>
#include "esalign.h"

/* Read a FASTA or FASTA.gz (htslib). Returns a new reference or NULL (es_error names the file and the problem:
 * missing, empty, no '>' header, empty contig, duplicate contig name). Free with es_ref_destroy(). */
es_ref_t *es_ref_load_fasta(const char *fn);
void es_ref_destroy(es_ref_t *ref);

/* Base code (0..3, or 4 inside an N run) at global position pos. */
int es_ref_base(const es_ref_t *ref, int64_t pos);
/* Number of N bases in global [beg,end). */
int64_t es_ref_count_n(const es_ref_t *ref, int64_t beg, int64_t end);

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
