#include <errno.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_auth.h"
#include "ac_error.h"

/* A direct-mapped cache: a collision simply replaces the entry. */
#define CACHE_SLOTS 4096

typedef struct cache_entry {
	char token[AC_AUTH_TOKEN_MAX + 1];
	char hash[65]; /* hex SHA-256 of token, as api_token.token_hash */
	uint64_t expires;
	ac_principal p;
} cache_entry;

struct ac_auth {
	uv_loop_t *loop;
	ac_db *db;
	cache_entry *cache; /* CACHE_SLOTS, allocated on first use */
	uint64_t forgotten; /* counts forget calls: a look-up that saw one is not cached */
	int shared;	    /* other instances' changes are heard (ac_auth_set_shared) */
};

typedef struct lookup {
	ac_auth *a;
	ac_auth_cb cb;
	void *data;
	uint64_t forgotten;
	char token[AC_AUTH_TOKEN_MAX + 1];
} lookup;

static const char auth_sql[] =
    "SELECT subject_id, role, name, contact, status, region_code, kiosk_id, assisted_by, "
    "assisted_by_name "
    "FROM token_principal($1)";

int ac_auth_new(uv_loop_t *loop, ac_db *db, ac_auth **out)
{
	ac_auth *a = calloc(1, sizeof(*a));

	*out = NULL;
	if (a == NULL)
		return -ENOMEM;
	a->loop = loop;
	a->db = db;
	*out = a;
	return 0;
}

void ac_auth_free(ac_auth *a)
{
	if (a == NULL)
		return;
	/* No cache before the first token: explicit_bzero(NULL, 0) is undefined. */
	if (a->cache != NULL)
		explicit_bzero(a->cache, CACHE_SLOTS * sizeof(*a->cache));
	free(a->cache);
	free(a);
}

static size_t token_slot(const char *token)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *token; token++) {
		h ^= (unsigned char)*token;
		h *= 1099511628211ULL;
	}
	return h % CACHE_SLOTS;
}

static const ac_principal *cache_get(ac_auth *a, const char *token)
{
	cache_entry *e;

	if (a->cache == NULL)
		return NULL;
	e = &a->cache[token_slot(token)];
	if (e->expires <= uv_now(a->loop) || strcmp(e->token, token) != 0)
		return NULL;
	return &e->p;
}

static void cache_put(ac_auth *a, const char *token, const ac_principal *p)
{
	cache_entry *e;

	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!a->shared)
		return;
	if (a->cache == NULL)
		a->cache = calloc(CACHE_SLOTS, sizeof(*a->cache));
	if (a->cache == NULL || !EVP_Digest(token, strlen(token), md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		return;
	e = &a->cache[token_slot(token)];
	snprintf(e->token, sizeof(e->token), "%s", token);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(e->hash + 2 * i, 3, "%02x", md[i]);
	e->p = *p;
	e->expires = uv_now(a->loop) + AC_AUTH_CACHE_MS;
}

void ac_auth_forget_subject(ac_auth *a, int subject_id)
{
	a->forgotten++;
	for (size_t i = 0; a->cache != NULL && i < CACHE_SLOTS; i++) {
		if (a->cache[i].expires != 0 && a->cache[i].p.subject_id == subject_id)
			memset(&a->cache[i], 0, sizeof(a->cache[i]));
	}
}

void ac_auth_forget_hash(ac_auth *a, const char *hex)
{
	a->forgotten++;
	for (size_t i = 0; a->cache != NULL && i < CACHE_SLOTS; i++) {
		if (a->cache[i].expires != 0 && strcmp(a->cache[i].hash, hex) == 0)
			explicit_bzero(&a->cache[i], sizeof(a->cache[i]));
	}
}

void ac_auth_set_shared(ac_auth *a, int shared)
{
	a->forgotten++;
	a->shared = shared;
	if (a->cache != NULL)
		explicit_bzero(a->cache, CACHE_SLOTS * sizeof(*a->cache));
}

void ac_auth_forget_token(ac_auth *a, const char *token)
{
	cache_entry *e;

	a->forgotten++;
	if (a->cache == NULL)
		return;
	e = &a->cache[token_slot(token)];
	if (strcmp(e->token, token) == 0)
		memset(e, 0, sizeof(*e));
}

static void copy_field(char *out, size_t outsz, const ac_db_result *res, const char *col)
{
	const char *v = ac_db_field(res, 0, col);

	snprintf(out, outsz, "%s", v != NULL ? v : "");
}

static void on_lookup(void *data, const ac_db_result *res, int err, const char *msg)
{
	lookup *l = data;
	ac_principal p;

	if (err != 0) {
		l->cb(l->data, 0, NULL, AC_EDB);
		goto out;
	}
	if (ac_db_rows(res) != 1) {
		l->cb(l->data, 0, NULL, 0);
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.subject_id = (int)strtol(ac_db_field(res, 0, "subject_id"), NULL, 10);
	copy_field(p.role, sizeof(p.role), res, "role");
	copy_field(p.name, sizeof(p.name), res, "name");
	copy_field(p.contact, sizeof(p.contact), res, "contact");
	copy_field(p.status, sizeof(p.status), res, "status");
	p.region_code = strtoll(ac_db_field(res, 0, "region_code"), NULL, 10);
	copy_field(p.kiosk_id, sizeof(p.kiosk_id), res, "kiosk_id");
	p.assisted_by = (int)strtol(ac_db_field(res, 0, "assisted_by"), NULL, 10);
	copy_field(p.assisted_by_name, sizeof(p.assisted_by_name), res, "assisted_by_name");
	/* A logout or a change while this was under way must not be undone. */
	if (l->forgotten == l->a->forgotten)
		cache_put(l->a, l->token, &p);
	l->cb(l->data, 1, &p, 0);
out:
	explicit_bzero(l->token, sizeof(l->token));
	free(l);
}

int ac_auth_lookup(ac_auth *a, const char *token, ac_auth_cb cb, void *data)
{
	const ac_principal *cached = cache_get(a, token);
	const char *values[1] = { token };
	lookup *l;
	int rc;

	if (cached != NULL) {
		ac_principal p = *cached;

		cb(data, 1, &p, 0);
		return 0;
	}
	if (strlen(token) > AC_AUTH_TOKEN_MAX)
		return AC_ERANGE;
	l = malloc(sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	l->a = a;
	l->cb = cb;
	l->data = data;
	l->forgotten = a->forgotten;
	snprintf(l->token, sizeof(l->token), "%s", token);
	rc = ac_db_query(a->db, auth_sql, 1, values, NULL, on_lookup, l);
	if (rc != 0)
		free(l);
	return rc;
}
