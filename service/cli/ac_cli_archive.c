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

/* A file being written or read, and the SHA-256 of its bytes so far. */
typedef struct hashed_file {
	FILE *f;
	EVP_MD_CTX *md;
} hashed_file;

/* Opens path with mode, hashing. Returns 0, or -1 (errno says why). */
static int hashed_open(hashed_file *h, const char *path, const char *mode)
{
	h->md = EVP_MD_CTX_new();
	if (h->md == NULL || EVP_DigestInit_ex(h->md, EVP_sha256(), NULL) != 1) {
		errno = ENOMEM;
		return -1;
	}
	h->f = fopen(path, mode);
	return h->f != NULL ? 0 : -1;
}

/* The SHA-256 of what went through h, as 64 hex digits into hex (65 bytes). */
static void hashed_hex(hashed_file *h, char *hex)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	hex[0] = '\0';
	if (EVP_DigestFinal_ex(h->md, md, &mdlen) != 1)
		return;
	for (unsigned int i = 0; i < mdlen && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static void hashed_close(hashed_file *h)
{
	if (h->f != NULL)
		fclose(h->f);
	h->f = NULL;
	EVP_MD_CTX_free(h->md);
	h->md = NULL;
}

/* ac_dbsync_copy_out's sink: a month's rows into the file. */
static int hashed_write(void *arg, const char *bytes, size_t len)
{
	hashed_file *h = arg;

	if (fwrite(bytes, 1, len, h->f) != len)
		return -1;
	return EVP_DigestUpdate(h->md, bytes, len) == 1 ? 0 : -1;
}

/* ac_dbsync_copy_in's source: an archived month's rows from the file. */
static long hashed_read(void *arg, char *buf, size_t size)
{
	hashed_file *h = arg;
	size_t n = fread(buf, 1, size, h->f);

	if (n == 0)
		return ferror(h->f) ? -1 : 0;
	return EVP_DigestUpdate(h->md, buf, n) == 1 ? (long)n : -1;
}

/* Makes dir's entries (a rename into it) durable. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Copies detached partition name (rows in key order) to path, durably (the
 * file synced, renamed into place, the directory synced: only then may the
 * table be dropped), and
 * sets hex (65 bytes) to its SHA-256 and *rows. Returns 0, or 1 after a
 * message.
 */
static int copy_month(ac_dbsync *db, const char *name, const char *dir, const char *path, char *hex,
		      long long *rows)
{
	char tmp[PATH_MAX + 8];
	char sql[256];
	char err[512];
	hashed_file h = { 0 };
	int rc = 1;

	snprintf(tmp, sizeof(tmp), "%s.part", path);
	snprintf(sql, sizeof(sql),
		 "COPY (SELECT * FROM %s ORDER BY 1) TO STDOUT (FORMAT csv, HEADER)", name);
	if (hashed_open(&h, tmp, "wx") != 0) {
		fprintf(stderr, "agricert: could not write %s: %s\n", tmp, strerror(errno));
		hashed_close(&h);
		return 1;
	}
	if (ac_dbsync_copy_out(db, sql, hashed_write, &h, rows, err, sizeof(err)) != 0)
		fprintf(stderr, "agricert: could not copy %s: %s\n", name, err);
	else if (fflush(h.f) != 0 || fsync(fileno(h.f)) != 0)
		fprintf(stderr, "agricert: could not write %s: %s\n", tmp, strerror(errno));
	else if (rename(tmp, path) != 0 || sync_dir(dir) != 0)
		fprintf(stderr, "agricert: could not rename %s into %s: %s\n", tmp, dir,
			strerror(errno));
	else
		rc = 0;
	if (rc == 0)
		hashed_hex(&h, hex);
	else
		unlink(tmp);
	hashed_close(&h);
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

/* Loads path into the temporary table audit_archived; hex receives its SHA-256. */
static int load_archive(ac_dbsync *db, const char *path, char *hex)
{
	hashed_file h = { 0 };
	long long rows = 0;
	char err[512];
	int rc = 2;

	if (hashed_open(&h, path, "r") != 0)
		fprintf(stderr, "agricert: could not read %s: %s\n", path, strerror(errno));
	else if (ac_dbsync_exec(db, "CREATE TEMP TABLE audit_archived (LIKE audit_log)", 0, NULL,
				NULL, err, sizeof(err)) != 0 ||
		 ac_dbsync_copy_in(db, "COPY audit_archived FROM STDIN (FORMAT csv, HEADER)",
				   hashed_read, &h, &rows, err, sizeof(err)) != 0)
		fprintf(stderr, "agricert: could not load %s: %s\n", path, err);
	else
		rc = 0;
	if (rc == 0)
		hashed_hex(&h, hex);
	hashed_close(&h);
	return rc;
}

/* What the loaded file holds and what partition_archive recorded for it. */
static const char compare_sql[] =
    "WITH f AS (SELECT count(*) AS rows, min(id) AS first_id, max(id) AS last_id, "
    "encode((array_agg(prev_hash ORDER BY id))[1], 'hex') AS first_prev, "
    "encode((array_agg(hash ORDER BY id DESC))[1], 'hex') AS last_hash FROM audit_archived) "
    "SELECT f.*, a.name, a.rows AS a_rows, a.first_id AS a_first_id, a.last_id AS a_last_id, "
    "encode(a.first_prev_hash, 'hex') AS a_first_prev, encode(a.last_hash, 'hex') AS a_last_hash, "
    "a.sha256 AS a_sha256 FROM f LEFT JOIN partition_archive a ON a.parent = 'audit_log' "
    "AND a.first_id = f.first_id";

/* Compares one recorded value with the file's; 0 when equal, else 1 after saying so. */
static int same(const ac_db_result *res, const char *path, const char *what, const char *file_col,
		const char *recorded_col, FILE *out)
{
	const char *f = ac_db_field(res, 0, file_col);
	const char *a = ac_db_field(res, 0, recorded_col);

	if (f != NULL && a != NULL && strcmp(f, a) == 0)
		return 0;
	fprintf(out,
		"archive %s differs from its record in partition_archive: %s %s, recorded %s\n",
		path, what, f != NULL ? f : "none", a != NULL ? a : "none");
	return 1;
}

static int compare_archive(ac_dbsync *db, const char *path, const char *sha, FILE *out)
{
	ac_db_result *res = NULL;
	const char *recorded;
	char last_hash[65] = "";
	char err[512];
	int rc;

	if (ac_dbsync_exec(db, compare_sql, 0, NULL, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not compare %s: %s\n", path, err);
		return 2;
	}
	if (ac_db_field(res, 0, "name") == NULL) {
		fprintf(
		    out,
		    "archive %s: no archived month of the audit log starts at its first entry\n",
		    path);
		ac_db_result_free(res);
		return 1;
	}
	recorded = ac_db_field(res, 0, "a_sha256");
	rc = recorded == NULL || strcmp(sha, recorded) != 0;
	if (rc)
		fprintf(out,
			"archive %s differs from its record in partition_archive: SHA-256 %s, "
			"recorded %s\n",
			path, sha, recorded != NULL ? recorded : "none");
	rc |= same(res, path, "rows", "rows", "a_rows", out);
	rc |= same(res, path, "last entry", "last_id", "a_last_id", out);
	rc |= same(res, path, "hash the first entry follows", "first_prev", "a_first_prev", out);
	rc |= same(res, path, "last hash", "last_hash", "a_last_hash", out);
	if (rc == 0)
		rc = ac_cli_audit_check(
		    db, "audit_archived", strtoll(ac_db_field(res, 0, "first_id"), NULL, 10) - 1,
		    ac_db_field(res, 0, "first_prev"),
		    strtoll(ac_db_field(res, 0, "last_id"), NULL, 10), last_hash, out);
	if (rc == 0)
		fprintf(out,
			"archive %s intact: entries %s to %s of the audit log, its SHA-256 and "
			"hashes as recorded when %s was archived\n",
			path, ac_db_field(res, 0, "first_id"), ac_db_field(res, 0, "last_id"),
			ac_db_field(res, 0, "name"));
	ac_db_result_free(res);
	return rc;
}

int ac_cli_archive_verify(const ac_config *cfg, const char *path, FILE *out)
{
	ac_dbsync *db = ac_cli_open(cfg->db);
	char sha[65] = "";
	int rc;

	if (db == NULL)
		return 2;
	rc = load_archive(db, path, sha);
	if (rc == 0)
		rc = compare_archive(db, path, sha, out);
	ac_dbsync_close(db);
	return rc;
}
