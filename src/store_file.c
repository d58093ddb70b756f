/* store_file.c — the .esi file: header and sections, the atomic write, the read-only mapping with one check (and one
 * message) per thing a damaged, foreign or crafted file can get wrong, and the accessors of a loaded index.
 * Every count and offset read from the file is checked before it is used, without arithmetic that can wrap. */
#include "store_priv.h"
#include "util.h"
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

const char *const es_sec_name[N_SEC] = { "contigs", "contig names", "N runs", "2-bit reference", "window runs",
	"binary codes", "int8 vectors", "vector scales", "projection", "list centroids", "list table", "list members", "low-complexity seeds" };

/* ---------------- write ---------------- */

uint64_t es_index_hdr_checksum(const uint8_t *hbuf)
{
	uint8_t tmp[HDR_SIZE];
	memcpy(tmp, hbuf, HDR_SIZE);
	memset(tmp + offsetof(hdr_t, hdr_ck), 0, sizeof(uint64_t));
	return es_fast_checksum(tmp, HDR_SIZE, HDR_CK_SEED);
}

static int write_all(FILE *fp, const void *p, size_t n)
{
	return n == 0 || fwrite(p, 1, n, fp) == n ? 0 : -1;
}

#define COPY_CHUNK (1 << 20)   /* a section read from a file goes through in pieces of this many bytes (a multiple
                                * of 32, as es_cksum_add needs) */

/* Pass a section of size bytes in pieces to fp (when not NULL) and the checksum c: from memory p, or when p is NULL
 * from file descriptor fd at offset fd_off (the build's vector scratch file, docs/store.md). 0, or -1 with errno. */
static int pass_section(const void *p, int fd, int64_t fd_off, uint64_t size, es_cksum_t *c, FILE *fp)
{
	if (p || size == 0) {   /* an empty section is NULL in memory */
		es_cksum_add(c, p, size);
		return fp ? write_all(fp, p, size) : 0;
	}
	uint8_t *buf = es_malloc(COPY_CHUNK);
	int ret = 0;
	for (uint64_t off = 0; off < size && ret == 0; off += COPY_CHUNK) {
		size_t n = size - off < COPY_CHUNK ? (size_t)(size - off) : COPY_CHUNK;
		ret = es_pread_full(fd, buf, n, fd_off + (int64_t)off);
		if (ret == 0) {
			es_cksum_add(c, buf, n);
			ret = fp ? write_all(fp, buf, n) : 0;
		}
	}
	free(buf);
	return ret;
}

/* Offsets (64-byte aligned), section checksums, file size and header checksum; the header block into hbuf. */
static int seal_header(hdr_t *h, const void *const sp[N_SEC], int fd, int64_t fd_off, uint8_t *hbuf)
{
	uint64_t off = HDR_SIZE;
	for (int i = 0; i < N_SEC; i++) {
		es_cksum_t c;
		h->sec[i].off = off;
		es_cksum_init(&c, (uint64_t)i);
		if (pass_section(sp[i], fd, fd_off, h->sec[i].size, &c, NULL) != 0)
			return -1;
		h->sec[i].ck = es_cksum_final(&c);
		off = (off + h->sec[i].size + 63) & ~(uint64_t)63;
	}
	h->file_size = (int64_t)off;
	h->hdr_ck = 0;
	memset(hbuf, 0, HDR_SIZE);
	memcpy(hbuf, h, sizeof *h);
	h->hdr_ck = es_index_hdr_checksum(hbuf);
	memcpy(hbuf, h, sizeof *h);
	return 0;
}

int es_index_write(const char *path, hdr_t *h, const void *const sp[N_SEC], int fd, int64_t fd_off)
{
	static const uint8_t zero[64];
	uint8_t hbuf[HDR_SIZE];
	if (seal_header(h, sp, fd, fd_off, hbuf) != 0)
		return es_error("%s: cannot read the build's vector scratch file: %s", path, strerror(errno));
	es_ofile_t of;
	memset(&of, 0, sizeof of);
	if (es_ofile_open(&of, path, "wb") != 0)
		return -1;
	int werr = write_all(of.fp, hbuf, HDR_SIZE);
	uint64_t pos = HDR_SIZE;
	for (int i = 0; i < N_SEC && !werr; i++) {
		es_cksum_t c;
		es_cksum_init(&c, (uint64_t)i);
		werr |= write_all(of.fp, zero, h->sec[i].off - pos);
		werr |= pass_section(sp[i], fd, fd_off, h->sec[i].size, &c, of.fp);
		pos = h->sec[i].off + h->sec[i].size;
	}
	if (!werr)
		werr |= write_all(of.fp, zero, (uint64_t)h->file_size - pos);
	if (werr) {
		es_error("%s: write failed: %s", path, strerror(errno));
		es_ofile_abort(&of);
		return -1;
	}
	return es_ofile_commit(&of);
}

/* ---------------- open and map ---------------- */

static int has_magic(const uint8_t *map, size_t size)
{
	return size > 0 && memcmp(map, ES_INDEX_MAGIC, size < 8 ? size : 8) == 0;
}

/* Map fd (closed here) read-only as idx's file fn (taken over). 0, or -1 with es_error set. */
static int map_fd(es_index_t *idx, int fd, char *fn)
{
	free(idx->path);
	idx->path = fn;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		close(fd);
		return es_error("%s: cannot stat: %s", fn, strerror(errno));
	}
	size_t size = (size_t)st.st_size;
	if (size == 0) {
		close(fd);
		return 0;   /* refused by check_header, unless PATH.esi is there */
	}
	void *map = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED)
		return es_error("%s: cannot map: %s", fn, strerror(errno));
	idx->map = map;
	idx->map_size = size;
	return 0;
}

static void unmap(es_index_t *idx)
{
	if (idx->map)
		munmap(idx->map, idx->map_size);
	idx->map = NULL;
	idx->map_size = 0;
}

/* path itself if it is an index; else PATH.esi when that exists (like bwa: `esalign align ref.fa` after `esalign
 * index ref.fa`); else path, refused later with its own problem. 0, or -1 with es_error set. */
static int open_index(es_index_t *idx, const char *path)
{
	size_t lp = strlen(path);
	char *alt = es_malloc(lp + sizeof ES_INDEX_SUFFIX);   /* PATH.esi (memcpy: GCC -O1 -fsanitize took the snprintf
	                                                        * of path for a null %s argument) */
	memcpy(alt, path, lp);
	memcpy(alt + lp, ES_INDEX_SUFFIX, sizeof ES_INDEX_SUFFIX);
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		int e = errno;
		fd = open(alt, O_RDONLY);
		if (fd >= 0)
			return map_fd(idx, fd, alt);
		es_error("%s: cannot open index (also tried %s): %s", path, alt, strerror(e));
		free(alt);
		return -1;
	}
	if (map_fd(idx, fd, es_strdup(path)) != 0) {
		free(alt);
		return -1;
	}
	if (!has_magic(idx->map, idx->map_size)) {
		int fd2 = open(alt, O_RDONLY);
		if (fd2 >= 0) {
			unmap(idx);
			return map_fd(idx, fd2, alt);
		}
	}
	free(alt);
	return 0;
}

/* ---------------- checks, one message each ---------------- */

/* Magic, size, version, header checksum and the file size the header records. */
static int check_header(es_index_t *idx)
{
	const char *fn = idx->path;
	size_t size = idx->map_size;
	hdr_t *h = &idx->hdr;
	if (size == 0)
		return es_error("%s: empty file, not an esalign index", fn);
	if (!has_magic(idx->map, size))
		return es_error("%s: not an esalign index (bad magic)", fn);
	if (size < HDR_SIZE)
		return es_error("%s: truncated index (%zu bytes, smaller than the header)", fn, size);
	memcpy(h, idx->map, sizeof *h);
	if (h->version != ES_INDEX_VERSION)
		return es_error("%s: index format version %u, this esalign reads version %d (rebuild it with 'esalign index')",
		                fn, h->version, ES_INDEX_VERSION);
	if (es_index_hdr_checksum(idx->map) != h->hdr_ck)
		return es_error("%s: corrupt index header (checksum mismatch)", fn);
	if (h->file_size < 0 || (uint64_t)h->file_size != size)
		return es_error("%s: %s index (%zu bytes, the header says %lld)", fn,
		                h->file_size >= 0 && size < (uint64_t)h->file_size ? "truncated" : "oversized", size,
		                (long long)h->file_size);
	h->enc_spec[sizeof h->enc_spec - 1] = 0;
	h->enc_name[sizeof h->enc_name - 1] = 0;
	return 0;
}

#define BAD_FIELD(fmt, ...) es_error("%s: corrupt index header: " fmt, idx->path, __VA_ARGS__)

/* Window geometry and the counts every other check relies on. */
static int check_shape(const es_index_t *idx)
{
	const hdr_t *h = &idx->hdr;
	if (h->w < 16 || h->w > 100000)
		return BAD_FIELD("window length w=%u outside 16..100000", h->w);
	if (h->stride < 1 || h->stride > h->w)
		return BAD_FIELD("stride=%u outside 1..w=%u", h->stride, h->w);
	if (h->dim < 1 || h->dim > ES_INDEX_MAX_DIM)
		return BAD_FIELD("dim=%u outside 1..%d", h->dim, ES_INDEX_MAX_DIM);
	if (h->n_contig < 1)
		return BAD_FIELD("n_contig=%d, at least 1 expected", h->n_contig);
	if (h->ref_len < 1)
		return BAD_FIELD("ref_len=%lld, at least 1 expected", (long long)h->ref_len);
	if (h->n_nrun < 0)
		return BAD_FIELD("n_nrun=%lld is negative", (long long)h->n_nrun);
	if (h->n_windows < 1 || h->n_windows > ES_INDEX_MAX_WINDOWS)
		return BAD_FIELD("n_windows=%lld outside 1..%lld", (long long)h->n_windows, ES_INDEX_MAX_WINDOWS);
	if (h->n_wrun < 1 || h->n_wrun > h->n_windows)
		return BAD_FIELD("n_wrun=%lld outside 1..n_windows=%lld", (long long)h->n_wrun, (long long)h->n_windows);
	return 0;
}

/* Code kind, its size fields, and the code count the window count and code step imply. */
static int check_codes(const es_index_t *idx)
{
	const hdr_t *h = &idx->hdr;
	uint32_t kind = h->code_kind, M = h->pq_m;
	if (kind != ES_CODE_SIGN && kind != ES_CODE_PQ4 && kind != ES_CODE_PQ6)
		return BAD_FIELD("code_kind=%u unknown", kind);
	if (kind == ES_CODE_SIGN && (h->code_bits < 64 || h->code_bits > 512 || h->code_bits % 64))
		return BAD_FIELD("code_bits=%u of sign codes is not 64, 128, ..., 512", h->code_bits);
	if (kind != ES_CODE_SIGN && (M < 2 || M > 64 || M % 2 || h->dim % M))
		return BAD_FIELD("pq_m=%u is not even, 2..64 and a divisor of dim=%u", M, h->dim);
	uint32_t bits = kind == ES_CODE_PQ4 ? 4 * M : 6 * M;
	if (kind != ES_CODE_SIGN && h->code_bits != bits)
		return BAD_FIELD("code_bits=%u, pq_m=%u means %u", h->code_bits, M, bits);
	if (h->code_step < 1 || h->code_step > 64)
		return BAD_FIELD("code_step=%u outside 1..64", h->code_step);
	if (h->vec_bits != 8 && (h->vec_bits != 4 || h->dim % 2))
		return BAD_FIELD("vec_bits=%u is not 8, or 4 with an even dim=%u", h->vec_bits, h->dim);
	int64_t n_codes = (h->n_windows + h->code_step - 1) / h->code_step;
	if (h->n_codes != n_codes)
		return BAD_FIELD("n_codes=%lld, n_windows=%lld at code_step=%u means %lld", (long long)h->n_codes,
		                 (long long)h->n_windows, h->code_step, (long long)n_codes);
	return 0;
}

/* Inverted lists: their count, and the code slots (n_pos) they occupy. */
static int check_list_header(const es_index_t *idx)
{
	const hdr_t *h = &idx->hdr;
	uint32_t C = h->ivf_lists;
	if (C > ES_INDEX_MAX_LISTS)
		return BAD_FIELD("ivf_lists=%u above %d", C, ES_INDEX_MAX_LISTS);
	if (C && h->code_kind != ES_CODE_PQ6)
		return BAD_FIELD("ivf_lists=%u with code_kind=%u (lists need PQ6 codes)", C, h->code_kind);
	if (C > h->n_codes)
		return BAD_FIELD("ivf_lists=%u above n_codes=%lld", C, (long long)h->n_codes);
	if (!C && h->n_pos != h->n_codes)
		return BAD_FIELD("n_pos=%lld, without lists it is n_codes=%lld", (long long)h->n_pos, (long long)h->n_codes);
	int64_t max_pos = h->n_codes + 64 * (int64_t)C;
	if (C && (h->n_pos % 64 || h->n_pos < h->n_codes || h->n_pos > max_pos))
		return BAD_FIELD("n_pos=%lld is not a multiple of 64 in %lld..%lld", (long long)h->n_pos,
		                 (long long)h->n_codes, (long long)max_pos);
	return 0;
}

/* Every section inside the file, 8-aligned, its checksum right and its padding zero (so every byte is checked). */
static int check_sections(const es_index_t *idx)
{
	const char *fn = idx->path;
	const hdr_t *h = &idx->hdr;
	uint64_t size = idx->map_size;
	for (int i = 0; i < N_SEC; i++) {
		const sec_t *s = &h->sec[i];
		if (s->off < HDR_SIZE || s->off > size || s->size > size - s->off || s->off % 8)
			return es_error("%s: corrupt index: section '%s' out of bounds (offset %llu, %llu bytes, file %llu)", fn,
			                es_sec_name[i], (unsigned long long)s->off, (unsigned long long)s->size,
			                (unsigned long long)size);
		if (es_fast_checksum(idx->map + s->off, s->size, (uint64_t)i) != s->ck)
			return es_error("%s: corrupt index: checksum mismatch in section '%s'", fn, es_sec_name[i]);
		uint64_t pe = i + 1 < N_SEC ? h->sec[i + 1].off : size;
		for (uint64_t o = s->off + s->size; o < pe && o < size; o++)
			if (idx->map[o])
				return es_error("%s: corrupt index: checksum mismatch in padding after section '%s'", fn,
				                es_sec_name[i]);
	}
	return 0;
}

/* 0 if section s holds exactly count items of elem bytes: compared by division, so no count can wrap. */
static int sec_holds(const es_index_t *idx, int s, uint64_t count, uint64_t elem, const char *what)
{
	uint64_t size = idx->hdr.sec[s].size;
	if (size % elem == 0 && size / elem == count)
		return 0;
	return es_error("%s: corrupt index: section '%s' holds %llu bytes, not %llu %s of %llu bytes", idx->path,
	                es_sec_name[s], (unsigned long long)size, (unsigned long long)count, what,
	                (unsigned long long)elem);
}

static int check_section_sizes(const es_index_t *idx)
{
	const hdr_t *h = &idx->hdr;
	int sign = h->code_kind == ES_CODE_SIGN, K = es_pq_centroids((int)h->code_kind);
	uint64_t block = (uint64_t)(h->code_kind == ES_CODE_PQ4 ? h->pq_m / 2 : h->pq_m) * 64;
	uint64_t dimf = (uint64_t)h->dim * sizeof(float), C = h->ivf_lists;
	uint64_t pac = (uint64_t)h->ref_len / 4 + (h->ref_len % 4 != 0);
	if (sec_holds(idx, SEC_CONTIG, (uint64_t)h->n_contig, sizeof(disk_contig_t), "contigs")
	    || sec_holds(idx, SEC_NRUN, (uint64_t)h->n_nrun, sizeof(es_nrun_t), "N runs")
	    || sec_holds(idx, SEC_PAC, pac, 1, "bytes of 2-bit bases")
	    || sec_holds(idx, SEC_WRUN, (uint64_t)h->n_wrun, sizeof(wrun_t), "window runs"))
		return -1;
	if (sign && sec_holds(idx, SEC_CODES, (uint64_t)h->n_codes * (h->code_bits / 64), 8, "code words"))
		return -1;
	if (!sign && sec_holds(idx, SEC_CODES, ((uint64_t)h->n_pos + 63) / 64, block, "blocks of 64 codes"))
		return -1;
	if (sec_holds(idx, SEC_VEC, (uint64_t)h->n_windows, (uint64_t)h->dim * h->vec_bits / 8, "vectors")
	    || sec_holds(idx, SEC_SCALE, (uint64_t)h->n_windows, h->vec_bits == 4 ? 2 : 4, "scales")
	    || sec_holds(idx, SEC_PROJ, sign ? h->code_bits : (uint64_t)K, dimf, "rows")
	    || sec_holds(idx, SEC_IVF_CENT, C, dimf, "centroids")
	    || sec_holds(idx, SEC_IVF_LIST, C, sizeof(ivf_list_t), "lists")
	    || sec_holds(idx, SEC_IVF_IDS, C ? (uint64_t)h->n_pos : 0, sizeof(uint32_t), "slots"))
		return -1;
	return 0;
}

/* The arrays of a checked file, pointing into the mapping. */
static void point_sections(es_index_t *idx)
{
	const hdr_t *h = &idx->hdr;
	const uint8_t *m = idx->map;
	idx->ref.len = h->ref_len;
	idx->ref.pac = idx->map + h->sec[SEC_PAC].off;
	idx->ref.n_nrun = h->n_nrun;
	idx->ref.nrun = (es_nrun_t *)(void *)(idx->map + h->sec[SEC_NRUN].off);
	idx->ref.owns_pac = 0;
	idx->wrun = (const wrun_t *)(const void *)(m + h->sec[SEC_WRUN].off);
	idx->codes = (const uint64_t *)(const void *)(m + h->sec[SEC_CODES].off);
	idx->pq = m + h->sec[SEC_CODES].off;
	idx->vec = (const int8_t *)(m + h->sec[SEC_VEC].off);
	idx->vec_row = (int64_t)h->dim * h->vec_bits / 8;
	idx->scale = h->vec_bits == 8 ? (const float *)(const void *)(m + h->sec[SEC_SCALE].off) : NULL;
	idx->scale16 = h->vec_bits == 4 ? (const uint16_t *)(const void *)(m + h->sec[SEC_SCALE].off) : NULL;
	idx->dot8 = es_dot_i8_best(NULL);
	idx->proj = (const float *)(const void *)(m + h->sec[SEC_PROJ].off);
	if (h->code_kind != ES_CODE_SIGN) {
		int K = es_pq_centroids((int)h->code_kind);
		idx->proj_t = es_malloc((size_t)h->dim * K * sizeof(float));
		es_pq_transpose(idx->proj, (int)h->dim, (int)h->pq_m, K, idx->proj_t);
	}
	if (h->ivf_lists) {
		idx->ivf_cent = (const float *)(const void *)(m + h->sec[SEC_IVF_CENT].off);
		idx->ivf_list = (const ivf_list_t *)(const void *)(m + h->sec[SEC_IVF_LIST].off);
		idx->ivf_ids = (const uint32_t *)(const void *)(m + h->sec[SEC_IVF_IDS].off);
	}
}

/* Contigs: names inside the names section, each [off, off+len) non-empty, inside [0, ref_len), sorted and disjoint
 * (es_ref_contig_at bisects them). Fills idx->ref.contig and idx->contig_end. */
static int check_contigs(es_index_t *idx)
{
	const char *fn = idx->path;
	const hdr_t *h = &idx->hdr;
	const disk_contig_t *dc = (const disk_contig_t *)(const void *)(idx->map + h->sec[SEC_CONTIG].off);
	const char *names = (const char *)(idx->map + h->sec[SEC_NAMES].off);
	uint64_t names_len = h->sec[SEC_NAMES].size;
	if (names_len == 0 || names[names_len - 1] != 0)
		return es_error("%s: corrupt index: contig names are not NUL-terminated (%llu bytes)", fn,
		                (unsigned long long)names_len);
	idx->ref.n_contig = h->n_contig;
	idx->ref.contig = es_calloc((size_t)h->n_contig, sizeof(es_contig_t));
	idx->contig_end = es_malloc((size_t)h->n_contig * sizeof(int64_t));
	int64_t prev_end = 0;
	for (int c = 0; c < h->n_contig; c++) {
		int64_t off = dc[c].off, len = dc[c].len;
		if (dc[c].name_off < 0 || (uint64_t)dc[c].name_off >= names_len)
			return es_error("%s: corrupt index: contig %d name offset %lld outside the %llu bytes of names", fn, c,
			                (long long)dc[c].name_off, (unsigned long long)names_len);
		const char *name = names + dc[c].name_off;
		if (off < prev_end || off > h->ref_len)
			return es_error("%s: corrupt index: contig %s offset %lld outside %lld..ref_len=%lld (contigs sorted, "
			                "disjoint)", fn, name, (long long)off, (long long)prev_end, (long long)h->ref_len);
		if (len < 1 || len > h->ref_len - off)   /* off <= ref_len: the subtraction cannot wrap */
			return es_error("%s: corrupt index: contig %s length %lld at offset %lld outside 1..ref_len-offset=%lld",
			                fn, name, (long long)len, (long long)off, (long long)(h->ref_len - off));
		idx->ref.contig[c].name = (char *)name;
		idx->ref.contig[c].len = len;
		idx->ref.contig[c].off = off;
		idx->contig_end[c] = off + len;
		prev_end = off + len;
	}
	return 0;
}

/* N runs as es_ref_get and es_ref_count_n assume them (esalign.h, seqio.h): non-empty, sorted, disjoint, each
 * inside one contig. */
static int check_nruns(const es_index_t *idx)
{
	const es_ref_t *ref = &idx->ref;
	int64_t prev_end = 0;
	for (int64_t i = 0; i < ref->n_nrun; i++) {
		int64_t b = ref->nrun[i].beg, e = ref->nrun[i].end;
		if (b < prev_end || b >= e)
			return es_error("%s: corrupt index: N run %lld [%lld,%lld) is empty, reversed or overlaps the one "
			                "before (ending at %lld)", idx->path, (long long)i, (long long)b, (long long)e,
			                (long long)prev_end);
		int c = es_ref_contig_at(ref, b);
		if (c < 0 || b < ref->contig[c].off || e > idx->contig_end[c])
			return es_error("%s: corrupt index: N run %lld [%lld,%lld) is not inside one contig of the %lld-base "
			                "reference", idx->path, (long long)i, (long long)b, (long long)e, (long long)ref->len);
		prev_end = e;
	}
	return 0;
}

/* Window runs that cover the windows in order, with starts sorted, each run inside one contig and each window where
 * the build puts it: inside its contig, W bases long unless the contig is shorter (then the one window at its
 * start). A run's windows are regular, so its first and last window stand for all of them. */
static int check_windows(const es_index_t *idx)
{
	const es_ref_t *ref = &idx->ref;
	int64_t w = idx->hdr.w, S = idx->hdr.stride, prev = 0, next = 0;
	for (int64_t i = 0; i < idx->hdr.n_wrun; i++) {
		const wrun_t *r = &idx->wrun[i];
		if (r->first != next || r->n < 1 || r->n > idx->hdr.n_windows - next)
			return es_error("%s: corrupt index: window run %lld holds windows [%lld,+%lld), not from window %lld "
			                "inside n_windows=%lld", idx->path, (long long)i, (long long)r->first, (long long)r->n,
			                (long long)next, (long long)idx->hdr.n_windows);
		if (r->beg < prev || r->beg >= ref->len)   /* r->n < 2^32 and S <= 100000: the last start cannot wrap */
			return es_error("%s: corrupt index: window run %lld starts at %lld, outside %lld..ref_len=%lld (sorted)",
			                idx->path, (long long)i, (long long)r->beg, (long long)prev, (long long)ref->len);
		int64_t b = r->beg, e = r->beg + (r->n - 1) * S;
		int c = es_ref_contig_at(ref, b);
		int64_t off = ref->contig[c].off, end = idx->contig_end[c];
		int64_t last = end - off <= w ? off : end - w;
		if (b < off || e > last)
			return es_error("%s: corrupt index: window run %lld [%lld..%lld] outside its contig %s (starts "
			                "%lld..%lld)", idx->path, (long long)i, (long long)b, (long long)e, ref->contig[c].name,
			                (long long)off, (long long)last);
		prev = e;
		next += r->n;
	}
	if (next != idx->hdr.n_windows)
		return es_error("%s: corrupt index: the window runs hold %lld windows, not n_windows=%lld", idx->path,
		                (long long)next, (long long)idx->hdr.n_windows);
	return 0;
}

/* The list table: lists in slot order, 64-aligned, inside the n_pos slots. */
static int check_list_table(const es_index_t *idx)
{
	const hdr_t *h = &idx->hdr;
	int64_t prev_end = 0;
	for (uint32_t l = 0; l < h->ivf_lists; l++) {
		const ivf_list_t *L = &idx->ivf_list[l];
		if (L->beg < prev_end || L->beg % 64 || L->len < 0 || L->beg > h->n_pos || L->len > h->n_pos - L->beg)
			return es_error("%s: corrupt index: list table: list %u slots [%lld,+%lld) not 64-aligned inside "
			                "%lld..n_pos=%lld", idx->path, l, (long long)L->beg, (long long)L->len,
			                (long long)prev_end, (long long)h->n_pos);
		prev_end = L->beg + L->len;
	}
	return 0;
}

/* List members: increasing codes inside a list, no code twice, every code in a list, padding marked. */
static int check_list_members(const es_index_t *idx)
{
	const hdr_t *h = &idx->hdr;
	int64_t members = 0;
	/* each code once: ids in range and increasing within each list, as many as the codes, and the sum of their
	 * hashes that of 0..n_codes-1 (a code twice, so another missing, changes it but with odds of 2^-64). A bitmap
	 * of the codes seen did the same exactly, but its random probes were 30% of the load of a 1 Gb index (48.9 M
	 * codes, ~0.5 s of CPU); the sums read the ids in order. */
	uint64_t sum = 0, want = 0;
	const char *bad = NULL;
	int64_t at = 0;
	for (uint32_t l = 0; l < h->ivf_lists && !bad; l++) {
		const ivf_list_t *L = &idx->ivf_list[l];
		int64_t end = L->beg + L->len, pad_end = (end + 63) & ~(int64_t)63;
		for (int64_t p = L->beg; p < end && !bad; p++) {
			uint32_t c = idx->ivf_ids[p];
			at = p;
			if (c >= h->n_codes || (p > L->beg && c <= idx->ivf_ids[p - 1]))
				bad = "a code out of range or out of order";
			sum += es_hash64(c);
		}
		for (int64_t p = end; p < pad_end && !bad; p++) {
			at = p;
			if (idx->ivf_ids[p] != UINT32_MAX)
				bad = "padding not marked";
		}
		members += L->len;
	}
	if (bad)
		return es_error("%s: corrupt index: list members: %s at slot %lld", idx->path, bad, (long long)at);
	if (members != h->n_codes)
		return es_error("%s: corrupt index: lists hold %lld codes, not n_codes=%lld", idx->path, (long long)members,
		                (long long)h->n_codes);
	for (int64_t c = 0; c < h->n_codes; c++)
		want += es_hash64((uint64_t)c);
	if (sum != want)
		return es_error("%s: corrupt index: list members: a code twice (and another in no list)", idx->path);
	return 0;
}

/* ---------------- load ---------------- */

/* Lists probed per query unless set: sqrt(C) (a fixed fraction would make the search linear again; docs/store.md).
 * chrX 70 Mb, 4,096 lists, 1,000 reads of 100 bp (one query each): recall@16 99.40 at 64 lists as at 128 (exact
 * 99.60); the 20,000 mason and ART reads of `make bench` at 100 / 150 / 250 bp map as with 128 but 2 (of 18,966 ART
 * 150 bp reads), for 0.93x the CPU at 100 and 150 bp. A read of several chunks probes fewer per chunk (candidates.c),
 * and a read that scores low is searched again with ES_DEEP_PROBE times as many. */
static int default_nprobe(int C)
{
	int n = (int)lrint(sqrt((double)C));
	return n < 1 ? 1 : n > C ? C : n;
}

es_index_t *es_index_load(const char *path)
{
	es_index_t *idx = es_calloc(1, sizeof *idx);
	if (open_index(idx, path) != 0 || check_header(idx) != 0)
		goto fail;
	if (check_shape(idx) != 0 || check_codes(idx) != 0 || check_list_header(idx) != 0)
		goto fail;
	if (check_sections(idx) != 0 || check_section_sizes(idx) != 0)
		goto fail;
	point_sections(idx);
	if (check_contigs(idx) != 0 || check_nruns(idx) != 0 || check_windows(idx) != 0)
		goto fail;
	if (idx->hdr.ivf_lists && (check_list_table(idx) != 0 || check_list_members(idx) != 0))
		goto fail;
	if (es_lowc_open(idx->map + idx->hdr.sec[SEC_LOWC].off, idx->hdr.sec[SEC_LOWC].size, idx->hdr.ref_len, path,
	                 &idx->lowc) != 0)
		goto fail;
	idx->nprobe = idx->hdr.ivf_lists ? default_nprobe((int)idx->hdr.ivf_lists) : 0;
	idx->probe_gap = ES_PROBE_GAP;
	if (es_index_set_probe_groups(idx, -1) != 0)
		goto fail;
	/* re-ranked per query: 384 for a flat scan (kmer, docs/store.md); 256 with lists, whose learned encoder ranks
	 * better (70 Mb, 1,000 reads: the same recall within 0.1 point, 0.20 instead of 0.24 ms per query) */
	idx->rerank = idx->hdr.ivf_lists ? 256 : 384;
	return idx;
fail:
	es_index_destroy(idx);
	return NULL;
}

void es_index_destroy(es_index_t *idx)
{
	if (!idx)
		return;
	unmap(idx);
	free(idx->ref.contig);
	free(idx->contig_end);
	es_ivf_groups_free(idx->groups);
	free(idx->proj_t);
	free(idx->path);
	free(idx);
}

/* ---------------- accessors ---------------- */

const es_ref_t *es_index_ref(const es_index_t *idx) { return &idx->ref; }
const es_lowc_t *es_index_lowc(const es_index_t *idx) { return idx->lowc.n ? &idx->lowc : NULL; }
const char *es_index_encoder_spec(const es_index_t *idx) { return idx->hdr.enc_spec; }
const char *es_index_encoder_name(const es_index_t *idx) { return idx->hdr.enc_name; }
uint64_t es_index_encoder_checksum(const es_index_t *idx) { return idx->hdr.enc_checksum; }
const char *es_index_path(const es_index_t *idx) { return idx->path; }
int es_index_w(const es_index_t *idx) { return (int)idx->hdr.w; }
int es_index_stride(const es_index_t *idx) { return (int)idx->hdr.stride; }
int es_index_dim(const es_index_t *idx) { return (int)idx->hdr.dim; }
int es_index_code_bits(const es_index_t *idx) { return (int)idx->hdr.code_bits; }
int es_index_code_step(const es_index_t *idx) { return (int)idx->hdr.code_step; }
int es_index_code_kind(const es_index_t *idx) { return (int)idx->hdr.code_kind; }
int64_t es_index_n_windows(const es_index_t *idx) { return idx->hdr.n_windows; }
int es_index_ivf_lists(const es_index_t *idx) { return (int)idx->hdr.ivf_lists; }
int es_index_get_nprobe(const es_index_t *idx) { return idx->nprobe; }
int es_index_get_rerank(const es_index_t *idx) { return idx->rerank; }

int es_index_set_probe_groups(es_index_t *idx, int G)
{
	int C = (int)idx->hdr.ivf_lists;
	if (G < 0) {   /* auto: flat up to 4,096 lists (chrX 70 Mb), then the power of two nearest sqrt(C) */
		G = 0;
		if (C > ES_PROBE_FLAT_MAX)
			for (G = 1; (int64_t)G * G * 2 < C; G *= 2)
				;
	}
	G = G > C ? C : G;
	es_ivf_groups_free(idx->groups);
	idx->groups = NULL;
	if (G > 0 && !(idx->groups = es_ivf_groups_new(idx->ivf_cent, C, (int)idx->hdr.dim, G)))
		return es_error("%s: grouping the %d lists: %.400s", idx->path, C, es_last_error());
	return 0;
}

int es_index_get_probe_groups(const es_index_t *idx) { return es_ivf_groups_count(idx->groups); }

void es_index_set_nprobe(es_index_t *idx, int n)
{
	int C = (int)idx->hdr.ivf_lists;
	idx->nprobe = n < 1 ? 1 : n > C ? C : n;
}

void es_index_set_probe_gap(es_index_t *idx, float gap) { idx->probe_gap = gap > 0 ? gap : 0; }

float es_index_get_probe_gap(const es_index_t *idx) { return idx->probe_gap; }

void es_index_set_rerank(es_index_t *idx, int n)
{
	idx->rerank = n < 1 ? 1 : n > ES_INDEX_MAX_RERANK ? ES_INDEX_MAX_RERANK : n;
}

const char *es_index_scan_kernel(const es_index_t *idx)
{
	const char *name = "scalar";
	if (idx->hdr.code_kind == ES_CODE_SIGN)
		es_hamscan_best(&name);
	else if (idx->hdr.code_kind == ES_CODE_PQ4)
		es_pqscan_best(&name);
	else
		es_pq6scan_best(&name);
	return name;
}

void es_index_window(const es_index_t *idx, int64_t i, int64_t *beg, int64_t *end)
{
	int64_t b = es_index_wstart(idx, i);
	*beg = b;
	*end = es_window_end(&idx->ref, idx->contig_end, b, (int)idx->hdr.w);
}

int es_index_check_encoder(const es_index_t *idx, const es_encoder_t *enc)
{
	const hdr_t *h = &idx->hdr;
	uint64_t ck = es_encoder_checksum(enc);
	const char *name = es_encoder_name(enc);
	if (ck == h->enc_checksum && es_encoder_dim(enc) == (int)h->dim)
		return 0;
	if (strcmp(name, h->enc_name) == 0)   /* same architecture, other weights: the model file changed */
		return es_error("%s: index built with other weights of encoder %s (spec '%s', checksum %016llx, now "
		                "%016llx): the model file changed since; rebuild the index", idx->path, name, h->enc_spec,
		                (unsigned long long)h->enc_checksum, (unsigned long long)ck);
	return es_error("%s: index built with encoder %s (spec '%s', checksum %016llx), not with %s (checksum %016llx); "
	                "rebuild the index or use its encoder", idx->path, h->enc_name, h->enc_spec,
	                (unsigned long long)h->enc_checksum, name, (unsigned long long)ck);
}

es_encoder_t *es_index_open_encoder(const es_index_t *idx)
{
	es_encoder_t *e = es_encoder_open(idx->hdr.enc_spec);
	if (!e) {
		char m[1024];
		snprintf(m, sizeof m, "%s", es_last_error());
		es_error("%s: cannot open the index's encoder '%s': %s", idx->path, idx->hdr.enc_spec, m);
		return NULL;
	}
	if (es_index_check_encoder(idx, e) != 0) {
		es_encoder_destroy(e);
		return NULL;
	}
	return e;
}
