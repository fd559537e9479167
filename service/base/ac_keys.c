#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ac_error.h"
#include "ac_keys.h"

const char *ac_key_status_name(int status)
{
	switch (status) {
	case AC_KEY_ACTIVE:
		return "active";
	case AC_KEY_RETIRED:
		return "retired";
	case AC_KEY_REVOKED:
		return "revoked";
	default:
		return "unknown";
	}
}

static int read_small_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	int fd;
	int r = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || st.st_size > 65536) {
		r = st.st_size > 65536 ? AC_ETOOBIG : -errno;
		goto out;
	}
	buf = malloc(st.st_size + 1);
	if (buf == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (read(fd, buf, st.st_size) != st.st_size) {
		r = -EIO;
		goto out;
	}
	buf[st.st_size] = '\0';
	*len = st.st_size;
	*out = buf;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return r;
}

static int read_status(const char *dir, int kid)
{
	char path[4096];
	char *text = NULL;
	size_t len;
	int status = AC_KEY_ACTIVE;

	snprintf(path, sizeof(path), "%s/%d.status", dir, kid);
	if (read_small_file(path, &text, &len) != 0)
		return AC_KEY_ACTIVE;
	if (strncmp(text, "retired", 7) == 0)
		status = AC_KEY_RETIRED;
	else if (strncmp(text, "revoked", 7) == 0)
		status = AC_KEY_REVOKED;
	free(text);
	return status;
}

static int load_one(ac_keyring *ring, const char *dir, const char *name, char *err, size_t errsz)
{
	char path[4096];
	struct stat st;
	ac_keyring_entry *e;
	char *pem = NULL;
	size_t len = 0;
	size_t publen = 0;
	char *end;
	long kid;
	int priv;
	int r;

	kid = strtol(name, &end, 10);
	if (end == name || kid < 1 || kid > 65535)
		return 0;
	if (strcmp(end, ".key") == 0)
		priv = 1;
	else if (strcmp(end, ".pub") == 0)
		priv = 0;
	else
		return 0;
	if (ac_keyring_find(ring, (int)kid) != NULL) {
		/* A .key and a .pub for one kid: the private one wins. */
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &st) != 0) {
		snprintf(err, errsz, "could not stat file \"%s\": %s", path, strerror(errno));
		return -errno;
	}
	if (priv && (st.st_mode & 077) != 0) {
		snprintf(err, errsz,
			 "private key file \"%s\" is readable by others (mode %03o); "
			 "run chmod 600 on it",
			 path, st.st_mode & 0777);
		return AC_EPERM;
	}
	r = read_small_file(path, &pem, &len);
	if (r != 0) {
		snprintf(err, errsz, "could not read file \"%s\": %s", path, ac_strerror(r));
		return r;
	}
	e = &ring->entries[ring->n];
	memset(e, 0, sizeof(*e));
	r = ac_key_from_pem(pem, len, &e->key);
	explicit_bzero(pem, len);
	free(pem);
	if (r != 0) {
		snprintf(err, errsz, "could not load key \"%s\": %s", path, ac_strerror(r));
		return r;
	}
	e->kid = (int)kid;
	e->status = read_status(dir, (int)kid);
	r = ac_key_public_pem(e->key, &e->public_pem, &publen);
	if (r != 0) {
		ac_key_free(e->key);
		snprintf(err, errsz, "could not export public key %ld", kid);
		return r;
	}
	ring->n++;
	return 0;
}

int ac_keyring_load(const char *dir, int signing_kid, ac_keyring **out, char *err, size_t errsz)
{
	ac_keyring *ring = NULL;
	struct dirent *de;
	DIR *d = NULL;
	int cap = 16;
	int r = 0;

	*out = NULL;
	err[0] = '\0';
	d = opendir(dir);
	if (d == NULL) {
		r = -errno;
		snprintf(err, errsz, "could not open key directory \"%s\": %s", dir,
			 strerror(errno));
		return r;
	}
	ring = calloc(1, sizeof(*ring));
	if (ring == NULL || (ring->entries = calloc(cap, sizeof(*ring->entries))) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	ring->refs = 1;
	while ((de = readdir(d)) != NULL) {
		if (ring->n == cap) {
			ac_keyring_entry *n = realloc(ring->entries, 2 * cap * sizeof(*n));

			if (n == NULL) {
				r = -ENOMEM;
				goto out;
			}
			ring->entries = n;
			cap *= 2;
		}
		r = load_one(ring, dir, de->d_name, err, errsz);
		if (r != 0)
			goto out;
	}
	for (int i = 0; i < ring->n; i++) {
		const ac_keyring_entry *e = &ring->entries[i];

		if (e->status != AC_KEY_ACTIVE || !ac_key_has_private(e->key))
			continue;
		if (signing_kid != 0 ? e->kid == signing_kid
				     : (ring->signer == NULL || e->kid > ring->signer->kid))
			ring->signer = e;
	}
	if (signing_kid != 0 && ring->signer == NULL) {
		snprintf(err, errsz, "signing key %d is not an active private key in \"%s\"",
			 signing_kid, dir);
		r = AC_EUNKNOWNKEY;
		goto out;
	}
	*out = ring;
	ring = NULL;
out:
	closedir(d);
	ac_keyring_free(ring);
	return r;
}

ac_keyring *ac_keyring_ref(ac_keyring *ring)
{
	if (ring != NULL)
		ring->refs++;
	return ring;
}

void ac_keyring_free(ac_keyring *ring)
{
	ac_keyring_unref(ring);
}

void ac_keyring_unref(ac_keyring *ring)
{
	if (ring == NULL || --ring->refs > 0)
		return;
	for (int i = 0; i < ring->n; i++) {
		ac_key_free(ring->entries[i].key);
		free(ring->entries[i].public_pem);
	}
	free(ring->entries);
	free(ring);
}

const ac_keyring_entry *ac_keyring_find(const ac_keyring *ring, int kid)
{
	for (int i = 0; ring != NULL && i < ring->n; i++) {
		if (ring->entries[i].kid == kid)
			return &ring->entries[i];
	}
	return NULL;
}

int ac_keyring_create(const char *dir, int alg, int *kid, char *err, size_t errsz)
{
	char path[4096];
	ac_key *key = NULL;
	char *pem = NULL;
	size_t len = 0;
	int next = 1;
	struct dirent *de;
	DIR *d;
	int fd = -1;
	int r;

	*kid = 0;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errsz, "could not create directory \"%s\": %s", dir, strerror(errno));
		return -errno;
	}
	d = opendir(dir);
	if (d == NULL) {
		snprintf(err, errsz, "could not open directory \"%s\": %s", dir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		long k = strtol(de->d_name, NULL, 10);

		if (k >= next && k < 65535)
			next = (int)k + 1;
	}
	closedir(d);
	r = ac_key_generate(alg, &key);
	if (r == 0)
		r = ac_key_private_pem(key, &pem, &len);
	if (r != 0) {
		snprintf(err, errsz, "could not generate key: %s", ac_strerror(r));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%d.key", dir, next);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, pem, len) != (ssize_t)len || fsync(fd) != 0) {
		r = -errno;
		snprintf(err, errsz, "could not write file \"%s\": %s", path, strerror(errno));
		goto out;
	}
	*kid = next;
out:
	if (fd >= 0)
		close(fd);
	if (pem != NULL) {
		explicit_bzero(pem, len);
		free(pem);
	}
	ac_key_free(key);
	return r;
}

int ac_keyring_set_status(const char *dir, int kid, int status, char *err, size_t errsz)
{
	char path[4096];
	const char *name = ac_key_status_name(status);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d.status", dir, kid);
	f = fopen(path, "w");
	if (f == NULL) {
		snprintf(err, errsz, "could not open file \"%s\": %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "%s\n", name);
	if (fclose(f) != 0) {
		snprintf(err, errsz, "could not write file \"%s\": %s", path, strerror(errno));
		return -errno;
	}
	return 0;
}
