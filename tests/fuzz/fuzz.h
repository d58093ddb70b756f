/* fuzz.h — shared by the libFuzzer targets: the input bytes as a file path (the loaders take paths), through one
 * memfd reused across runs, so a run costs no disk I/O. */
#ifndef ES_FUZZ_H
#define ES_FUZZ_H
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>
#include <htslib/hts_log.h>

/* htslib's warnings about malformed input would fill the log with millions of lines: off (the loaders report their
 * failures through es_error, which is what is fuzzed). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	hts_set_log_level(HTS_LOG_OFF);
	return 0;
}

/* Write data[0,n) to this target's memfd (slot 0 or 1 for a second file) and return its path. */
static inline const char *fuzz_path(const uint8_t *data, size_t n, int slot)
{
	static int fd[2] = { -1, -1 };
	static char path[2][64];
	if (fd[slot] < 0) {
		fd[slot] = memfd_create(slot ? "fuzz-input-2" : "fuzz-input", 0);
		if (fd[slot] < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(path[slot], sizeof path[slot], "/proc/self/fd/%d", fd[slot]);
	}
	if (ftruncate(fd[slot], 0) != 0 || pwrite(fd[slot], data, n, 0) != (ssize_t)n) {
		perror("fuzz input");
		abort();
	}
	return path[slot];
}
#endif
