/*
 * mask — `warden mask -c FILE [--profile NAME] [--type T] [--column S.T.C]
 * [--explain] [TEXT ...]`: what a masking profile does to a value, before it
 * guards a database. Each TEXT (or each line of standard input) is masked as
 * the relay masks a value of a text-format column of that type (pgm_value:
 * the same detectors, validators, JSON keys, column rules and style), with
 * the profile compiled as `serve` compiles it. The `hash` style uses the
 * gateway's key (<data_dir>/mask.key) when it exists, so a hash shown here is
 * the one the gateway writes; it is never created here.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "mask/mask.h"
#include "mask/profiles.h"
#include "proto/pg/pgmask.h"

static const char usage_text[] =
	"usage: warden mask -c FILE [--profile NAME] [--type TYPE] [--column SCHEMA.TABLE.COLUMN]\n"
	"                   [--explain] [TEXT ...]\n"
	"  Masks each TEXT (or each line of standard input) as warden masks a value of a\n"
	"  column of TYPE (text, json, jsonb, varchar, bytea, int4, int8, numeric, uuid,\n"
	"  date, timestamptz, an array of one of them (int8[], jsonb[], ...), int8range,\n"
	"  record; default text) with the profile (default: the first), and prints it.\n"
	"  --column: the column it comes from, for the profile's column rules.\n"
	"  --explain: one JSON object per value, with what each detector found.\n";

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("warden mask: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_text, stderr);
	return 2;
}

static const struct {
	const char *name;
	uint32_t oid;
} type_names[] = {
	{"text", 25},  {"json", 114},  {"jsonb", 3802},     {"varchar", 1043}, {"int4", 23},
	{"int8", 20},  {"numeric", 1700}, {"uuid", 2950},   {"date", 1082},    {"timestamptz", 1184},
	{"text[]", 1009}, {"json[]", 199}, {"jsonb[]", 3807}, {"varchar[]", 1015}, {"int4[]", 1007},
	{"int8[]", 1016}, {"numeric[]", 1231}, {"uuid[]", 2951}, {"date[]", 1182}, {"timestamptz[]", 1185},
	{"int8range", 3926}, {"record", 2249}, {"bytea", 17}, {"bytea[]", 1001},
};

typedef struct run {
	pgm_ctx c;
	const mask_profile *mp;
	uint32_t type;
	int whole, explain;
	size_t n_counts;
} run;

/* One value: its masked form (or itself) on a line, or the --explain object. */
static void one(run *r, const char *v, size_t n)
{
	memset(r->c.counts, 0, r->n_counts * sizeof(*r->c.counts));
	buf out = {0};
	int rc = pgm_value(&r->c, r->type, r->whole, v, n, &out);
	const char *shown = rc == 1 ? (out.data ? out.data : "") : v;
	size_t shown_len = rc == 1 ? out.len : n;
	if (!r->explain) {
		if (rc == 2)
			fputs("NULL", stdout);
		else
			fwrite(shown, 1, shown_len, stdout);
		putchar('\n');
		buf_free(&out);
		return;
	}
	json_t *o = json_object(), *found = json_object();
	json_object_set_new(o, "value", json_stringn(v, n));
	json_object_set_new(o, "masked", rc == 2 ? json_null() : json_stringn(shown, shown_len));
	json_object_set_new(o, "changed", json_boolean(rc != 0));
	size_t total = mask_detector_total(r->mp);
	for (size_t i = 0; i < r->n_counts; i++) {
		if (!r->c.counts[i])
			continue;
		const char *name = i < total ? mask_detector_name(r->mp, i)
				   : i == total + PGM_COUNT_COLUMN ? "column" : "json_key";
		json_object_set_new(found, name, json_integer(r->c.counts[i]));
	}
	json_object_set_new(o, "found", found);
	/* (a value that is not UTF-8 has no JSON string: jansson gives NULL for it) */
	char *t = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
	puts(t ? t : "{\"error\":\"the value is not UTF-8\"}");
	free(t);
	json_decref(o);
	buf_free(&out);
}

/* mask_profiles_load's check: 0 (the gateway's hash key) when it exists,
 * else 1 (a key of this run's own; said when the profile tried hashes). */
static int key_check_mode(const warden_config *cfg, const config_mask_profile *tried)
{
	int hash = 0;
	for (size_t i = 0; i < cfg->n_mask_profiles; i++)
		hash |= cfg->mask_profiles[i].style == CONFIG_MASK_HASH;
	if (!hash)
		return 1;
	char path[4096];
	mask_key_path(cfg, path, sizeof(path));
	struct stat st;
	if (stat(path, &st) == 0)
		return 0;
	if (tried->style == CONFIG_MASK_HASH)
		fprintf(stderr, "warden mask: %s does not exist (warden creates it on its first start): the "
				"hashes shown are of a key of this run's own, not the gateway's\n", path);
	return 1;
}

static int cmd_mask(const char *config, const char *profile, const char *type, const char *column,
		    int explain, char **texts, int n_texts)
{
	uint32_t oid = 0;
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcmp(type_names[i].name, type) == 0)
			oid = type_names[i].oid;
	if (!oid)
		return usage_error("unknown --type '%s'", type);
	log_level = LOG_WARN; /* (the profiles' "compiled" lines are serve's) */
	warden_config cfg;
	char err[1024];
	if (config_load_ex(config, &cfg, err, sizeof(err), CONFIG_NO_SECRETS) != 0) {
		fprintf(stderr, "warden mask: %s\n", err);
		return 1;
	}
	size_t pi = 0;
	if (!cfg.n_mask_profiles) {
		fprintf(stderr, "warden mask: %s has no masking.profiles\n", config);
		config_free(&cfg);
		return 1;
	}
	if (profile) {
		while (pi < cfg.n_mask_profiles && strcmp(cfg.mask_profiles[pi].name, profile) != 0)
			pi++;
		if (pi == cfg.n_mask_profiles) {
			fprintf(stderr, "warden mask: no profile \"%s\" in %s (profiles:", profile, config);
			for (size_t i = 0; i < cfg.n_mask_profiles; i++)
				fprintf(stderr, " %s", cfg.mask_profiles[i].name);
			fputs(")\n", stderr);
			config_free(&cfg);
			return 1;
		}
	}
	const config_mask_profile *cp = &cfg.mask_profiles[pi];
	if (mask_profiles_load(&cfg, key_check_mode(&cfg, cp), err, sizeof(err)) != 0) {
		fprintf(stderr, "warden mask: %s\n", err);
		config_free(&cfg);
		return 1;
	}
	run r = {.mp = mask_profiles_get(pi), .type = oid, .explain = explain};
	if (column && config_globs_match(&cp->columns, column))
		r.whole = 1; /* as backend.c's resolve_columns names a column */
	mask_scratch *s = mask_scratch_new(r.mp);
	if (!s)
		abort();
	r.n_counts = mask_detector_total(r.mp) + PGM_COUNT_EXTRA;
	r.c = (pgm_ctx){.mp = r.mp, .scratch = s, .json_keys = &cp->json_keys,
			.counts = util_xmalloc(r.n_counts * sizeof(uint32_t))};
	int rc = 0;
	if (n_texts) {
		for (int i = 0; i < n_texts; i++)
			one(&r, texts[i], strlen(texts[i]));
	} else {
		char *line = NULL;
		size_t cap = 0;
		ssize_t got;
		while ((got = getline(&line, &cap, stdin)) >= 0) {
			size_t n = (size_t)got;
			if (n && line[n - 1] == '\n')
				n--;
			if (n && line[n - 1] == '\r')
				n--;
			one(&r, line, n);
		}
		if (ferror(stdin)) {
			fprintf(stderr, "warden mask: reading standard input: %s\n", strerror(errno));
			rc = 1;
		}
		free(line);
	}
	if (fflush(stdout) != 0)
		rc = 1;
	free(r.c.counts);
	pgm_ctx_release(&r.c);
	mask_scratch_free(s);
	mask_profiles_free();
	config_free(&cfg);
	return rc;
}

int cli_mask_main(int argc, char **argv)
{
	enum { OPT_PROFILE = 256, OPT_TYPE, OPT_COLUMN, OPT_EXPLAIN };
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"profile", required_argument, NULL, OPT_PROFILE},
		{"type", required_argument, NULL, OPT_TYPE},
		{"column", required_argument, NULL, OPT_COLUMN},
		{"explain", no_argument, NULL, OPT_EXPLAIN},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *config = NULL, *profile = NULL, *type = "text", *column = NULL;
	int explain = 0, c;
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case OPT_PROFILE: profile = optarg; break;
		case OPT_TYPE: type = optarg; break;
		case OPT_COLUMN: column = optarg; break;
		case OPT_EXPLAIN: explain = 1; break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!config)
		return usage_error("-c FILE (the warden configuration) is required");
	return cmd_mask(config, profile, type, column, explain, argv + optind, argc - optind);
}
