/* esalign.h — the public API of libesalign (build/libesalign.a), self-contained: open an index, embed DNA, search
 * the vector store for a read's candidate loci, verify them with Smith-Waterman, or align a whole read file to SAM.
 * Conventions (htslib's): functions return >= 0 (or non-NULL) on success and -1 (or NULL) on error, with a one-line
 * message in es_last_error() naming the file and the problem; the library never exits or prints errors itself.
 * Every object a function returns is owned by the caller unless said otherwise, and is freed by the function named.
 * Coordinates are 0-based half-open [beg,end); "global" coordinates index the concatenation of all contigs.
 * Nucleotide codes are A=0 C=1 G=2 T=3 N=4. Link with -lesalign -lhts -lopenblas -lz -lm -lpthread.
 *
 * Every declaration here is the same, word for word, as its twin in the library's internal headers (src/);
 * tests/header_check.c compiles both together so that they cannot drift. Until those headers include this one, a
 * struct is defined here only when its internal header has not been included first (the #ifndef around it). */
#ifndef ESALIGN_H
#define ESALIGN_H
#include <stdint.h>

#define ES_VERSION "0.1.0"   /* esalign version, in @PG and `esalign version` */

/* ---- errors ---- */
/* The last error message of this thread ("" if none). */
const char *es_last_error(void);

/* ---- nucleotide codes and the reference ---- */
extern const uint8_t es_nt4[256];   /* ASCII -> code 0..4 */
extern const char es_code2nt[5];   /* code -> "ACGTN" */
/* Reverse-complement codes in place (N stays N). */
void es_revcomp(uint8_t *s, int64_t len);

#ifndef ES_SEQIO_H
typedef struct {
	char *name;
	int64_t len;   /* bases */
	int64_t off;   /* global offset of base 0: contig covers [off, off+len) */
} es_contig_t;

typedef struct {
	int64_t beg, end;  /* [beg,end) global: a maximal run of N */
} es_nrun_t;

/* A reference genome; read-only for users (es_index_ref gives one). Contig i is contig[i], 0 <= i < n_contig. */
typedef struct {
	int32_t n_contig;
	es_contig_t *contig;
	int64_t len;       /* total bases, sum of contig lengths */
	uint8_t *pac;      /* 2-bit packed, base i in bits 2*(i&3) of byte i>>2; N positions hold 0 (see nrun) */
	int64_t n_nrun;
	es_nrun_t *nrun;   /* sorted, non-overlapping, never spanning two contigs */
	int owns_pac;      /* 1 if pac/contig/nrun were malloc'ed (0 when they point into an mmap'ed index) */
} es_ref_t;
#endif

/* Copy codes of global [beg,end) into out (end-beg bytes); N runs give 4. Caller keeps ranges inside [0,len). */
void es_ref_get(const es_ref_t *ref, int64_t beg, int64_t end, uint8_t *out);
/* Contig index holding global position pos (binary search); -1 if out of range. */
int es_ref_contig_at(const es_ref_t *ref, int64_t pos);
/* Index of a contig by name, or -1. */
int es_ref_contig_by_name(const es_ref_t *ref, const char *name);

/* ---- encoders: DNA -> unit vector, the same for both strands ---- */
typedef struct es_encoder_s es_encoder_t;   /* opaque */
/* Open an encoder from a spec: "kmer" (k=15, dim=64), "kmer:K:DIM", "transformer" (the shipped model, found through
 * $ESALIGN_MODEL or models/esalign.model beside the binary), or a path to a model file.
 * Returns NULL with es_error set (naming the file) on failure. Free with es_encoder_destroy. */
es_encoder_t *es_encoder_open(const char *spec);
void es_encoder_destroy(es_encoder_t *e);
/* Embed n sequences (codes 0..4, N=4; seqs[i] of lens[i] bases, at most es_encoder_max_len) into out (n*dim floats,
 * each row L2-normalised; an all-N or too-short sequence gives a zero row). Thread-safe: may be called from several
 * threads at once. Returns 0, or -1 with es_error set. */
int es_encoder_embed(const es_encoder_t *e, int n, const uint8_t *const *seqs, const int *lens, float *out);
int es_encoder_dim(const es_encoder_t *e);            /* output dimension */
int es_encoder_max_len(const es_encoder_t *e);        /* longest input accepted (bases) */
const char *es_encoder_name(const es_encoder_t *e);   /* e.g. "kmer(k=15,dim=64)" */
uint64_t es_encoder_checksum(const es_encoder_t *e);  /* identity of the parameters */

/* ---- the index (vector store of reference windows), built by `esalign index` ---- */
typedef struct es_index_s es_index_t;   /* opaque; immutable after load, so safe to share between threads */

/* Map an index. path is the file, or a prefix to which ".esi" is appended if path itself does not exist.
 * The whole content is checksummed on load: a missing, truncated, foreign, wrong-version or corrupt file is refused
 * (NULL, es_error names the file(s) and the problem). Free with es_index_destroy. */
es_index_t *es_index_load(const char *path);
void es_index_destroy(es_index_t *idx);

/* The reference stored in the index (arrays point into the mapping, owns_pac=0; valid until es_index_destroy). */
const es_ref_t *es_index_ref(const es_index_t *idx);
const char *es_index_encoder_spec(const es_index_t *idx);   /* as given at build time, e.g. "kmer" */
const char *es_index_encoder_name(const es_index_t *idx);   /* es_encoder_t.name at build time */
const char *es_index_path(const es_index_t *idx);           /* the file that was loaded */
int es_index_w(const es_index_t *idx);
int es_index_stride(const es_index_t *idx);
int es_index_dim(const es_index_t *idx);
int64_t es_index_n_windows(const es_index_t *idx);
/* Window i (0 <= i < n_windows) covers global [*beg,*end); windows are sorted by beg and never span two contigs. */
void es_index_window(const es_index_t *idx, int64_t i, int64_t *beg, int64_t *end);

/* 0 if enc is the encoder the index was built with (same checksum and dim); else -1 with es_error naming both. */
int es_index_check_encoder(const es_index_t *idx, const es_encoder_t *enc);
/* Open the index's encoder from its recorded spec and check it (NULL with es_error set on failure). */
es_encoder_t *es_index_open_encoder(const es_index_t *idx);

/* ---- search ---- */
#define ES_SEARCH_EXACT 1   /* brute force over every window (the yardstick); default is the approximate search */
#define ES_CAND_WHOLE   2   /* es_index_candidates: one query per read whatever its length (no chunks) */

/* Top-k windows by inner product for n query vectors q (n*dim floats, unit length). ids[n*k] receives window
 * indices best first (-1 pads when fewer than k, e.g. for a zero query), scores[n*k] the inner products (may be
 * NULL). Ties are broken by the lower window index, so results are deterministic. Thread-safe (own scratch).
 * Returns 0, or -1 with es_error set. */
int es_index_search(const es_index_t *idx, int n, const float *q, int k, int flags, int64_t *ids, float *scores);

/* ---- reads -> candidate loci ---- */
#ifndef ES_STORE_H
typedef struct {
	int64_t beg, end;  /* global [beg,end), inside one contig: expected to contain the read's origin (either strand) */
	float score;       /* sum over the read's chunks of the best window score inside the locus (higher is better) */
} es_locus_t;
#endif

/* For each of n reads (codes 0..4, seqs[i] of lens[i] bases), up to max_loci candidate loci, best first, into
 * loci[i*max_loci ..], their number into n_loci[i]. A read up to 5/4 of the window length is one query; a longer read
 * is cut into chunks of the window length whose hits vote. Hits are padded by max(0, len-W) + stride on both sides,
 * clipped to their contig and merged when they overlap. A read shorter than 16 bases or mostly N gets 0 loci.
 * enc must be the index's encoder (checked). flags: ES_SEARCH_EXACT or 0. Thread-safe. Returns 0, or -1 (es_error). */
int es_index_candidates(const es_index_t *idx, const es_encoder_t *enc, int n, const uint8_t *const *seqs,
                        const int *lens, int max_loci, es_locus_t *loci, int *n_loci, int flags);

/* ---- pairwise alignment: a read against a candidate region (bwa mem's scoring and end-clipping rule) ---- */
#ifndef ES_ALIGN_H
/* Scoring. Penalties are positive numbers that are subtracted; n_score is added as is (signed).
 * A match scores +match, a mismatch -mismatch, any pair with an N scores n_score, a gap of length L costs
 * gap_open + L*gap_ext, and reaching each end of the read earns a bonus of clip_pen (see es_align). */
typedef struct {
	int match;      /* > 0 */
	int mismatch;   /* >= 0 */
	int gap_open;   /* >= 0 */
	int gap_ext;    /* > 0 */
	int n_score;    /* <= 0 usually */
	int clip_pen;   /* >= 0: bonus for an end of the read that is not soft-clipped */
} es_score_t;

typedef struct {
	int score;        /* score of this alignment (its CIGAR) without the end bonuses, for SAM AS:i. Note: bwa mem's
	                   * AS:i is its local extension's maximum, which exceeds the score of the end-to-end CIGAR it
	                   * prints by up to clip_pen-1 per end when it extends through a late mismatch */
	int qbeg, qend;   /* [qbeg,qend): aligned part of the query (qbeg == qend: no alignment, see es_align) */
	int tbeg, tend;   /* [tbeg,tend): aligned part of the target */
	uint32_t *cigar;  /* BAM-encoded len<<4|op (ops: 0 M, 1 I, 2 D, 4 S); S only at the ends, M/I/D inside;
	                   * the aligned part starts and ends with M. Owned; free with es_aln_free */
	int n_cigar;
	int nm;           /* NM:i edit distance of the aligned part (mismatches + inserted + deleted bases) */
	char *md;         /* MD:Z string, NUL-terminated; owned; free with es_aln_free */
} es_aln_t;
#endif

/* bwa mem's defaults: match 1, mismatch 4, gap open 6, gap extend 1 (a gap of length L costs 6+L), N -1, clip 5. */
es_score_t es_score_default(void);
/* Free cigar and md and zero the struct (safe on a zeroed struct; the struct itself is the caller's). */
void es_aln_free(es_aln_t *a);
/* Align query q[0,qlen) into target t[0,tlen) (codes 0..4): local alignment with affine gaps in which reaching each
 * end of q earns clip_pen, so an end is soft-clipped only when that scores at least clip_pen more (bwa mem's rule);
 * ties are broken deterministically (src/align.h has the full contract). On success fills *out (which must not hold
 * a previous result: es_aln_free it first) and returns 0. Returns -1 with es_error set on bad arguments (NULL, qlen
 * or tlen < 1, a code > 4, a scoring value outside [0,1000], or qlen*tlen > 2^28). Thread-safe. */
int es_align(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, es_aln_t *out);
/* Score-only version of es_align, for ranking many candidates: the same score and tend as es_align would report
 * (tend may be NULL). Returns 0, or -1 with es_error set (same conditions as es_align). */
int es_align_score(const uint8_t *q, int qlen, const uint8_t *t, int tlen, const es_score_t *sc, int *score,
                   int *tend);

/* ---- aligning a read file: reads -> candidate loci -> Smith-Waterman -> SAM/BAM, multi-threaded ---- */
#ifndef ES_MAP_H
typedef struct {
	int n_threads;      /* worker threads (>= 1) */
	int max_loci;       /* -K: candidate loci requested from the vector store per read */
	int max_align;      /* at most this many loci are verified by full alignment per read */
	int n_secondary;    /* --secondary: at most this many secondary (0x100) records per read */
	int min_len;        /* reads shorter than this are reported unmapped */
	int min_score;      /* alignments scoring below this are reported unmapped (bwa's -T) */
	int batch_size;     /* reads per batch */
	const char *rg_line;      /* a full "@RG\tID:..." header line (tabs already expanded) or NULL */
	const char *encoder_spec; /* encoder to use; NULL: the one recorded in the index */
	float locus_ratio;  /* loci after the first two are verified only if their similarity >= this * the best's */
	double deficit_coef; /* unused since MAPQ is the fitted model of mapq.c (kept for the layout of the API) */
	int exact;          /* use exact (brute-force) search instead of the approximate index */
	int nprobe;         /* index with inverted lists: lists scanned per query (0: the index's default) */
	es_score_t sc;
	int mapq_features;  /* hidden --mapq-features: an XF:Z tag with the MAPQ model inputs on each primary record */
} es_map_opt_t;

typedef struct {
	int64_t n_reads, n_mapped, n_unmapped_short;
	double seconds;
} es_map_stats_t;
#endif

/* The defaults of `esalign align`. */
void es_map_opt_init(es_map_opt_t *opt);
/* Align every read of reads_path ("-" for stdin) against the index and write SAM (or BAM when out_path ends in
 * ".bam") to out_path ("-" for stdout). The output is written to a temporary name and renamed on success; on any
 * error nothing is left behind. cmdline goes into @PG CL:. stats (not NULL) receives the number of reads, of mapped
 * reads and of reads too short to map, and the seconds taken. Returns 0 or -1 (es_error set). */
int es_map_file(const char *index_path, const char *reads_path, const char *out_path, const es_map_opt_t *opt,
                const char *cmdline, es_map_stats_t *stats);
#endif
