#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ac_bundle.h"
#include "ac_error.h"
#include "ac_trust.h"

const char ac_trust_sql[] = "SELECT * FROM trust_bundle_content()";

void ac_trust_key_dir(const char *keys_dir, char *out, size_t outsz)
{
	snprintf(out, outsz, "%s/bundle", keys_dir);
}

/* Adds "ID NAME" lines of one kind; a line the bundle refuses is skipped. */
static int add_names(ac_bundle *b, int kind, const char *lines)
{
	const char *p = lines;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024];
		char *space;
		int r;

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			space = strchr(line, ' ');
			if (space != NULL && space[1] != '\0') {
				*space = '\0';
				r = ac_bundle_add_name(b, kind, strtoull(line, NULL, 10),
						       space + 1);
				if (r == -ENOMEM)
					return r;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return 0;
}

int ac_trust_make(const ac_keyring *codes, const ac_keyring_entry *signer, uint64_t version,
		  const char *region, const char *products, const char *issuers,
		  const char *regions, const char *revoked, char **text, size_t *len, char *err,
		  size_t errsz)
{
	ac_bundle *b = NULL;
	char issued[32];
	time_t now = time(NULL);
	struct tm tm;
	const char *p;
	int r;

	*text = NULL;
	gmtime_r(&now, &tm);
	strftime(issued, sizeof(issued), "%Y-%m-%dT%H:%M:%SZ", &tm);
	r = ac_bundle_new(version, issued, region, &b);
	if (r != 0) {
		snprintf(err, errsz, "could not start bundle (region \"%s\"): %s", region,
			 ac_strerror(r));
		goto out;
	}
	for (int i = 0; i < codes->n; i++) {
		const ac_keyring_entry *e = &codes->entries[i];

		/* AC_KEY_ACTIVE/RETIRED/REVOKED and AC_KEY_STATUS_* share values. */
		r = ac_bundle_add_key(b, e->kid, e->key, e->status, NULL, NULL);
		if (r != 0) {
			snprintf(err, errsz, "could not add key %d: %s", e->kid, ac_strerror(r));
			goto out;
		}
	}
	r = add_names(b, AC_NAME_PRODUCT, products);
	if (r == 0)
		r = add_names(b, AC_NAME_ISSUER, issuers);
	if (r == 0)
		r = add_names(b, AC_NAME_REGION, regions);
	for (p = revoked; r == 0 && p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');

		r = ac_bundle_add_revoked(b, strtoull(p, NULL, 10));
		p = nl ? nl + 1 : NULL;
	}
	if (r != 0) {
		snprintf(err, errsz, "could not build bundle: %s", ac_strerror(r));
		goto out;
	}
	r = ac_bundle_sign(b, signer->kid, signer->key, text, len);
	if (r != 0)
		snprintf(err, errsz, "could not sign bundle: %s", ac_strerror(r));
out:
	ac_bundle_free(b);
	return r;
}
