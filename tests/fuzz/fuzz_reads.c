/* fuzz_reads.c — libFuzzer target: the strict FASTQ/FASTA read parser (es_reader_open/next) on arbitrary bytes. */
#include "fuzz.h"
#include "seqio.h"

volatile unsigned fuzz_sink;   /* what the target reads goes here, so it is not optimised away */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	es_reader_t *rd = es_reader_open(fuzz_path(data, n, 0));
	if (!rd) return 0;
	es_read_t r = { 0 };
	while (es_reader_next(rd, &r) > 0) {
		for (int i = 0; i < r.len; i++) fuzz_sink += r.seq[i];   /* touch every byte the parser says it filled */
		if (r.qual)
			for (int i = 0; i < r.len; i++) fuzz_sink += r.qual[i];
	}
	es_read_free(&r);
	es_reader_close(rd);
	return 0;
}
