/*
 * mask_engine — single-thread throughput of the mask engine (src/mask) with
 * every built-in detector on, per engine.
 *
 * It generates DataRow-like column values (~164 bytes of mixed text: names,
 * street addresses, dates, amounts, order numbers, free text; ~5% carry an
 * e-mail address or a card number), then masks them one value per call, as
 * the proxy does, until ~200 MB (default) went through each engine. It
 * reports MB/s of thread CPU time (= per core) and of wall time.
 *
 *   bench/mask_engine [hs|pcre|both] [MB]
 *
 * Built by hand (see src/mask/mask.c's header for the libraries):
 *   gcc -std=c17 -O2 -D_GNU_SOURCE -Isrc -o build/mask_engine bench/mask_engine.c \
 *       src/mask/mask.c src/core/buf.c src/core/util.c src/core/log.c \
 *       -lhs -lpcre2-8 -ljansson -lssl -lcrypto -lpthread -lm
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mask/mask.h"

#define NROWS 20000

static uint64_t rng = 0x2545f4914f6cdd1du;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const first[] = {"Jane", "John", "Amélie", "Omar", "Li", "Sofia", "Lukas",
				    "Priya", "Mateo", "Chloe", "Noah", "Fatima"};
static const char *const last[] = {"Doe", "Smith", "Müller", "Haddad", "Wang", "Rossi",
				   "Novak", "Patel", "García", "Martin", "Jensen", "Okafor"};
static const char *const streets[] = {"Rue de la Paix", "Main Street", "Baker Street",
				      "Hauptstraße", "Calle Mayor", "Via Roma", "Elm Avenue"};
static const char *const cities[] = {"Paris", "Springfield", "London", "Berlin", "Madrid",
				     "Roma", "Oslo"};
static const char *const words[] = {
	"customer", "asked", "about", "the", "delivery", "window", "for", "order", "please",
	"call", "back", "before", "noon", "package", "was", "left", "at", "front", "door",
	"refund", "approved", "by", "support", "ticket", "escalated", "to", "billing", "team",
	"invoice", "attached", "payment", "received", "thanks", "note", "updated", "address"};
static const char *const cards[] = {"4111 1111 1111 1111", "5555555555554444",
				    "3782 822463 10005", "4111-1111-1111-1111"};

static void gen_row(buf *b)
{
	b->len = 0;
	buf_printf(b, "%s %s, %u %s, %05u %s; ", first[rnd(12)], last[rnd(12)], 1 + rnd(250),
		   streets[rnd(7)], rnd(100000), cities[rnd(7)]);
	buf_printf(b, "2024-%02u-%02u order #%u total %u.%02u EUR: ", 1 + rnd(12), 1 + rnd(28),
		   100000 + rnd(900000), rnd(5000), rnd(100));
	unsigned kind = rnd(100);
	if (kind < 3)
		buf_printf(b, "mail %s.%s@example.com ", first[rnd(12)], last[rnd(12)]);
	else if (kind < 5)
		buf_printf(b, "paid with %s ", cards[rnd(4)]);
	while (b->len < 157)
		buf_printf(b, "%s ", words[rnd(sizeof(words) / sizeof(words[0]))]);
	buf_printf(b, "v%u.%u", rnd(10), rnd(10));
}

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define X(id, name) name,
static const char *const all_names[] = {MASK_DETECTORS(X)};
#undef X

static void bench(mask_engine eng, const char *label, char **rows, size_t *lens, double mb)
{
	/* MASK_BENCH_DETECTORS=email,phone limits the set (to see what costs what). */
	const char *names[MASK_DET_COUNT];
	size_t nn = 0;
	char list[512] = "";
	const char *env = getenv("MASK_BENCH_DETECTORS");
	if (env && *env) {
		snprintf(list, sizeof(list), "%s", env);
		for (char *save = NULL, *t = strtok_r(list, ",", &save); t && nn < MASK_DET_COUNT;
		     t = strtok_r(NULL, ",", &save))
			names[nn++] = t;
	} else {
		for (; nn < MASK_DET_COUNT; nn++)
			names[nn] = all_names[nn];
	}
	mask_spec spec = {.detectors = names, .n_detectors = nn, .engine = eng};
	char err[256];
	mask_profile *p = mask_profile_new(&spec, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "%s: %s\n", label, err);
		exit(1);
	}
	mask_scratch *s = mask_scratch_new(p);
	buf out = {0};
	uint32_t counts[MASK_DET_COUNT] = {0};
	size_t bytes = 0, masked = 0, nvals = 0;
	double target = mb * 1e6;
	double c0 = now(CLOCK_THREAD_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
	while ((double)bytes < target) {
		for (size_t i = 0; i < NROWS; i++) {
			out.len = 0;
			masked += mask_text(p, s, rows[i], lens[i], &out, counts);
			bytes += lens[i];
		}
		nvals += NROWS;
	}
	double cpu = now(CLOCK_THREAD_CPUTIME_ID) - c0, wall = now(CLOCK_MONOTONIC) - w0;
	printf("%-9s %7.1f MB in %6.2f s cpu: %7.1f MB/s per core (wall %7.1f MB/s), "
	       "%.0f ns/value, %zu masked (%.2f%% of values)\n",
	       label, (double)bytes / 1e6, cpu, (double)bytes / 1e6 / cpu, (double)bytes / 1e6 / wall,
	       cpu * 1e9 / (double)nvals, masked, 100.0 * (double)masked / (double)nvals);
	buf_free(&out);
	mask_scratch_free(s);
	mask_profile_free(p);
}

int main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "both";
	double mb = argc > 2 ? atof(argv[2]) : 200.0;
	char **rows = malloc(NROWS * sizeof(*rows));
	size_t *lens = malloc(NROWS * sizeof(*lens));
	if (!rows || !lens)
		return 1;
	buf b = {0};
	size_t total = 0;
	for (size_t i = 0; i < NROWS; i++) {
		gen_row(&b);
		rows[i] = malloc(b.len);
		if (!rows[i])
			return 1;
		memcpy(rows[i], b.data, b.len);
		lens[i] = b.len;
		total += b.len;
	}
	printf("%d values, mean %.1f bytes; sample: %.*s\n", NROWS, (double)total / NROWS,
	       (int)lens[0], rows[0]);
	if (!strcmp(which, "hs") || !strcmp(which, "both"))
		bench(MASK_ENGINE_HYPERSCAN, "hyperscan", rows, lens, mb);
	if (!strcmp(which, "pcre") || !strcmp(which, "both"))
		bench(MASK_ENGINE_PCRE2, "pcre2", rows, lens, mb);
	for (size_t i = 0; i < NROWS; i++)
		free(rows[i]);
	free(rows);
	free(lens);
	buf_free(&b);
	return 0;
}
