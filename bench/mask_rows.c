/*
 * mask_rows — warden's CPU per DataRow in the mask stage (pgm_data_row), on
 * rows read from a real table, without the network: what bench/mask.sh's end
 * to end ratio is made of, and what callgrind is pointed at.
 *
 *   bench/mask_rows FILE [passes]
 *
 * FILE (bench/mask.sh writes it with psql): a first line of column specs
 * separated by commas, each a type OID with ":w" when a column rule masks it
 * whole; then rows whose fields are separated by 0x1f and which end with 0x1e;
 * a field that is exactly "\N" is NULL. The rows are turned into text-format
 * DataRow bodies and masked with the profile bench/mask.sh gives warden (the
 * twelve detectors, email to bearer_token, employee_id, json_keys "secret*" and "token", partial
 * style), `passes` times over (default 200), the rows of each 64 KiB read
 * scanned at once as the relay does (MASK_ROWS_READ=bytes; 0: row by row).
 * Prints ns per row and per byte of thread CPU time, how many rows were
 * rewritten and how much of the time the one scan of each read took (the
 * floor of any design that inspects every byte); MASK_ROWS_OUT=file writes the masked rows of one pass (to
 * compare builds or engines: MASK_ROWS_PCRE2=1; the JSON documents' keys by
 * the jansson tree walk alone: MASK_ROWS_JSON_TREE=1).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/util.h"
#include "proto/pg/pgmask.h"

static double cpu_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void put32(buf *b, uint32_t v)
{
	char x[4] = {(char)(v >> 24), (char)(v >> 16), (char)(v >> 8), (char)v};
	buf_append(b, x, 4);
}

static int read_file(const char *path, buf *b)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char part[65536];
	size_t n;
	while ((n = fread(part, 1, sizeof(part), f)) > 0)
		buf_append(b, part, n);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: mask_rows FILE [passes]\n");
		return 2;
	}
	int passes = argc > 2 ? atoi(argv[2]) : 200;
	buf in = {0};
	if (read_file(argv[1], &in) != 0 || in.len == 0) {
		fprintf(stderr, "mask_rows: cannot read %s\n", argv[1]);
		return 1;
	}
	char *nl = memchr(in.data, '\n', in.len);
	if (!nl)
		return 1;
	pgm_desc d = {0};
	d.known = 1;
	d.cap = 64;
	d.cols = calloc(d.cap, sizeof(*d.cols));
	for (char *s = in.data; s < nl && d.n < d.cap;) {
		char *end;
		pgm_col *col = &d.cols[d.n++];
		col->type_oid = (uint32_t)strtoul(s, &end, 10);
		col->action = *end == ':' ? PGM_WHOLE : PGM_SCAN;
		s = memchr(s, ',', (size_t)(nl - s));
		if (!s)
			break;
		s++;
	}

	/* rows -> DataRow bodies, then whole messages back to back as a read holds them */
	size_t nrows = 0, cap = 1024, bytes = 0;
	buf *rows = calloc(cap, sizeof(*rows));
	buf wire = {0};
	const char *p = nl + 1, *e = in.data + in.len;
	while (p < e) {
		const char *re = memchr(p, 0x1e, (size_t)(e - p));
		if (!re)
			re = e[-1] == '\n' ? e - 1 : e; /* psql ends the last row with a newline */
		if (nrows == cap) {
			rows = realloc(rows, 2 * cap * sizeof(*rows));
			memset(rows + cap, 0, cap * sizeof(*rows));
			cap *= 2;
		}
		buf *r = &rows[nrows++];
		char cnt[2] = {(char)(d.n >> 8), (char)d.n};
		buf_append(r, cnt, 2);
		for (size_t i = 0; i < d.n; i++) {
			const char *fe = memchr(p, 0x1f, (size_t)(re - p));
			if (!fe || i + 1 == d.n)
				fe = re;
			size_t n = (size_t)(fe - p);
			if (n == 2 && p[0] == '\\' && p[1] == 'N') {
				put32(r, 0xffffffffu);
			} else {
				put32(r, (uint32_t)n);
				buf_append(r, p, n);
			}
			p = fe < re ? fe + 1 : re;
		}
		p = re + 1;
		while (p < e && *p == '\n')
			p++;
		bytes += r->len;
	}

	size_t *at = calloc(nrows + 1, sizeof(*at)); /* each row's message in wire */
	for (size_t i = 0; i < nrows; i++) {
		at[i] = wire.len;
		buf_append(&wire, "D", 1);
		put32(&wire, (uint32_t)(rows[i].len + 4));
		buf_append(&wire, rows[i].data, rows[i].len);
	}
	at[nrows] = wire.len;
	/* MASK_ROWS_READ: bytes per read; the rows of a read are scanned at once
	 * (pgm_batch), as the relay does; 0: one scan per row */
	const char *rd = getenv("MASK_ROWS_READ");
	size_t read_size = rd ? strtoul(rd, NULL, 10) : 65536;

	static const char *const dets[] = {"email", "phone", "credit_card", "iban", "us_ssn", "ipv4", "jwt",
					   "aws_access_key", "azure_storage_key", "private_key",
					   "password_in_url", "bearer_token"};
	static const char *const cnames[] = {"employee_id"};
	static const char *const cpats[] = {"EMP-[0-9]{6}"};
	char *keys[] = {"secret*", "token"};
	config_strlist jk = {keys, 2};
	char **lits;
	size_t n_lits = mask_key_literals((const char *const *)keys, 2, &lits);
	mask_spec spec = {.detectors = dets, .n_detectors = 12, .custom_names = cnames,
			  .custom_patterns = cpats, .n_custom = 1, .style = MASK_STYLE_PARTIAL,
			  .hint_literals = (const char *const *)lits, .n_hint_literals = n_lits,
			  .engine = getenv("MASK_ROWS_PCRE2") ? MASK_ENGINE_PCRE2 : MASK_ENGINE_AUTO};
	char err[256];
	mask_profile *mp = mask_profile_new(&spec, err, sizeof(err));
	if (!mp) {
		fprintf(stderr, "mask_rows: %s\n", err);
		return 1;
	}
	mask_literals_free(lits, n_lits);
	uint32_t counts[64] = {0};
	pgm_ctx c = {.mp = mp, .scratch = mask_scratch_new(mp), .json_keys = &jk, .counts = counts,
		     .json_tree = getenv("MASK_ROWS_JSON_TREE") != NULL};
	buf out = {0};
	size_t rewritten = 0;
	const char *dump = getenv("MASK_ROWS_OUT"); /* the masked rows of one pass, to compare builds */
	if (dump) {
		FILE *f = fopen(dump, "wb");
		if (read_size)
			pgm_batch(&c, &d, wire.data, wire.len);
		for (size_t i = 0; f && i < nrows; i++) {
			out.len = 0;
			int r = pgm_data_row(&c, &d, wire.data + at[i] + 5, rows[i].len, &out);
			fprintf(f, "%zu %d ", i, r);
			if (r > 0)
				fwrite(out.data, 1, out.len, f);
			fputc('\n', f);
		}
		if (f)
			fclose(f);
		pgm_batch_end(&c);
	}
	double t0 = cpu_now(), scan = 0; /* scan: the one scan of each read (pgm_batch) */
	for (int k = 0; k < passes; k++) {
		size_t first = 0; /* the first row of the current read */
		for (size_t i = 0; i < nrows; i++) {
			if (read_size && i == first) {
				size_t last = i + 1;
				while (last < nrows && at[last + 1] - at[first] <= read_size)
					last++;
				double b0 = cpu_now();
				pgm_batch(&c, &d, wire.data + at[first], at[last] - at[first]);
				scan += cpu_now() - b0;
				first = last;
			}
			out.len = 0;
			int r = pgm_data_row(&c, &d, wire.data + at[i] + 5, rows[i].len, &out);
			if (r < 0) {
				fprintf(stderr, "mask_rows: row %zu malformed\n", i);
				return 1;
			}
			rewritten += (size_t)r;
		}
		pgm_batch_end(&c);
	}
	double cpu = cpu_now() - t0;
	double total_rows = (double)nrows * passes;
	printf("%s: %zu rows, %zu columns, %.0f bytes per row: %.0f ns per row, %.2f ns per byte "
	       "(%.0f MB/s per core), %.1f%% of rows rewritten",
	       argv[1], nrows, d.n, (double)bytes / (double)nrows, cpu * 1e9 / total_rows,
	       cpu * 1e9 / ((double)bytes * passes), (double)bytes * passes / cpu / 1e6,
	       100.0 * (double)rewritten / total_rows);
	if (read_size) /* what inspecting every byte costs before anything is confirmed */
		printf("; of it the one scan of each read (Hyperscan's literals, the digit walk): %.0f ns per row",
		       scan * 1e9 / total_rows);
	printf("\n");
	for (size_t i = 0; i < nrows; i++)
		buf_free(&rows[i]);
	free(rows);
	free(at);
	buf_free(&wire);
	buf_free(&out);
	buf_free(&in);
	pgm_ctx_release(&c);
	mask_scratch_free(c.scratch);
	mask_profile_free(mp);
	pgm_desc_free(&d);
	return 0;
}
