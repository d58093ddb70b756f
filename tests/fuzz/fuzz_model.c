/* fuzz_model.c — libFuzzer target: the model loader (es_model_load) on arbitrary bytes; a model that loads embeds
 * one short sequence. */
#include "fuzz.h"
#include "model.h"
#include "encoder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n)
{
	es_encoder_t *e = es_encoder_transformer_load(fuzz_path(data, n, 0));
	if (!e) return 0;
	uint8_t seq[100];
	for (int i = 0; i < 100; i++) seq[i] = (uint8_t)(i * 7 % 4);
	const uint8_t *seqs[1] = { seq };
	int lens[1] = { 100 };
	float *out = malloc(sizeof(float) * es_encoder_dim(e));
	es_encoder_embed(e, 1, seqs, lens, out);
	free(out);
	es_encoder_destroy(e);
	return 0;
}
