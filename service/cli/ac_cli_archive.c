/*
 * agricert archive: see ac_cli_archive.h and sql/0028_partitions.sql.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ac_cli.h"
#include "ac_cli_archive.h"
#include "ac_cli_audit.h"

/* Where a month's rows go while they are copied. */
typedef struct sink {
	FILE *f;
	EVP_MD_CTX *md;
} sink;

static int sink_write(void *arg, const char *bytes, size_t len)
{
	sink *s = arg;

	if (fwrite(bytes, 1, len, s->f) != len)
		return -1;
	return EVP_DigestUpdate(s->md, bytes, len) == 1 ? 0 : -1;
}

/* Makes what was written to f (and the directory entry of dir) durable. */
static int sync_file(FILE *f, const char *dir)
{
	int fd;
	int rc = 0;

	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	if (fsync(fd) != 0)
		rc = -1;
	close(fd);
	return rc;
}

/*
 * Copies detached partition name (rows in key order) to path, durably, and
 * sets hex (65 bytes) to its SHA-256 and *rows. Returns 0, or 1 after a
 * message.
 */
static int copy_month(ac_dbsync *db, const char *name, const char *dir, const char *path, char *hex,
		      long long *rows)
{
	char tmp[PATH_MAX + 8];
	char sql[256];
	char err[512];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	sink s = { .md = EVP_MD_CTX_new() };
	int rc = 1;

	snprintf(tmp, sizeof(tmp), "%s.part", path);
	snprintf(sql, sizeof(sql),
		 "COPY (SELECT * FROM %s ORDER BY 1) TO STDOUT (FORMAT csv, HEADER)", name);
	s.f = fopen(tmp, "wx");
	if (s.f == NULL || s.md == NULL || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "agricert: could not write %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	if (ac_dbsync_copy_out(db, sql, sink_write, &s, rows, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not copy %s: %s\n", name, err);
		goto out;
	}
	if (sync_file(s.f, dir) != 0 || fclose(s.f) != 0) {
		s.f = NULL;
		fprintf(stderr, "agricert: could not write %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	s.f = NULL;
	if (rename(tmp, path) != 0) {
		fprintf(stderr, "agricert: could not rename %s: %s\n", tmp, strerror(errno));
		goto out;
	}
	EVP_DigestFinal_ex(s.md, md, &mdlen);
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	if (s.f != NULL) {
		fclose(s.f);
		unlink(tmp);
	}
	EVP_MD_CTX_free(s.md);
	return rc;
}

/* Detaches, copies and drops one month. Returns 0 or 1 after a message. */
static int archive_month(ac_dbsync *db, const char *name, const char *dir, FILE *out)
{
	char path[PATH_MAX];
	char rows_s[24];
	char hex[65] = "";
	long long rows = 0;
	ac_db_call call;
	char err[512];

	ac_db_call_init(&call, "partition_detach");
	ac_db_arg(&call, "p_name", "text", name);
	if (ac_cli_call(db, &call, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not detach %s: %s\n", name, err);
		return 1;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.csv", dir, name) >= sizeof(path)) {
		fprintf(stderr, "agricert: the path %s/%s.csv is too long\n", dir, name);
		return 1;
	}
	if (copy_month(db, name, dir, path, hex, &rows) != 0)
		return 1;
	snprintf(rows_s, sizeof(rows_s), "%lld", rows);
	ac_db_call_init(&call, "partition_archived");
	ac_db_arg(&call, "p_name", "text", name);
	ac_db_arg(&call, "p_file", "text", path);
	ac_db_arg(&call, "p_sha256", "text", hex);
	ac_db_arg(&call, "p_rows", "bigint", rows_s);
	if (ac_cli_call(db, &call, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s written to %s but not dropped: %s\n", name, path,
			err);
		return 1;
	}
	fprintf(out, "archived %s: %lld rows to %s (sha256 %s)\n", name, rows, path, hex);
	fprintf(out, "已归档 %s：%lld 行，文件 %s\n", name, rows, path);
	return 0;
}

/* The months due, the audit log's last (its entries about the others go in
 * the chain before its own months leave), oldest first. */
static const char due_sql[] = "SELECT name, parent, attached FROM partition_months WHERE due "
			      "ORDER BY parent = 'audit_log', month, parent";

static int archive_due(ac_dbsync *db, const ac_config *cfg, const char *dir, int dry_run, FILE *out)
{
	ac_db_result *res = NULL;
	char err[512];
	int audit = 0;
	int rc = 0;

	if (ac_dbsync_exec(db, due_sql, 0, NULL, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not list the months to archive: %s\n", err);
		return 1;
	}
	for (int i = 0; i < ac_db_rows(res); i++)
		audit |= strcmp(ac_db_field(res, i, "parent"), "audit_log") == 0;
	if (ac_db_rows(res) == 0)
		fprintf(out, "nothing to archive: no month is past its legal minimum\n");
	if (dry_run) {
		for (int i = 0; i < ac_db_rows(res); i++)
			fprintf(out, "would archive %s\n", ac_db_field(res, i, "name"));
	} else if (audit && ac_cli_audit_verify(cfg->db, NULL, NULL, out) != 0) {
		fprintf(stderr, "agricert: the audit log is broken: nothing archived\n");
		rc = 2;
	} else {
		for (int i = 0; i < ac_db_rows(res) && rc == 0; i++)
			rc = archive_month(db, ac_db_field(res, i, "name"), dir, out);
	}
	ac_db_result_free(res);
	return rc;
}

int ac_cli_archive(const ac_config *cfg, const char *dir, int dry_run, FILE *out)
{
	char real[PATH_MAX];
	ac_dbsync *db = NULL;
	char err[512] = "out of memory";
	int rc;

	if (!dry_run && mkdir(dir, 0750) != 0 && errno != EEXIST) {
		fprintf(stderr, "agricert: could not create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (!dry_run && realpath(dir, real) == NULL) {
		fprintf(stderr, "agricert: could not open %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (ac_dbsync_open(cfg->db_owner, &db, err, sizeof(err)) != 0 ||
	    ac_cli_set_actor(db, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not archive: %s\n", err);
		ac_dbsync_close(db);
		return 1;
	}
	rc = archive_due(db, cfg, dry_run ? dir : real, dry_run, out);
	ac_dbsync_close(db);
	return rc;
}
