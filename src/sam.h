/* sam.h — SAM/BAM output of 'esalign align' through htslib: the header, one record per placement, and the output
 * file (written under a temporary name, renamed on success, removed on failure; every write checked). */
#ifndef ES_SAM_H
#define ES_SAM_H
#include <stdint.h>
#include <htslib/sam.h>
#include "align.h"
#include "seqio.h"

/* The header: @HD VN:1.6 SO:unsorted GO:query, one @SQ per contig, rg_line (a full "@RG\t..." line, or NULL), and
 * @PG with cmdline in CL: (NULL: "esalign"). NULL with es_error set if htslib refuses it. */
sam_hdr_t *es_sam_header(const es_ref_t *ref, const char *rg_line, const char *cmdline);

/* One record's placement. Single-end records leave the mate fields as ES_SAM_NO_MATE sets them. */
typedef struct {
	int flag;              /* SAM FLAG: 4 unmapped, 16 reverse strand, 0x100 secondary; pairs: 1, 2, 8, 32, 64, 128 */
	int tid;               /* contig index; -1 when unmapped (an unmapped mate of a placed one: the mate's) */
	int64_t pos;           /* 0-based leftmost reference position on the contig; -1 when unmapped */
	int mapq;
	const es_aln_t *aln;   /* CIGAR, and NM, MD, AS tags; NULL when unmapped */
	int xs;                /* XS:i (runner-up score), or -1 for none */
	int mtid;              /* RNEXT: the mate's contig index, -1 for none */
	int64_t mpos;          /* PNEXT: the mate's 0-based position, -1 for none */
	int64_t tlen;          /* TLEN (SAM spec sign convention), 0 when unknown */
	const es_aln_t *mate_aln;  /* MC:Z (the mate's CIGAR) when not NULL */
	int mate_mapq;         /* MQ:i when >= 0 */
	int mate_ms;           /* ms:i (the mate's sum of base qualities >= 15, samtools fixmate's score) when >= 0 */
} es_sam_rec_t;
#define ES_SAM_NO_MATE .mtid = -1, .mpos = -1, .tlen = 0, .mate_aln = NULL, .mate_mapq = -1, .mate_ms = -1

/* Build the record of read r: codes are its bases (0..4) on the strand of the placement (reverse-complemented for
 * flag 16, and QUAL is then reversed too), rg_id gives RG:Z (NULL: none). Tags in the order NM, MD, AS, XS, MC,
 * MQ, ms, RG.
 * Returns a record to free with bam_destroy1(), or NULL with es_error set (naming the read) if htslib refuses it. */
bam1_t *es_sam_record(const es_read_t *r, const uint8_t *codes, const es_sam_rec_t *rec, const char *rg_id);
/* samtools fixmate's mate score of a read: the sum of its base qualities of at least 15 (0 without qualities). */
int es_sam_qual_score(const es_read_t *r);

/* The output file. path "-" is stdout, written in place, as is an existing non-regular file (es_tmp_name); a path
 * ending in ".bam" gets BAM, anything else SAM. */
typedef struct es_sam_out_s es_sam_out_t;
/* Create the output and write hdr (borrowed until es_sam_close/abort). NULL with es_error set (naming the file and
 * the system error); nothing is left behind then. */
es_sam_out_t *es_sam_open(const char *path, const sam_hdr_t *hdr);
/* Write one record: 0, or -1 with es_error set (file name and system error). */
int es_sam_write(es_sam_out_t *o, const bam1_t *b);
/* Flush, close and rename to the final name; frees o. 0, or -1 with es_error set and the temporary removed. */
int es_sam_close(es_sam_out_t *o);
/* Close without keeping anything: the temporary is removed; frees o (NULL is a no-op). */
void es_sam_abort(es_sam_out_t *o);
#endif
