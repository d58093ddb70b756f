/* fuzz_fasta.c — libFuzzer target: the reference FASTA loader (es_ref_load_fasta) on arbitrary bytes, then a read of
 * every contig through es_ref_get. */
#include "fuzz.h"
#include "seqio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	es_ref_t *ref = es_ref_load_fasta(fuzz_path(data, n, 0));
	if (!ref) return 0;
	for (int c = 0; c < ref->n_contig; c++) {
		int64_t beg = ref->contig[c].off, len = ref->contig[c].len < 4096 ? ref->contig[c].len : 4096;
		uint8_t *buf = malloc(len + 1);
		es_ref_get(ref, beg, beg + len, buf);
		free(buf);
	}
	es_ref_destroy(ref);
	return 0;
}
