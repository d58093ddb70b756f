/* model.c — placeholder until the transformer encoder lands (issue: Embed). */
#include "encoder.h"
#include "util.h"
es_encoder_t *es_encoder_transformer_load(const char *path)
{
	es_error("%s: the transformer encoder is not built yet (use --encoder kmer)", path);
	return NULL;
}
