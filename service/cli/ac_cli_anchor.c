/*
 * Anchors of the audit chain's head: signed lines in a file the operator
 * keeps. See ac_cli_anchor.h and sql/AUDIT.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ac_cli_anchor.h"
#include "ac_cli_audit.h"
#include "ac_keys.h"
#include "ac_sign.h"

#define ANCHOR_MAGIC "agricert-anchor-v1"

/* The longest line read or written, with its NUL. */
#define ANCHOR_LINE_MAX 512

void ac_cli_anchor_key_dir(const char *keys_dir, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/anchor", keys_dir);
}

static void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes exactly 2 * len lowercase hex digits. Returns 0 or -1. */
static int hex_decode(const char *in, uint8_t *out, size_t len)
{
	if (strlen(in) != 2 * len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(in[2 * i]);
		int lo = hex_digit(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static const char *alg_name(int alg)
{
	return alg == AC_ALG_SM2 ? "sm2" : "ed25519";
}

/* The fields of one line: the signed text (up to " SIG") and what it says. */
typedef struct fields {
	char signed_text[ANCHOR_LINE_MAX];
	char at[32];
	long long id;
	char hash[65];
	char alg[16];
	int kid;
	char sig[2 * AC_SIG_LEN + 2];
} fields;

/* Splits line (no newline). Returns 0, or -1 when malformed. */
static int parse_line(const char *line, fields *f)
{
	char magic[32];
	const char *last_space = strrchr(line, ' ');
	int used = 0;

	if (last_space == NULL || (size_t)(last_space - line) >= sizeof(f->signed_text))
		return -1;
	if (sscanf(line, "%31s %31s %lld %64s %15s %d %129s%n", magic, f->at, &f->id, f->hash,
		   f->alg, &f->kid, f->sig, &used) != 7 ||
	    line[used] != '\0' || strcmp(magic, ANCHOR_MAGIC) != 0 || f->id < 0 ||
	    strlen(f->hash) != 64 || strlen(f->sig) != 2 * AC_SIG_LEN)
		return -1;
	memcpy(f->signed_text, line, (size_t)(last_space - line));
	f->signed_text[last_space - line] = '\0';
	return 0;
}

/* Checks f's signature with ring. Returns NULL or what is wrong. */
static const char *check_signature(const ac_keyring *ring, const fields *f)
{
	const ac_keyring_entry *e = ac_keyring_find(ring, f->kid);
	uint8_t sig[AC_SIG_LEN];
	uint8_t hash[32];

	if (e == NULL)
		return "signed with a key not in the anchor key directory";
	if (e->status == AC_KEY_REVOKED)
		return "signed with a revoked anchor key";
	if (strcmp(f->alg, alg_name(ac_key_alg(e->key))) != 0)
		return "its algorithm is not its key's";
	if (hex_decode(f->hash, hash, sizeof(hash)) != 0 ||
	    hex_decode(f->sig, sig, sizeof(sig)) != 0)
		return "malformed hash or signature";
	if (ac_key_verify(e->key, (const uint8_t *)f->signed_text, strlen(f->signed_text), sig,
			  sizeof(sig)) != 0)
		return "bad signature (the line was changed or not signed by this key)";
	return NULL;
}

static int by_id(const void *a, const void *b)
{
	const ac_anchor *x = a;
	const ac_anchor *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Adds f as anchor of line number. Returns 0 or -ENOMEM. */
static int add_anchor(ac_anchors *out, const fields *f, int number)
{
	ac_anchor *v = realloc(out->v, (size_t)(out->n + 1) * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	out->v = v;
	v[out->n] = (ac_anchor){ .id = f->id, .line = number };
	memcpy(v[out->n].hash, f->hash, sizeof(v[out->n].hash));
	memcpy(v[out->n].at, f->at, sizeof(v[out->n].at));
	out->n++;
	return 0;
}

/* Reads every line of in. Returns 0 or 2 (reported). */
static int read_lines(FILE *in, const ac_keyring *ring, ac_anchors *out)
{
	char line[ANCHOR_LINE_MAX];
	int number = 0;

	while (fgets(line, sizeof(line), in) != NULL) {
		const char *wrong = NULL;
		fields f;

		number++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (parse_line(line, &f) != 0)
			wrong = "not an anchor line";
		else
			wrong = check_signature(ring, &f);
		if (wrong == NULL && add_anchor(out, &f, number) != 0)
			wrong = "out of memory";
		if (wrong != NULL) {
			fprintf(stderr, "agricert: anchor %s line %d: %s\n", out->path, number,
				wrong);
			return 2;
		}
	}
	if (ferror(in)) {
		fprintf(stderr, "agricert: could not read %s: %s\n", out->path, strerror(errno));
		return 2;
	}
	qsort(out->v, (size_t)out->n, sizeof(*out->v), by_id);
	return 0;
}

int ac_cli_anchors_load(const char *path, const char *keys_dir, int missing_ok, ac_anchors *out)
{
	ac_keyring *ring = NULL;
	char dir[4096];
	char err[1024] = "";
	FILE *in;
	int rc;

	*out = (ac_anchors){ .path = path };
	in = fopen(path, "r");
	if (in == NULL && errno == ENOENT && missing_ok)
		return 0;
	if (in == NULL) {
		fprintf(stderr, "agricert: could not open \"%s\": %s\n", path, strerror(errno));
		return 2;
	}
	ac_cli_anchor_key_dir(keys_dir, dir, sizeof(dir));
	if (ac_keyring_load(dir, 0, &ring, err, sizeof(err)) != 0) {
		fprintf(stderr,
			"agricert: no anchor keys (create one with agricert key new --anchor): "
			"%s\n",
			err);
		fclose(in);
		return 2;
	}
	rc = read_lines(in, ring, out);
	ac_keyring_free(ring);
	fclose(in);
	if (rc != 0)
		ac_cli_anchors_free(out);
	return rc;
}

void ac_cli_anchors_free(ac_anchors *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

/* Signs head with ring's signer into line. Returns 0 or 2 (reported). */
static int sign_line(const ac_keyring *ring, const ac_audit_head *head, char *line, size_t size)
{
	const ac_key *key = ring->signer->key;
	uint8_t sig[AC_SIG_LEN];
	char sig_hex[2 * AC_SIG_LEN + 1];
	size_t siglen = 0;
	char at[32];
	time_t now = time(NULL);
	struct tm tm;
	int n;

	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	n = snprintf(line, size, "%s %s %lld %s %s %d", ANCHOR_MAGIC, at, head->id, head->hash,
		     alg_name(ac_key_alg(key)), ring->signer->kid);
	if (n < 0 || (size_t)n >= size ||
	    ac_key_sign(key, (const uint8_t *)line, (size_t)n, sig, &siglen) != 0) {
		fprintf(stderr, "agricert: could not sign the audit head\n");
		return 2;
	}
	hex_encode(sig, siglen, sig_hex);
	if ((size_t)n + 1 + strlen(sig_hex) + 2 > size)
		return 2;
	snprintf(line + n, size - (size_t)n, " %s\n", sig_hex);
	return 0;
}

/* Appends line to path and flushes it to disk. Returns 0 or 2 (reported). */
static int append_line(const char *path, const char *line)
{
	size_t len = strlen(line);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	int ok;

	if (fd < 0) {
		fprintf(stderr, "agricert: could not open \"%s\": %s\n", path, strerror(errno));
		return 2;
	}
	ok = write(fd, line, len) == (ssize_t)len && fsync(fd) == 0;
	if (!ok)
		fprintf(stderr, "agricert: could not write \"%s\": %s\n", path, strerror(errno));
	close(fd);
	return ok ? 0 : 2;
}

int ac_cli_audit_anchor(const char *conninfo, const char *keys_dir, const char *path, FILE *out)
{
	ac_anchors anchors;
	ac_audit_head head;
	ac_keyring *ring = NULL;
	char line[ANCHOR_LINE_MAX];
	char dir[4096];
	char err[1024] = "";
	int rc;

	ac_cli_anchor_key_dir(keys_dir, dir, sizeof(dir));
	if (ac_keyring_load(dir, 0, &ring, err, sizeof(err)) != 0 || ring->signer == NULL) {
		fprintf(stderr,
			"agricert: no anchor key (create one with agricert key new --anchor): "
			"%s\n",
			err[0] ? err : "none active");
		ac_keyring_free(ring);
		return 2;
	}
	rc = ac_cli_anchors_load(path, keys_dir, 1, &anchors);
	if (rc == 0)
		rc = ac_cli_audit_verify(conninfo, &anchors, &head, out);
	if (rc == 0)
		rc = sign_line(ring, &head, line, sizeof(line));
	if (rc == 0)
		rc = append_line(path, line);
	if (rc == 0)
		fprintf(out, "anchored entry %lld %s in %s\n", head.id, head.hash, path);
	ac_cli_anchors_free(&anchors);
	ac_keyring_free(ring);
	return rc;
}
