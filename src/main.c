/* main.c — the esalign command: dispatch to subcommands. The only place that exits the process. */
#include "cli.h"
#include "util.h"
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <errno.h>
#include <cblas.h>
#include <malloc.h>

int es_cli_argc;
char **es_cli_argv;

int es_cli_fail(const char *cmd)
{
	fprintf(stderr, "esalign %s: %s\n", cmd, *es_last_error() ? es_last_error() : "failed");
	return 1;
}

char *es_cli_cmdline(void)
{
	size_t n = 1;
	for (int i = 0; i < es_cli_argc; i++)
		n += strlen(es_cli_argv[i]) + 1;
	char *s = es_malloc(n);
	char *p = s;
	for (int i = 0; i < es_cli_argc; i++)
		p += sprintf(p, i ? " %s" : "%s", es_cli_argv[i]);
	*p = 0;
	return s;
}

static const struct { const char *name; int (*fn)(int, char **); const char *help; } cmds[] = {
	{ "index",    main_index,    "build the DNA vector store of a reference FASTA" },
	{ "align",    main_align,    "align reads (FASTQ/FASTA) to an index, write SAM/BAM" },
	{ "embed",    main_embed,    "print the embedding vectors of sequences" },
	{ "train",    main_train,    "train the transformer encoder (contrastive, InfoNCE)" },
	{ "simulate", main_simulate, "simulate reads with their true origin in the read names" },
	{ "eval",     main_eval,     "score a SAM/BAM against the true origins of its reads" },
	{ "demo",     main_demo,     "index a small genome, simulate reads, align them and print accuracy" },
};

/* Prints the command list; returns the exit status: 0 when asked for (stdout), 1 after a usage error (stderr). */
static int usage(FILE *fp)
{
	fprintf(fp, "esalign %s — Embed-Search-Align DNA short-read aligner\n\n"
	        "Usage: esalign <command> [options]\n\nCommands:\n", ESALIGN_VERSION);
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		fprintf(fp, "  %-9s %s\n", cmds[i].name, cmds[i].help);
	fprintf(fp, "  %-9s %s\n\nRun 'esalign <command> --help' for its options.\n", "version", "print the version");
	return fp == stdout ? 0 : 1;
}

/* Data printed to stdout (embed, eval --tsv, simulate -o -, help) is buffered: a full disk or an I/O error shows
 * only when it is flushed. Every subcommand's status passes through here, so no lost output exits 0. (A closed
 * pipe ends the process by SIGPIPE, quietly, as for any Unix filter.) */
static int finish(const char *cmd, int status)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return status;
	if (status == 0)
		fprintf(stderr, "esalign %s: stdout: write failed: %s\n", cmd, strerror(errno ? errno : EIO));
	return status ? status : 1;
}

/* Freed memory stays with the process: each chunk of reads allocates megabytes of search scratch (search.c, 1,024
 * queries), which glibc would otherwise map fresh (above its mmap threshold) or hand back (above its trim threshold)
 * and then fault in again, page by page, for the next chunk (chrX 70 Mb, 10,000 100 bp reads, 1 thread: 63,800 page
 * faults instead of 14,100, 0.3 s of system time). The index is mmap'ed by store_file.c and is not affected. The
 * environment's MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ win, as glibc documents for its tunables. */
static void keep_heap(void)
{
	if (!getenv("MALLOC_MMAP_THRESHOLD_"))
		mallopt(M_MMAP_THRESHOLD, 32 << 20);   /* glibc's documented maximum on 64-bit */
	if (!getenv("MALLOC_TRIM_THRESHOLD_"))
		mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

int main(int argc, char *argv[])
{
	es_cli_argc = argc;
	es_cli_argv = argv;
	/* esalign runs its own threads over reads and windows (-t); BLAS threads under each would oversubscribe the
	 * cores and spin (measured: a third of the CPU in sched_yield). OPENBLAS_NUM_THREADS, when set, wins. */
	if (!getenv("OPENBLAS_NUM_THREADS"))
		openblas_set_num_threads(1);
	keep_heap();
	if (argc < 2)
		return usage(stderr);
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help"))
		return usage(stdout);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("esalign %s\n", ESALIGN_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (!strcmp(cmd, cmds[i].name))
			return finish(cmd, cmds[i].fn(argc - 1, argv + 1));
	fprintf(stderr, "esalign: unknown command '%s'\n", cmd);
	return usage(stderr);
}
