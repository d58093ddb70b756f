/* test_reads.c — the strict FASTQ/FASTA read parser (es_reader_*): good input in every accepted form (multi-line,
 * gzip, CRLF, blank lines) and each malformed form refused with a message naming the file and the record number. */
#include "test.h"
#include "seqio.h"
#include "util.h"
#include <stdlib.h>
#include <zlib.h>

static const char *tmp_path(const char *name)
{
	static char path[4][512];
	static int k;
	k = (k + 1) & 3;
	snprintf(path[k], sizeof path[k], "%s/%s", es_test_tmpdir(), name);
	return path[k];
}

/* write n bytes (may hold NULs) to a scratch file; return its path */
static const char *write_bytes(const char *name, const char *buf, size_t n)
{
	const char *p = tmp_path(name);
	FILE *fp = fopen(p, "wb");
	fwrite(buf, 1, n, fp);
	fclose(fp);
	return p;
}
static const char *write_text(const char *name, const char *text) { return write_bytes(name, text, strlen(text)); }

static const char *write_gz(const char *name, const char *text)
{
	const char *p = tmp_path(name);
	gzFile gz = gzopen(p, "wb");
	gzwrite(gz, text, (unsigned)strlen(text));
	gzclose(gz);
	return p;
}

/* read every record; return the number read before the end (>= 0) or -(records read + 1) on an error */
static int read_all(const char *path, es_read_t *last)
{
	es_reader_t *rd = es_reader_open(path);
	if (!rd) return -1000;
	es_read_t r = { 0 };
	int n = 0, ret;
	while ((ret = es_reader_next(rd, &r)) > 0) {
		n++;
		if (last) {
			es_read_free(last);
			last->name = es_strdup(r.name); last->comment = es_strdup(r.comment); last->seq = es_strdup(r.seq);
			last->qual = r.qual ? es_strdup(r.qual) : NULL; last->len = r.len; last->id = r.id;
		}
	}
	es_read_free(&r);
	es_reader_close(rd);
	return ret < 0 ? -(n + 1) : n;
}

/* the input must fail at record recno (1-based) with a message naming the file, the record and containing what */
static void expect_bad(const char *path, int recno, const char *what)
{
	int ret = read_all(path, NULL);
	CHECKF(ret == -recno, "%s: want failure at record %d, got %d", path, recno, ret);
	const char *msg = es_last_error();
	char rec[64];
	snprintf(rec, sizeof rec, "record %d", recno);
	CHECKF(strstr(msg, path) != NULL, "message does not name the file: %s", msg);
	CHECKF(strstr(msg, rec) != NULL, "message does not name %s: %s", rec, msg);
	if (what) CHECKF(strstr(msg, what) != NULL, "message lacks '%s': %s", what, msg);
}

static void check_fastq_content(const char *path)
{
	es_reader_t *rd = es_reader_open(path);
	CHECK(rd != NULL);
	if (!rd) return;
	es_read_t r = { 0 };
	CHECK_EQ_INT(es_reader_next(rd, &r), 1);
	CHECK_STR(r.name, "r1");
	CHECK_STR(r.comment, "first read\tx");
	CHECK_STR(r.seq, "ACGTN");
	CHECK_STR(r.qual, "IIII#");
	CHECK_EQ_INT(r.len, 5);
	CHECK_EQ_INT(r.id, 0);
	CHECK_EQ_INT(es_reader_next(rd, &r), 1);
	CHECK_STR(r.name, "r2");
	CHECK_STR(r.comment, "");
	CHECK_STR(r.seq, "acgtacgtAA");       /* sequence over two lines, case kept */
	CHECK_STR(r.qual, "@@@@@+++++");      /* quality over two lines, may begin with '@' or '+' */
	CHECK_EQ_INT(r.len, 10);
	CHECK_EQ_INT(r.id, 1);
	CHECK_EQ_INT(es_reader_next(rd, &r), 1);
	CHECK_STR(r.name, "r3");
	CHECK_STR(r.seq, "G");
	CHECK_STR(r.qual, "@");                /* a one-base quality that looks like a header */
	CHECK_EQ_INT(es_reader_next(rd, &r), 0);
	CHECK_EQ_INT(es_reader_next(rd, &r), 0);  /* stays at the end */
	es_read_free(&r);
	es_reader_close(rd);
}

static const char *good_fastq =
	"@r1 first read\tx\nACGTN\n+\nIIII#\n"
	"@r2\nacgtacgt\nAA\n+r2\n@@@@@\n+++++\n"
	"\n"
	"@r3\nG\n+\n@\n";

TEST(reads_fastq_good)
{
	check_fastq_content(write_text("good.fq", good_fastq));
}

TEST(reads_fastq_crlf)
{
	char buf[1024], *q = buf;
	for (const char *p = good_fastq; *p; p++) { if (*p == '\n') *q++ = '\r'; *q++ = *p; }
	*q = 0;
	check_fastq_content(write_text("crlf.fq", buf));
}

TEST(reads_fastq_gzip)
{
	check_fastq_content(write_gz("good.fq.gz", good_fastq));
}

TEST(reads_fasta_multiline)
{
	const char *fa = ">c1 some words\nACGT\nacgt\n\nNNNN\n>c2\nTTTT\r\n>c3\nG";  /* blank line, CRLF, no final newline */
	for (int gz = 0; gz < 2; gz++) {
		const char *p = gz ? write_gz("m.fa.gz", fa) : write_text("m.fa", fa);
		es_reader_t *rd = es_reader_open(p);
		CHECK(rd != NULL);
		if (!rd) continue;
		es_read_t r = { 0 };
		CHECK_EQ_INT(es_reader_next(rd, &r), 1);
		CHECK_STR(r.name, "c1");
		CHECK_STR(r.comment, "some words");
		CHECK_STR(r.seq, "ACGTacgtNNNN");
		CHECK(r.qual == NULL);
		CHECK_EQ_INT(r.len, 12);
		CHECK_EQ_INT(es_reader_next(rd, &r), 1);
		CHECK_STR(r.name, "c2");
		CHECK_STR(r.seq, "TTTT");
		CHECK_EQ_INT(es_reader_next(rd, &r), 1);
		CHECK_STR(r.seq, "G");
		CHECK_EQ_INT(r.id, 2);
		CHECK_EQ_INT(es_reader_next(rd, &r), 0);
		es_read_free(&r);
		es_reader_close(rd);
	}
}

TEST(reads_many_records_and_long_reads)
{
	/* 3000 records of up to 2000 bases, gzip: buffers grow and record numbers count */
	es_rng_t rng; es_rng_seed(&rng, 5);
	size_t cap = 8u << 20, n = 0;
	char *text = es_malloc(cap);
	for (int i = 0; i < 3000; i++) {
		int len = 1 + (int)es_rng_below(&rng, 2000);
		n += sprintf(text + n, "@read%d\n", i);
		for (int j = 0; j < len; j++) text[n++] = "ACGT"[es_rng_below(&rng, 4)];
		memcpy(text + n, "\n+\n", 3); n += 3;
		for (int j = 0; j < len; j++) text[n++] = (char)('!' + es_rng_below(&rng, 94));
		text[n++] = '\n';
	}
	text[n] = 0;
	es_read_t last = { 0 };
	CHECK_EQ_INT(read_all(write_gz("many.fq.gz", text), &last), 3000);
	CHECK_STR(last.name, "read2999");
	CHECK_EQ_INT(last.id, 2999);
	CHECK_EQ_INT(strlen(last.seq), last.len);
	CHECK_EQ_INT(strlen(last.qual), last.len);
	es_read_free(&last);
	free(text);
}

TEST(reads_empty_file)
{
	CHECK_EQ_INT(read_all(write_text("empty.fq", ""), NULL), 0);
	CHECK_EQ_INT(read_all(write_text("blank.fq", "\n\n\r\n"), NULL), 0);
	CHECK_EQ_INT(read_all(write_gz("empty.fq.gz", ""), NULL), 0);
}

TEST(reads_missing_file)
{
	const char *p = tmp_path("does-not-exist.fq");
	CHECK(es_reader_open(p) == NULL);
	CHECKF(strstr(es_last_error(), p) != NULL, "%s", es_last_error());
}

TEST(reads_malformed)
{
	const char *ok = "@ok\nACGT\n+\nIIII\n";   /* a good first record, so the bad one is record 2 */
	char buf[512];
	struct { const char *name, *body, *what; } cases[] = {
		{ "qshort.fq",    "@r\nACGT\n+\nII\n@sread\nACGT\n+\nIIII\n", "quality" },  /* short quality swallows the next header */
		{ "qlong.fq",     "@r\nACGT\n+\nIIIII\n",                 "quality" },
		{ "qshort_eof.fq","@r\nACGT\n+\nII\n",                    "quality" },
		{ "trunc_q.fq",   "@r\nACGT\n+\n",                        "quality" },   /* EOF where the quality should be */
		{ "trunc_qp.fq",  "@r\nACGT\n+\nII",                      "quality" },   /* EOF inside the quality */
		{ "noplus.fq",    "@r\nACGT\nIIII\n@s\nACGT\n+\nIIII\n",  "'+'" },
		{ "noplus_eof.fq","@r\nACGT\n",                           "'+'" },
		{ "hdronly.fq",   "@r\n",                                 NULL },
		{ "emptyseq.fq",  "@r\n+\n\n",                            "empty" },
		{ "emptyseq2.fq", "@r\n\n+\n\n",                          "empty" },
		{ "emptyfa.fa",   ">r\n>s\nACGT\n",                       "empty" },
		{ "noname.fq",    "@\nACGT\n+\nIIII\n",                   "name" },
		{ "noname2.fq",   "@ x\nACGT\n+\nIIII\n",                 "name" },
		{ "noat.fq",      "r\nACGT\n+\nIIII\n",                   "'@'" },
		{ "badchar.fq",   "@r\nAC1T\n+\nIIII\n",                  "invalid character" },
		{ "badqual.fq",   "@r\nACGT\n+\nII I\n",                  "quality" },
		{ "badqual2.fq",  "@r\nACGT\n+\nII\x7fI\n",               "quality" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		/* alone (record 1) and after a good record (record 2) */
		expect_bad(write_text(cases[i].name, cases[i].body), 1, cases[i].what);
		snprintf(buf, sizeof buf, "%s%s", strncmp(cases[i].name, "emptyfa", 7) ? ok : ">ok\nACGT\n", cases[i].body);
		char n2[64]; snprintf(n2, sizeof n2, "second_%s", cases[i].name);
		expect_bad(write_text(n2, buf), 2, cases[i].what);
	}
}

TEST(reads_malformed_gzip)
{
	/* the same errors through gzip */
	expect_bad(write_gz("qshort.fq.gz", "@ok\nACGT\n+\nIIII\n@r\nACGT\n+\nII\n"), 2, "quality");
	expect_bad(write_gz("noat.fq.gz", "@ok\nACGT\n+\nIIII\nr\nACGT\n+\nIIII\n"), 2, "'@'");
}

TEST(reads_garbage_binary)
{
	es_rng_t rng; es_rng_seed(&rng, 9);
	char buf[4096];
	for (int trial = 0; trial < 20; trial++) {
		for (size_t i = 0; i < sizeof buf; i++) buf[i] = (char)es_rng_below(&rng, 256);
		buf[0] = (char)(0x80 | trial);  /* never '@' or '>' or blank */
		expect_bad(write_bytes("garbage.bin", buf, sizeof buf), 1, NULL);
	}
	/* binary bytes (a NUL, control characters) inside a record's sequence */
	static const char nul[] = "@ok\nACGT\n+\nIIII\n@r\nAC\0\x01GT\n+\nIIIIII\n";
	expect_bad(write_bytes("nul.fq", nul, sizeof nul - 1), 2, NULL);
}

TEST(reads_truncated_gzip)
{
	/* a gzip file cut in the middle must be an error, not a silent short read */
	es_rng_t rng; es_rng_seed(&rng, 3);
	size_t n = 0;
	char *text = es_malloc(1 << 20);
	for (int i = 0; i < 2000; i++) {
		n += sprintf(text + n, "@r%d\n", i);
		for (int j = 0; j < 100; j++) text[n++] = "ACGT"[es_rng_below(&rng, 4)];
		memcpy(text + n, "\n+\n", 3); n += 3;
		for (int j = 0; j < 100; j++) text[n++] = 'I';
		text[n++] = '\n';
	}
	text[n] = 0;
	const char *p = write_gz("cut.fq.gz", text);
	FILE *fp = fopen(p, "rb");
	char *gz = es_malloc(1 << 20);
	size_t gn = fread(gz, 1, 1 << 20, fp);
	fclose(fp);
	const char *q = write_bytes("cut_half.fq.gz", gz, gn / 2);
	int ret = read_all(q, NULL);
	CHECKF(ret < 0, "truncated gzip read as %d records without an error", ret);
	if (ret < 0) CHECKF(strstr(es_last_error(), q) != NULL, "%s", es_last_error());
	free(gz); free(text);
}

TEST(reads_concatenated_gzip)
{
	/* "cat a.fq.gz b.fq.gz" is a valid gzip file of two members: both halves must be read */
	const char *a = write_gz("cat_a.fq.gz", "@a1\nACGT\n+\nIIII\n@a2\nAC\n+\nII\n");
	const char *b = write_gz("cat_b.fq.gz", "@b1\nGGGG\n+\nIIII\n");
	char buf[4096];
	size_t n = 0;
	const char *parts[2] = { a, b };
	for (int i = 0; i < 2; i++) {
		FILE *fp = fopen(parts[i], "rb");
		n += fread(buf + n, 1, sizeof buf - n, fp);
		fclose(fp);
	}
	es_read_t last = { 0 };
	CHECK_EQ_INT(read_all(write_bytes("cat.fq.gz", buf, n), &last), 3);
	CHECK_STR(last.name, "b1");
	CHECK_EQ_INT(last.id, 2);
	es_read_free(&last);
}

TEST(reads_stdin)
{
	/* "-" reads standard input (here a file put on fd 0); errors then name <stdin> */
	const char *p = write_text("stdin.fq", "@r1\nACGT\n+\nIIII\n@r2\nACGT\n+\nII\n");
	if (!freopen(p, "r", stdin)) { CHECK(0); return; }
	es_reader_t *rd = es_reader_open("-");
	CHECK(rd != NULL);
	if (!rd) return;
	es_read_t r = { 0 };
	CHECK_EQ_INT(es_reader_next(rd, &r), 1);
	CHECK_STR(r.name, "r1");
	CHECK_EQ_INT(es_reader_next(rd, &r), -1);
	CHECKF(strstr(es_last_error(), "<stdin>") && strstr(es_last_error(), "record 2"), "%s", es_last_error());
	es_read_free(&r);
	es_reader_close(rd);
}
