#include <string.h>

#include "ac_app.h"
#include "ac_base32.h"
#include "ac_codes.h"
#include "ac_handler.h"

typedef struct check {
	ac_keyring *ring;
	ac_scanned_code *v;
	int n;
	void (*after)(ac_req *r);
} check;

static void unref_ring(void *ring)
{
	ac_keyring_unref(ring);
}

/* Thread pool: reads the ring it holds a reference on, writes its entries. */
static void check_work(void *arg)
{
	check *c = arg;

	for (int i = 0; i < c->n; i++) {
		ac_scanned_code *k = &c->v[i];
		const ac_keyring_entry *key;

		if (k->status != NULL)
			continue;
		if (ac_code_decode(k->text, strlen(k->text), &k->code) != 0)
			k->status = "malformed";
		else if ((key = ac_keyring_find(c->ring, k->code.f.kid)) == NULL)
			k->status = "unknown_key";
		else if (ac_code_verify(&k->code, key->key) != 0)
			k->status = "bad_signature";
		else if (key->status == AC_KEY_REVOKED)
			k->status = "key_revoked";
		else if (ac_base32_encode(k->code.raw, k->code.raw_len, k->payload,
					  sizeof(k->payload)) < 0)
			k->status = "malformed";
	}
}

static void after_check(ac_req *r, void *arg)
{
	check *c = arg;

	c->after(r);
}

void ac_codes_add(ac_buf arrays[3], const ac_scanned_code *c)
{
	ac_buf_pg_next_int(&arrays[0], (long long)c->code.f.serial, 0);
	ac_buf_pg_next_int(&arrays[1], c->code.f.item, 0);
	ac_buf_pg_next(&arrays[2], c->payload);
}

void ac_codes_check(ac_req *r, ac_scanned_code *v, int n, void (*after)(ac_req *r))
{
	check *c = ac_req_new(r, check);

	if (c == NULL) {
		ac_req_nomem(r);
		return;
	}
	/* A reload may replace the service's ring while the work runs. */
	c->ring = ac_keyring_ref(ac_app_of(r)->keys);
	if (ac_req_defer(r, unref_ring, c->ring) != 0) {
		ac_req_nomem(r);
		return;
	}
	c->v = v;
	c->n = n;
	c->after = after;
	ac_req_work(r, check_work, after_check, c);
}
