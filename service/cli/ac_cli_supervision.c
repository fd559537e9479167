/*
 * agricert import quarantine and agricert demo load (ac_cli_supervision.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_cli.h"
#include "ac_cli_supervision.h"
#include "ac_code.h"
#include "ac_error.h"
#include "ac_keys.h"

#define MAX_FILE     (16 * 1024 * 1024)
#define DEMO_DAYS    30
#define SERIAL_BLOCK 4096 /* serials come in blocks (sql/0001_init.sql) */

/* Opens conninfo with the CLI's user as the audit log's actor. */
static ac_dbsync *open_as_user(const char *conninfo)
{
	ac_dbsync *db = ac_cli_open(conninfo);
	char err[512];

	if (db != NULL && ac_cli_set_actor(db, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		ac_dbsync_close(db);
		db = NULL;
	}
	return db;
}

/* The whole file at path, NUL-terminated (free it), or NULL after a message. */
static char *read_file(const char *path)
{
	FILE *f = ac_cli_fopen(path, "rb");
	char *text = NULL;
	size_t len;

	if (f == NULL)
		return NULL;
	text = malloc(MAX_FILE + 1);
	if (text == NULL) {
		fprintf(stderr, "agricert: out of memory\n");
		goto out;
	}
	len = fread(text, 1, MAX_FILE + 1, f);
	if (ferror(f) || len > MAX_FILE || memchr(text, '\0', len) != NULL) {
		fprintf(stderr, "agricert: could not read \"%s\": %s\n", path,
			ferror(f) ? strerror(errno) : "not a text file of at most 16 MiB");
		free(text);
		text = NULL;
		goto out;
	}
	text[len] = '\0';
out:
	fclose(f);
	return text;
}

/* Reports import_quarantine()'s answer. Returns 0 when it imported. */
static int report_quarantine(const ac_db_result *res)
{
	int status = ac_db_col(res, "status");
	int fresh = 0;
	int rejected = 0;

	for (int k = 0; k < ac_db_rows(res); k++) {
		const char *s = ac_db_get(res, k, status);

		fresh += strcmp(s, "new") == 0;
		if (strcmp(s, "rejected") == 0) {
			fprintf(stderr, "line %s: rejected: %s\n", ac_db_field(res, k, "line"),
				ac_db_field(res, k, "message"));
			rejected++;
		}
	}
	if (rejected > 0) {
		fprintf(stderr, "agricert: %d lines rejected; nothing imported\n", rejected);
		return 1;
	}
	printf("imported %d quarantine certificates (%d new, %d updated)\n", ac_db_rows(res), fresh,
	       ac_db_rows(res) - fresh);
	return 0;
}

int ac_cli_import_quarantine(const char *conninfo, const char *path)
{
	char *text = read_file(path);
	ac_db_result *res = NULL;
	ac_dbsync *db = NULL;
	ac_db_call call;
	char err[512];
	int rc = 1;

	if (text == NULL || (db = open_as_user(conninfo)) == NULL)
		goto out;
	ac_db_call_init(&call, "import_quarantine");
	ac_db_arg(&call, "p_csv", "text", text);
	ac_db_arg(&call, "p_imported_by", "integer", NULL);
	ac_db_arg_int(&call, "p_region_lo", "bigint", 0);
	ac_db_arg_int(&call, "p_region_hi", "bigint", 999999999999LL);
	if (ac_cli_call(db, &call, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not import quarantine certificates: %s\n", err);
		goto out;
	}
	rc = report_quarantine(res);
out:
	ac_db_result_free(res);
	ac_dbsync_close(db);
	free(text);
	return rc;
}

/* agricert demo load */

/* The signed certificates of the plan, as demo_store()'s arrays. */
enum { ARR_SERIAL, ARR_CODES, NARRAYS };

static const ac_db_param arrays[NARRAYS] = {
	[ARR_SERIAL] = { "p_serial", "bigint[]" },
	[ARR_CODES] = { "p_codes", "text[]" },
};

/* The code fields of plan row k, but for the item index. */
static void plan_fields(const ac_db_result *plan, int k, int kid, uint64_t serial,
			ac_code_fields *f)
{
	memset(f, 0, sizeof(*f));
	f->version = AC_CODE_VERSION;
	f->kid = (uint16_t)kid;
	f->serial = serial;
	f->issue_day = (uint16_t)atoi(ac_db_field(plan, k, "issue_day"));
	f->product = (uint16_t)atoi(ac_db_field(plan, k, "product_id"));
	f->quantity_milli = (uint32_t)strtoul(ac_db_field(plan, k, "quantity_milli"), NULL, 10);
	f->unit = (uint8_t)atoi(ac_db_field(plan, k, "unit"));
	f->issuer = (uint32_t)atoi(ac_db_field(plan, k, "issuer_id"));
	f->origin = strtoull(ac_db_field(plan, k, "origin_code"), NULL, 10);
	f->basis = (uint8_t)atoi(ac_db_field(plan, k, "basis"));
	f->style = (uint8_t)atoi(ac_db_field(plan, k, "style"));
}

/* A fresh block of serials: its first serial, or 0 after a message in err. */
static uint64_t serial_block(ac_dbsync *db, char *err, size_t errsz)
{
	ac_db_result *res = NULL;
	uint64_t first = 0;

	if (ac_dbsync_exec(db, "SELECT nextval('certificate_serial_block') AS block", 0, NULL, &res,
			   err, errsz) == 0)
		first = strtoull(ac_db_field(res, 0, "block"), NULL, 10) * SERIAL_BLOCK;
	ac_db_result_free(res);
	return first;
}

/*
 * Signs every row of the plan (rows numbered n from 1, in order) with the
 * ring's signer into the arrays. Returns 0, or a negative code with err.
 */
static int sign_plan(ac_dbsync *db, const ac_db_result *plan, const ac_keyring_entry *signer,
		     ac_buf a[NARRAYS], char *err, size_t errsz)
{
	uint64_t next = 0;
	uint64_t end = 0;
	char text[AC_CODE_TEXT_SIZE];

	for (int k = 0; k < ac_db_rows(plan); k++) {
		int labels = atoi(ac_db_field(plan, k, "labels"));
		ac_buf codes;
		ac_code_fields f;
		int r = 0;

		if (next == end) {
			next = serial_block(db, err, errsz);
			if (next == 0)
				return AC_EDB;
			end = next + SERIAL_BLOCK;
		}
		plan_fields(plan, k, signer->kid, next, &f);
		ac_buf_pg_next_int(&a[ARR_SERIAL], (long long)next++, 0);
		ac_buf_init(&codes);
		for (int i = 1; i <= labels && r == 0; i++) {
			f.item = (uint16_t)i;
			r = ac_code_sign(signer->key, &f, text, sizeof(text));
			ac_buf_printf(&codes, "%s%s", i > 1 ? "," : "", text);
		}
		ac_buf_pg_next(&a[ARR_CODES], codes.data);
		ac_buf_free(&codes);
		if (r != 0) {
			snprintf(err, errsz, "could not sign a demo code: %s", ac_strerror(r));
			return r;
		}
	}
	return 0;
}

/* Prints demo_store()'s summary. */
static void report_demo(const ac_db_result *res)
{
	printf("demo data loaded: %s subjects, %s certificates with %s item codes, %s rapid "
	       "tests, %s patrols, %s quarantine certificates (the last %d days)\n",
	       ac_db_field(res, 0, "subjects"), ac_db_field(res, 0, "certificates"),
	       ac_db_field(res, 0, "item_codes"), ac_db_field(res, 0, "rapid_tests"),
	       ac_db_field(res, 0, "patrols"), ac_db_field(res, 0, "quarantine_certificates"),
	       DEMO_DAYS);
}

/* Whether the database may take the demo: 0 yes, 1 loaded already, -1 no (said why). */
static int demo_allowed(ac_dbsync *db, char *err, size_t errsz)
{
	ac_db_result *res = NULL;
	const char *foreign;
	int rc = -1;

	if (ac_dbsync_exec(db, "SELECT * FROM demo_state()", 0, NULL, &res, err, errsz) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		goto out;
	}
	foreign = ac_db_field(res, 0, "foreign_data");
	if (ac_db_bool(res, 0, ac_db_col(res, "loaded"))) {
		printf("the demo data is loaded already\n");
		rc = 1;
	} else if (foreign != NULL) {
		fprintf(stderr,
			"agricert: the database holds %s that are not demo data; the demo is "
			"loaded only into a database without other activity\n",
			foreign);
	} else {
		rc = 0;
	}
out:
	ac_db_result_free(res);
	return rc;
}

/* Plans, signs and stores the demo in db's transaction. Returns 0, or 1 after a message. */
static int demo_write(ac_dbsync *db, const ac_keyring_entry *signer)
{
	ac_db_result *plan = NULL;
	ac_db_result *res = NULL;
	const char *days[1] = { "30" };
	ac_buf a[NARRAYS];
	ac_db_call call;
	char err[512] = "out of memory";
	int rc = 1;

	ac_db_arrays_open(a, NARRAYS);
	/* The demo's month has scans and receipts of last month too: its
	 * partitions, not the default one (sql/0028). */
	if (ac_dbsync_exec(db,
			   "SELECT count(*) FROM partitions_ensure(p_since => current_date - 31)",
			   0, NULL, NULL, err, sizeof(err)) != 0 ||
	    ac_dbsync_exec(db, "SELECT demo_registry()", 0, NULL, NULL, err, sizeof(err)) != 0 ||
	    ac_dbsync_exec(db, "SELECT * FROM demo_certificate_plan($1::integer)", 1, days, &plan,
			   err, sizeof(err)) != 0 ||
	    sign_plan(db, plan, signer, a, err, sizeof(err)) != 0)
		goto fail;
	ac_db_call_init(&call, "demo_store");
	ac_db_arg_int(&call, "p_days", "integer", DEMO_DAYS);
	ac_db_arg_int(&call, "p_kid", "integer", signer->kid);
	if (ac_db_arrays_args(&call, arrays, a, NARRAYS) != 0 ||
	    ac_cli_call(db, &call, &res, err, sizeof(err)) != 0 ||
	    ac_cli_run(db, "COMMIT", err, sizeof(err)) != 0)
		goto fail;
	report_demo(res);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "agricert: could not load the demo data: %s\n", err);
out:
	ac_db_arrays_free(a, NARRAYS);
	ac_db_result_free(plan);
	ac_db_result_free(res);
	return rc;
}

int ac_cli_demo_load(const ac_config *cfg)
{
	ac_keyring *ring = NULL;
	ac_dbsync *db = NULL;
	char err[1024];
	int rc = 1;
	int allowed;

	if (ac_keyring_load(cfg->keys_dir, cfg->signing_kid, &ring, err, sizeof(err)) != 0 ||
	    ring->signer == NULL) {
		fprintf(stderr, "agricert: could not load the signing key: %s\n",
			ring == NULL ? err : "no key may sign (agricert key new)");
		goto out;
	}
	db = open_as_user(cfg->db);
	if (db == NULL)
		goto out;
	if (ac_cli_run(db, "BEGIN", err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		goto out;
	}
	allowed = demo_allowed(db, err, sizeof(err));
	if (allowed != 0) {
		rc = allowed > 0 ? 0 : 1;
		goto out;
	}
	rc = demo_write(db, ring->signer);
out:
	/* Without a COMMIT, closing the connection rolls back. */
	ac_dbsync_close(db);
	ac_keyring_free(ring);
	return rc;
}
