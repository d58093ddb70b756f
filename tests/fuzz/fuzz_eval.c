/* fuzz_eval.c — libFuzzer target: esalign eval's SAM reader with the truth in the read names (es_eval_sam with no
 * truth file), and its truth-SAM reader (the same bytes as the truth of a fixed one-read SAM). */
#include "fuzz.h"
#include "eval.h"
#include <string.h>

static const char one_read[] = "@HD\tVN:1.6\n@SQ\tSN:chr1\tLN:1000\n"
	"r1\t0\tchr1\t11\t60\t10M\t*\t0\t0\tACGTACGTAC\t*\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	es_eval_opt_t opt;
	es_eval_opt_init(&opt);
	es_eval_t ev;
	es_eval_sam(fuzz_path(data, n, 0), NULL, &opt, &ev);
	const char *sam = fuzz_path((const uint8_t *)one_read, strlen(one_read), 1);
	es_eval_sam(sam, fuzz_path(data, n, 0), &opt, &ev);
	return 0;
}
