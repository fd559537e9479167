/*
 * agricert-verify: verifies item codes offline, with a signed trust bundle
 * (proto/ac_bundle.h) and the bundle public key installed once. No network,
 * no database: it links proto alone.
 *
 *	agricert-verify --bundle FILE --bundle-key PEM [--bundle-kid N]
 *			[--state FILE] [--lang zh|en] [--json] CODE|URL|- ...
 *
 * "-" reads one code a line from standard input (blank lines skipped, a
 * zbarimg "QR-Code:" prefix stripped), so
 *	zbarimg --nodbus -q --raw label.png | agricert-verify ... -
 * works. Exit status: 0 when every code is genuine and valid, 1 when any is
 * not (or no code was read), 2 for a usage, bundle or state file error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ac_bundle.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_sign.h"

#define VERIFY_MAX_LINE 4096 /* longer stdin lines are not codes */

enum verdict {
	V_VALID,
	V_BAD_SIGNATURE,
	V_UNKNOWN_KEY,
	V_KEY_REVOKED,
	V_REVOKED,
	V_MALFORMED,
};

static const char *const verdict_status[] = {
	"valid", "bad_signature", "unknown_key", "key_revoked", "revoked", "malformed",
};
static const char *const verdict_zh[] = {
	"真实有效",
	"无效：签名校验失败（可能伪造或被篡改）",
	"无效：签发密钥未知",
	"无效：签发密钥已吊销",
	"已撤销",
	"无法识别的二维码",
};
static const char *const verdict_en[] = {
	"genuine and valid",
	"not genuine: bad signature (possibly forged or altered)",
	"not genuine: unknown signing key",
	"not valid: signing key revoked",
	"revoked: the certificate was withdrawn",
	"unrecognised QR code",
};

struct opts {
	const char *bundle;
	const char *bundle_key;
	int bundle_kid;
	const char *state;
	int en;
	int json;
};

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: agricert-verify --bundle FILE --bundle-key PEM [--bundle-kid N]\n"
	       "                       [--state FILE] [--lang zh|en] [--json] CODE|URL|- ...\n"
	       "       agricert-verify --help | --version\n"
	       "Verifies label codes offline with a signed trust bundle: no network, no database.\n"
	       "\n"
	       "  --bundle FILE      the trust bundle (GET /api/v1/trust-bundle, or agricert\n"
	       "                     trust export)\n"
	       "  --bundle-key PEM   the public key the bundle is signed with, installed once\n"
	       "                     (GET /api/v1/trust-bundle/key, or agricert trust key)\n"
	       "  --bundle-kid N     accept only a bundle signed by key N (1..65535)\n"
	       "  --state FILE       remembers the newest bundle version accepted and refuses\n"
	       "                     an older one (a rollback)\n"
	       "  --lang zh|en       the language of the report (default zh)\n"
	       "  --json             one JSON object per code instead of text\n"
	       "  --help             print this help and exit\n"
	       "  --version          print the version and exit\n"
	       "  CODE|URL|-         a code, the URL in its QR, or - for one a line on standard\n"
	       "                     input (zbarimg --raw output works)\n"
	       "\n"
	       "Exit status: 0 every code is genuine and valid, 1 one is not (or none was\n"
	       "read), 2 a usage, bundle or state file error.\n");
}

/* Reads a whole file of at most max bytes into a malloc'd NUL-terminated buffer. */
static int read_file(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0;
	int r = 0;

	*out = NULL;
	*len = 0;
	if (f == NULL)
		return -errno;
	buf = malloc(max + 2);
	if (buf == NULL) {
		r = -ENOMEM;
		goto out;
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f)) {
		r = -EIO;
		goto out;
	}
	if (n > max) {
		r = AC_ETOOBIG;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	fclose(f);
	return r;
}

/*
 * The state file holds "version N\n": the highest bundle version accepted.
 * A missing file is version 0 (first use).
 */
static int state_read(const char *path, uint64_t *version)
{
	char *text = NULL;
	size_t len;
	char *end = NULL;
	int r;

	*version = 0;
	r = read_file(path, 64, &text, &len);
	if (r == -ENOENT)
		return 0;
	if (r != 0)
		return r;
	r = AC_EMALFORMED;
	if (strncmp(text, "version ", 8) != 0 || text[8] < '0' || text[8] > '9')
		goto out;
	errno = 0;
	*version = strtoull(text + 8, &end, 10);
	if (errno != 0 || strcmp(end, "\n") != 0)
		goto out;
	r = 0;
out:
	free(text);
	return r;
}

/* Replaces the state file atomically: a temporary file beside it, then rename. */
static int state_write(const char *path, uint64_t version)
{
	char tmp[4096];
	FILE *f;
	int r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	if (fprintf(f, "version %" PRIu64 "\n", version) < 0 || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0)
		r = errno ? -errno : -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) != 0)
		r = -errno;
	if (r != 0)
		unlink(tmp);
	return r;
}

/* Prints s as a JSON string (quotes included); s is valid UTF-8 or ASCII. */
static void json_str(const char *s)
{
	putchar('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static void json_str_or_null(const char *s)
{
	if (s != NULL)
		json_str(s);
	else
		fputs("null", stdout);
}

/* quantity_milli / 1000 with up to three decimals and no trailing zeros. */
static void format_quantity(uint32_t milli, char *out, size_t outsz)
{
	uint32_t whole = milli / 1000;
	uint32_t frac = milli % 1000;
	int n = snprintf(out, outsz, "%" PRIu32, whole);

	if (frac != 0 && n > 0 && (size_t)n < outsz) {
		char *p = out + n;

		snprintf(p, outsz - (size_t)n, ".%03" PRIu32, frac);
		p += strlen(p);
		while (p[-1] == '0')
			*--p = '\0';
	}
}

/* The most specific name: the village, the township (+000), the county (+000000). */
static const char *origin_name(const ac_bundle *b, uint64_t origin)
{
	const char *name = ac_bundle_name(b, AC_NAME_REGION, origin);

	if (name == NULL)
		name = ac_bundle_name(b, AC_NAME_REGION, origin / 1000 * 1000);
	if (name == NULL)
		name = ac_bundle_name(b, AC_NAME_REGION, origin / 1000000 * 1000000);
	return name;
}

static const char *basis_en(int basis)
{
	static const char *const names[] = {
		"quality and safety controls met",
		"self-tested, passed",
		"tested by a commissioned laboratory, passed",
	};

	return basis >= 0 && basis <= AC_BASIS_MAX ? names[basis] : "?";
}

static const char *promise_en(int style)
{
	if (style == AC_STYLE_PRODUCER)
		return "No banned pesticides, veterinary drugs or other compounds were used; "
		       "residues of the pesticides and veterinary drugs in normal use do not "
		       "exceed the limits.";
	if (style == AC_STYLE_PURCHASER)
		return "The compliance certificates or other quality and safety proofs of this "
		       "batch were received and kept as required; no preservatives, "
		       "antiseptics or additives were used against the rules.";
	return "?";
}

static void print_json(const ac_code *code, enum verdict v, int err, const ac_bundle *b)
{
	const ac_code_fields *f = &code->f;
	char qty[32];
	int y;
	int m;
	int d;

	printf("{\"valid\":%s,\"status\":\"%s\"", v == V_VALID ? "true" : "false",
	       verdict_status[v]);
	if (v == V_MALFORMED) {
		printf(",\"error\":");
		json_str(ac_strerror(err));
		printf("}\n");
		return;
	}
	format_quantity(f->quantity_milli, qty, sizeof(qty));
	ac_day_to_ymd(f->issue_day, &y, &m, &d);
	printf(",\"kid\":%u,\"serial\":%" PRIu64 ",\"item\":%u,\"product_id\":%u,\"product\":",
	       f->kid, f->serial, f->item, f->product);
	json_str_or_null(ac_bundle_name(b, AC_NAME_PRODUCT, f->product));
	printf(",\"quantity\":%s,\"quantity_milli\":%" PRIu32 ",\"unit\":", qty, f->quantity_milli);
	json_str(ac_unit_name(f->unit));
	printf(",\"unit_zh\":");
	json_str(ac_unit_name_zh(f->unit));
	printf(",\"issuer_id\":%" PRIu32 ",\"issuer\":", f->issuer);
	json_str_or_null(ac_bundle_name(b, AC_NAME_ISSUER, f->issuer));
	printf(",\"origin_code\":\"%012" PRIu64 "\",\"origin\":", f->origin);
	json_str_or_null(origin_name(b, f->origin));
	printf(",\"issue_date\":\"%04d-%02d-%02d\",\"basis\":", y, m, d);
	json_str(ac_basis_name(f->basis));
	printf(",\"style\":");
	json_str(ac_style_name(f->style));
	printf("}\n");
}

static void print_text(const ac_code *code, enum verdict v, const struct opts *o,
		       const ac_bundle *b)
{
	const ac_code_fields *f = &code->f;
	const char *product;
	const char *issuer;
	const char *origin;
	char qty[32];
	int y;
	int m;
	int d;

	puts(o->en ? verdict_en[v] : verdict_zh[v]);
	if (v == V_MALFORMED) {
		putchar('\n');
		return;
	}
	format_quantity(f->quantity_milli, qty, sizeof(qty));
	ac_day_to_ymd(f->issue_day, &y, &m, &d);
	product = ac_bundle_name(b, AC_NAME_PRODUCT, f->product);
	issuer = ac_bundle_name(b, AC_NAME_ISSUER, f->issuer);
	origin = origin_name(b, f->origin);
	if (o->en) {
		if (product)
			printf("Product: %s\n", product);
		else
			printf("Product: not in the catalogue (%u)\n", f->product);
		printf("Quantity: %s %s\n", qty, ac_unit_name(f->unit));
		printf("Origin: %s (%012" PRIu64 ")\n", origin ? origin : "not in the catalogue",
		       f->origin);
		printf("Issuer: %s (%" PRIu32 ")\n", issuer ? issuer : "not in the catalogue",
		       f->issuer);
		printf("Basis: %s\n", basis_en(f->basis));
		printf("Issue date: %04d-%02d-%02d\n", y, m, d);
		printf("Serial: %012" PRIu64 "\n", f->serial);
		printf("Label: item %u\n", f->item);
		printf("Promise: %s\n", promise_en(f->style));
	} else {
		if (product)
			printf("产品：%s\n", product);
		else
			printf("产品：目录中未收录 (%u)\n", f->product);
		printf("数量：%s %s\n", qty, ac_unit_name_zh(f->unit));
		printf("产地：%s (%012" PRIu64 ")\n", origin ? origin : "目录中未收录", f->origin);
		printf("开具方：%s (%" PRIu32 ")\n", issuer ? issuer : "目录中未收录", f->issuer);
		printf("承诺依据：%s\n", ac_basis_name_zh(f->basis));
		printf("开具日期：%04d-%02d-%02d\n", y, m, d);
		printf("编号：%012" PRIu64 "\n", f->serial);
		printf("标签：第 %u 件\n", f->item);
		printf("承诺：%s\n", ac_style_promise_zh(f->style));
	}
	putchar('\n');
}

/*
 * Verifies one code text; returns 1 when genuine and valid, else 0. The
 * checks run from the signature outwards: a code that does not verify is
 * never reported as revoked, so the answer cannot be steered by a forger.
 */
static int verify_one(const char *text, size_t len, const ac_bundle *b, const struct opts *o)
{
	ac_code code;
	const ac_key *key;
	int status = 0;
	enum verdict v;
	int r;

	/* Trim surrounding blanks and a zbarimg "QR-Code:" prefix. */
	while (len > 0 && (*text == ' ' || *text == '\t')) {
		text++;
		len--;
	}
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\t' || text[len - 1] == '\r'))
		len--;
	if (len >= 8 && strncasecmp(text, "QR-Code:", 8) == 0) {
		text += 8;
		len -= 8;
	}
	memset(&code, 0, sizeof(code));
	r = ac_code_decode(text, len, &code);
	if (r != 0) {
		v = V_MALFORMED;
	} else {
		key = ac_bundle_key(b, code.f.kid, &status);
		if (key == NULL)
			v = V_UNKNOWN_KEY;
		else if (ac_code_verify(&code, key) != 0)
			v = V_BAD_SIGNATURE;
		else if (status == AC_KEY_STATUS_REVOKED)
			v = V_KEY_REVOKED;
		else if (ac_bundle_is_revoked(b, code.f.serial))
			v = V_REVOKED;
		else
			v = V_VALID;
	}
	if (o->json)
		print_json(&code, v, r, b);
	else
		print_text(&code, v, o, b);
	fflush(stdout);
	return v == V_VALID;
}

/*
 * With --state, refuses a bundle older than the newest accepted before and
 * records a newer one. Returns 0 or a negative code, after a message.
 */
static int check_state(const struct opts *o, const ac_bundle *b)
{
	uint64_t seen = 0;
	int r;

	if (o->state == NULL)
		return 0;
	r = state_read(o->state, &seen);
	if (r != 0) {
		fprintf(stderr, "agricert-verify: could not read state file \"%s\": %s\n", o->state,
			ac_strerror(r));
		return r;
	}
	if (ac_bundle_version(b) < seen) {
		fprintf(stderr,
			"agricert-verify: %s: \"%s\" is version %" PRIu64 ", version %" PRIu64
			" was accepted before\n",
			o->en ? "trust bundle too old" : "信任包版本过旧", o->bundle,
			ac_bundle_version(b), seen);
		return AC_EVERSION;
	}
	if (ac_bundle_version(b) > seen) {
		r = state_write(o->state, ac_bundle_version(b));
		if (r != 0)
			fprintf(stderr, "agricert-verify: could not write state file \"%s\": %s\n",
				o->state, ac_strerror(r));
	}
	return r;
}

/* Loads the bundle key, then the bundle (signature first), then the state. */
static int load_bundle(const struct opts *o, ac_bundle **out)
{
	char *pem = NULL;
	char *text = NULL;
	size_t len;
	ac_key *bk = NULL;
	int r;

	*out = NULL;
	r = read_file(o->bundle_key, 64 * 1024, &pem, &len);
	if (r != 0) {
		fprintf(stderr, "agricert-verify: could not read bundle key \"%s\": %s\n",
			o->bundle_key, ac_strerror(r));
		goto out;
	}
	r = ac_key_from_pem(pem, len, &bk);
	if (r != 0) {
		fprintf(stderr, "agricert-verify: could not load bundle key \"%s\": %s\n",
			o->bundle_key, ac_strerror(r));
		goto out;
	}
	r = read_file(o->bundle, AC_BUNDLE_MAX_SIZE, &text, &len);
	if (r != 0) {
		fprintf(stderr, "agricert-verify: could not read trust bundle \"%s\": %s\n",
			o->bundle, ac_strerror(r));
		goto out;
	}
	r = ac_bundle_parse(text, len, bk, o->bundle_kid, out);
	if (r != 0) {
		fprintf(stderr, "agricert-verify: %s \"%s\": %s\n",
			o->en ? "trust bundle refused" : "信任包无效", o->bundle, ac_strerror(r));
		goto out;
	}
	r = check_state(o, *out);
out:
	if (r != 0) {
		ac_bundle_free(*out);
		*out = NULL;
	}
	ac_key_free(bk);
	free(text);
	free(pem);
	return r;
}

/* One code a line from stdin; returns the number of codes and of valid ones. */
static void verify_stdin(const ac_bundle *b, const struct opts *o, int *codes, int *valid)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = (size_t)n;
		size_t i = 0;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
			i++;
		if (i == len)
			continue;
		if (len > VERIFY_MAX_LINE)
			len = VERIFY_MAX_LINE + 1; /* still malformed, not printed */
		(*codes)++;
		*valid += verify_one(line, len, b, o);
	}
	free(line);
}

/* Reads the options into o. Returns -1 to go on, else the exit status. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "bundle-key", required_argument, NULL, 'k' },
		{ "bundle-kid", required_argument, NULL, 'i' },
		{ "state", required_argument, NULL, 's' },
		{ "lang", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;
	long kid;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case 'k':
			o->bundle_key = optarg;
			break;
		case 'i':
			errno = 0;
			kid = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || kid < 1 || kid > AC_BUNDLE_KID_MAX) {
				fprintf(stderr, "agricert-verify: --bundle-kid must be 1..65535\n");
				return 2;
			}
			o->bundle_kid = (int)kid;
			break;
		case 's':
			o->state = optarg;
			break;
		case 'l':
			if (strcmp(optarg, "zh") != 0 && strcmp(optarg, "en") != 0) {
				fprintf(stderr, "agricert-verify: --lang must be zh or en\n");
				return 2;
			}
			o->en = strcmp(optarg, "en") == 0;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("agricert-verify %s\n", AC_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o->bundle == NULL || o->bundle_key == NULL || optind >= argc) {
		usage(stderr);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	ac_bundle *b = NULL;
	int codes = 0;
	int valid = 0;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (load_bundle(&o, &b) != 0)
		return 2;
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			verify_stdin(b, &o, &codes, &valid);
		} else {
			codes++;
			valid += verify_one(argv[i], strlen(argv[i]), b, &o);
		}
	}
	ac_bundle_free(b);
	if (codes == 0) {
		fprintf(stderr, "agricert-verify: %s\n", o.en ? "no code read" : "没有读到二维码");
		return 1;
	}
	return valid == codes ? 0 : 1;
}
