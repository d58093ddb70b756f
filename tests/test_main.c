/* test_main.c — the unit-test runner: runs every registered TEST (or those whose name contains any of argv[1..]). */
#include "test.h"
#include "store.h"
#include "util.h"
#include <stdlib.h>
#include <unistd.h>

#define MAX_TESTS 1024
typedef struct { const char *name, *file; void (*fn)(void); } test_entry_t;
static test_entry_t tests[MAX_TESTS];
static int n_tests;
int es_test_cur_failed;
static char tmpdir[256];

void es_test_register(const char *name, const char *file, void (*fn)(void))
{
	if (n_tests < MAX_TESTS) { tests[n_tests].name = name; tests[n_tests].file = file; tests[n_tests].fn = fn; n_tests++; }
}
const char *es_test_tmpdir(void) { return tmpdir; }

int es_test_map_quiet(const char *idx, const char *fq, const char *sam, const es_map_opt_t *o)
{
	es_map_opt_t def;
	es_map_opt_init(&def);
	es_map_stats_t st;
	int verbose = es_verbose;
	es_verbose = 1;
	int ret = es_map_file(idx, fq, sam, o ? o : &def, "esalign align test", &st);
	es_verbose = verbose;
	return ret;
}

int es_test_index_kmer(const es_ref_t *ref, const char *idx)
{
	es_encoder_t *enc = es_encoder_open("kmer");
	if (!enc)
		return -1;
	es_index_opt_t io;
	es_index_opt_init(&io);
	io.encoder_spec = "kmer";
	int ret = es_index_build(ref, enc, &io, idx, NULL);
	es_encoder_destroy(enc);
	return ret;
}
char *es_test_slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long l = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	char *b = malloc(l > 0 ? l + 1 : 1);
	size_t got = l > 0 ? fread(b, 1, l, fp) : 0;
	b[got] = 0;
	fclose(fp);
	if (n)
		*n = got;
	return b;
}
const char *es_test_bin(void) { const char *b = getenv("ESALIGN_BIN"); return b ? b : "./esalign"; }

static int cmp(const void *a, const void *b)
{
	const test_entry_t *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	return c ? c : strcmp(x->name, y->name);
}

int main(int argc, char *argv[])
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/esalign-test.XXXXXX");
	if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 2; }
	qsort(tests, n_tests, sizeof tests[0], cmp);
	int passed = 0, failed = 0;
	for (int i = 0; i < n_tests; i++) {
		int want = argc == 1;
		for (int a = 1; a < argc && !want; a++)
			want = strstr(tests[i].name, argv[a]) != NULL;
		if (!want)
			continue;
		es_test_cur_failed = 0;
		tests[i].fn();
		if (es_test_cur_failed) { failed++; fprintf(stderr, "FAIL %s (%s)\n", tests[i].name, tests[i].file); }
		else { passed++; fprintf(stderr, "ok   %s\n", tests[i].name); }
	}
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0) fprintf(stderr, "warning: could not remove %s\n", tmpdir);
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
