/* esalign.h — the public API of libesalign (build/libesalign.a): everything a program needs to embed DNA, build and
 * search the vector store, align reads and score the result. Each module's header documents ownership and return
 * values; the conventions are htslib's: functions return >= 0 on success and -1 on error with a one-line message in
 * es_last_error() (naming the file and the problem); the library never exits or prints errors itself.
 * Coordinates are 0-based half-open [beg,end); nucleotide codes are A=0 C=1 G=2 T=3 N=4.
 *
 *   es_ref_load_fasta()            seqio.h     FASTA -> 2-bit reference with contigs and N runs
 *   es_reader_open/next()          seqio.h     strict FASTQ/FASTA reader (plain, gzip, stdin)
 *   es_encoder_open()/embed        encoder.h   DNA -> unit vector ("kmer" sketch or "transformer" model)
 *   es_index_build/load()          store.h     the vector store: windows, vectors, approximate search
 *   es_index_candidates()          store.h     read -> candidate loci (embed + search)
 *   es_align()                     align.h     SIMD Smith-Waterman with CIGAR, NM, MD
 *   es_map_file()                  map.h       the whole pipeline: reads -> SAM/BAM, multi-threaded
 *   es_sim_reads(), es_eval_sam()  simulate.h, eval.h   reads with known origins; accuracy of any SAM
 *
 * examples/embed_search.c is a small program that uses only this header. */
#ifndef ESALIGN_H
#define ESALIGN_H
#include "util.h"
#include "seqio.h"
#include "encoder.h"
#include "store.h"
#include "align.h"
#include "map.h"
#include "simulate.h"
#include "eval.h"
#endif
