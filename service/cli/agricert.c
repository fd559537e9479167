/*
 * agricert: the admin command line. Uses the same configuration as agricertd
 * (so, run from the project directory after deploy/run-local, it finds the
 * local database without flags). Blocking libpq: never part of the service.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ac_cli_audit.h"
#include "ac_cli_registry.h"
#include "ac_code.h"
#include "ac_config.h"
#include "ac_dbsync.h"
#include "ac_error.h"
#include "ac_keys.h"
#include "ac_log.h"
#include "ac_secret.h"
#include "ac_sign.h"
#include "ac_trust.h"

static ac_config cfg;

static int usage(void)
{
	fprintf(stderr,
		"usage: agricert [-c CONFIG] COMMAND\n"
		"  migrate                          apply sql/ migrations\n"
		"  key new [--alg ed25519|sm2] [--bundle]  create a code signing key (or, with\n"
		"                                   --bundle, a trust bundle signing key)\n"
		"  key list                         list keys and their status\n"
		"  key activate|retire|revoke KID   change a key's status\n"
		"  import products|regions FILE.csv import a catalogue (all rows or none)\n"
		"  import subjects FILE.csv         import registry subjects (all rows or none)\n"
		"  import quotas YEAR FILE.csv      rapid-test quotas per township\n"
		"  export subjects|regions|products write CSV to standard output\n"
		"  subject add KIND NAME CONTACT REGION_CODE   register a subject; prints its id\n"
		"  token create SUBJECT_ID ROLE     create an access token; prints it once\n"
		"  account add phone_pin|password SUBJECT_ID ROLE LOGIN [SECRET|-]\n"
		"                                   an account (SECRET from stdin if - or absent)\n"
		"  kiosk token KIOSK_ID SUBJECT_ID  a kiosk device token (SUBJECT: who runs it)\n"
		"  trust export [FILE]              write a signed trust bundle (default stdout)\n"
		"  trust key                        print the bundle key's public half (PEM)\n"
		"  audit verify                     check the audit log's hash chain\n"
		"  audit log [N]                    print the last N audit entries (default 20)\n"
		"  purge receipts [--dry-run]       delete receipts older than retention_months\n");
	return 2;
}

static int open_db(ac_dbsync **db)
{
	char err[512];

	if (ac_dbsync_open(cfg.db, db, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		return 1;
	}
	return 0;
}

static int cmd_migrate(void)
{
	char err[1024];

	if (ac_migrate(cfg.db_owner, cfg.sql_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not migrate: %s\n", err);
		return 1;
	}
	printf("database is up to date\n");
	return 0;
}

/* Key files change outside the database: the CLI appends their audit entry. */
static int audit_key(const char *action, int kid, const char *before, const char *after)
{
	char object[32];

	/* "key.status" concerns "key:<kid>", "bundle_key.new" "bundle_key:<kid>". */
	snprintf(object, sizeof(object), "%.*s:%d", (int)strcspn(action, "."), action, kid);
	return ac_cli_audit_append(cfg.db, action, object, before, after);
}

static int cmd_key(int argc, char **argv)
{
	char err[1024];
	ac_keyring *ring = NULL;
	int kid;

	if (argc >= 1 && strcmp(argv[0], "new") == 0) {
		int alg = AC_ALG_ED25519;
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s", cfg.keys_dir);
		for (int i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--bundle") == 0) {
				ac_trust_key_dir(cfg.keys_dir, dir, sizeof(dir));
				if (mkdir(cfg.keys_dir, 0700) != 0 && errno != EEXIST) {
					fprintf(stderr, "agricert: could not create \"%s\": %s\n",
						cfg.keys_dir, strerror(errno));
					return 1;
				}
			} else if (strcmp(argv[i], "--alg") == 0 && i + 1 < argc) {
				i++;
				if (strcmp(argv[i], "sm2") == 0)
					alg = AC_ALG_SM2;
				else if (strcmp(argv[i], "ed25519") != 0)
					return usage();
			} else {
				return usage();
			}
		}
		if (ac_keyring_create(dir, alg, &kid, err, sizeof(err)) != 0) {
			fprintf(stderr, "agricert: %s\n", err);
			return 1;
		}
		printf("%d\n", kid);
		return audit_key(
		    strcmp(dir, cfg.keys_dir) == 0 ? "key.new" : "bundle_key.new", kid, NULL,
		    alg == AC_ALG_SM2 ? "{\"alg\": \"sm2\"}" : "{\"alg\": \"ed25519\"}");
	}
	if (argc == 1 && strcmp(argv[0], "list") == 0) {
		if (ac_keyring_load(cfg.keys_dir, cfg.signing_kid, &ring, err, sizeof(err)) != 0) {
			fprintf(stderr, "agricert: %s\n", err);
			return 1;
		}
		printf("%-6s %-8s %-8s %-8s %s\n", "kid", "alg", "status", "private", "signing");
		for (int i = 0; i < ring->n; i++) {
			const ac_keyring_entry *e = &ring->entries[i];

			printf("%-6d %-8s %-8s %-8s %s\n", e->kid,
			       ac_key_alg(e->key) == AC_ALG_SM2 ? "sm2" : "ed25519",
			       ac_key_status_name(e->status),
			       ac_key_has_private(e->key) ? "yes" : "no",
			       e == ring->signer ? "yes" : "");
		}
		ac_keyring_free(ring);
		return 0;
	}
	if (argc == 2) {
		char before[64] = "";
		char after[64];
		int status = strcmp(argv[0], "activate") == 0 ? AC_KEY_ACTIVE
			     : strcmp(argv[0], "retire") == 0 ? AC_KEY_RETIRED
			     : strcmp(argv[0], "revoke") == 0 ? AC_KEY_REVOKED
							      : 0;

		kid = atoi(argv[1]);
		if (status == 0 || kid < 1 || kid > 65535)
			return usage();
		if (ac_keyring_load(cfg.keys_dir, 0, &ring, err, sizeof(err)) == 0 &&
		    ac_keyring_find(ring, kid) != NULL)
			snprintf(before, sizeof(before), "{\"status\": \"%s\"}",
				 ac_key_status_name(ac_keyring_find(ring, kid)->status));
		ac_keyring_free(ring);
		if (ac_keyring_set_status(cfg.keys_dir, kid, status, err, sizeof(err)) != 0) {
			fprintf(stderr, "agricert: %s\n", err);
			return 1;
		}
		printf("key %d is now %s\n", kid, ac_key_status_name(status));
		snprintf(after, sizeof(after), "{\"status\": \"%s\"}", ac_key_status_name(status));
		return audit_key("key.status", kid, before[0] ? before : NULL, after);
	}
	return usage();
}

/* Splits a CSV line in place (no quoted fields). Returns the field count. */
static int split_csv(char *line, char **fields, int max)
{
	int n = 0;
	char *p = line;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		char *comma = strchr(p, ',');

		fields[n++] = p;
		if (comma == NULL)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	return n;
}

static const char *default_unit(const char *category)
{
	if (strcmp(category, "畜禽") == 0)
		return "head";
	return "kg";
}

/*
 * Rapid-test quotas of one year: seq,unit,total,pesticide_colloidal_gold,
 * pesticide_enzyme_inhibition,veterinary (the Anxi annex 4 layout), townships
 * by name; the county's own line (县级) is skipped. All rows or none.
 */
static int import_quotas(const char *year, const char *path)
{
	ac_dbsync *db = NULL;
	char line[1024];
	char err[512];
	int lineno = 0;
	int rows = 0;
	int bad = 0;
	FILE *f;

	if (atoi(year) < 2000 || atoi(year) > 2100)
		return usage();
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "agricert: could not open file \"%s\": %s\n", path,
			strerror(errno));
		return 1;
	}
	if (open_db(&db) != 0 ||
	    ac_dbsync_exec(db, "BEGIN", 0, NULL, NULL, err, sizeof(err)) != 0) {
		bad = 1;
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fld[8];
		const char *v[6];
		ac_db_result *res = NULL;
		int n;

		lineno++;
		n = split_csv(line, fld, 8);
		if (lineno == 1 || n < 6 || strcmp(fld[1], "县级") == 0)
			continue;
		v[0] = fld[1];
		v[1] = year;
		v[2] = fld[2];
		v[3] = fld[3];
		v[4] = fld[4];
		v[5] = fld[5];
		if (ac_dbsync_exec(
			db,
			"INSERT INTO rapid_test_quota (region_code, year, total, "
			"colloidal_gold, enzyme_inhibition, veterinary) SELECT code, $2::int, "
			"$3::int, $4::int, $5::int, $6::int FROM region WHERE name = $1 AND "
			"level = 4 ON CONFLICT (region_code, year) DO UPDATE SET total = "
			"EXCLUDED.total, colloidal_gold = EXCLUDED.colloidal_gold, "
			"enzyme_inhibition = EXCLUDED.enzyme_inhibition, veterinary = "
			"EXCLUDED.veterinary RETURNING region_code",
			6, v, &res, err, sizeof(err)) != 0 ||
		    ac_db_rows(res) != 1) {
			fprintf(stderr, "line %d: rejected: %s\n", lineno,
				err[0] ? err : "no township of that name");
			bad++;
			err[0] = '\0';
			ac_db_result_free(res);
			ac_dbsync_exec(db, "ROLLBACK", 0, NULL, NULL, err, sizeof(err));
			break;
		}
		ac_db_result_free(res);
		rows++;
	}
	if (bad == 0 && ac_dbsync_exec(db, "COMMIT", 0, NULL, NULL, err, sizeof(err)) == 0)
		printf("imported %d quotas for %s\n", rows, year);
	else if (bad != 0)
		fprintf(stderr, "agricert: nothing imported\n");
out:
	fclose(f);
	ac_dbsync_close(db);
	return bad ? 1 : 0;
}

static int cmd_import(int argc, char **argv)
{
	int products;
	ac_dbsync *db = NULL;
	char line[2048];
	char err[512];
	int rejected = 0;
	int rows = 0;
	int lineno = 0;
	FILE *f;
	int rc = 1;

	if (argc == 2 && strcmp(argv[0], "subjects") == 0)
		return ac_cli_import_subjects(cfg.db, argv[1]);
	if (argc == 3 && strcmp(argv[0], "quotas") == 0)
		return import_quotas(argv[1], argv[2]);
	if (argc != 2 || (strcmp(argv[0], "products") != 0 && strcmp(argv[0], "regions") != 0))
		return usage();
	products = strcmp(argv[0], "products") == 0;
	f = fopen(argv[1], "r");
	if (f == NULL) {
		fprintf(stderr, "agricert: could not open file \"%s\": %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	if (open_db(&db) != 0)
		goto out;
	if (ac_dbsync_exec(db, "BEGIN", 0, NULL, NULL, err, sizeof(err)) != 0)
		goto dberr;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fld[8];
		int n;

		lineno++;
		n = split_csv(line, fld, 8);
		if (lineno == 1 || (n == 1 && fld[0][0] == '\0'))
			continue; /* header or blank */
		if (products) {
			/* name,category,key_risk[,source] */
			const char *v[4];

			if (n < 3 || fld[0][0] == '\0' || fld[1][0] == '\0') {
				fprintf(stderr,
					"line %d: rejected: expected name,category,key_risk\n",
					lineno);
				rejected++;
				continue;
			}
			v[0] = fld[0];
			v[1] = fld[1];
			v[2] = strcmp(fld[2], "yes") == 0 ? "true" : "false";
			v[3] = default_unit(fld[1]);
			if (ac_dbsync_exec(
				db,
				"INSERT INTO product (id, name, category, key_risk, "
				"default_unit) SELECT coalesce(max(id), 0) + 1, $1, $2, "
				"$3::boolean, $4 FROM product ON CONFLICT (name) DO UPDATE "
				"SET category = EXCLUDED.category, key_risk = "
				"EXCLUDED.key_risk",
				4, v, NULL, err, sizeof(err)) != 0) {
				fprintf(stderr, "line %d: rejected: %s\n", lineno, err);
				rejected++;
				break;
			}
		} else {
			/* code,name,level,parent */
			const char *v[4];

			if (n < 3 || strlen(fld[0]) != 12 || strspn(fld[0], "0123456789") != 12) {
				fprintf(stderr,
					"line %d: rejected: expected a 12-digit code,name,level,"
					"parent\n",
					lineno);
				rejected++;
				continue;
			}
			v[0] = fld[0];
			v[1] = fld[1];
			v[2] = fld[2];
			v[3] = n > 3 && fld[3][0] != '\0' ? fld[3] : NULL;
			if (ac_dbsync_exec(db,
					   "INSERT INTO region (code, name, level, parent) VALUES "
					   "($1::bigint, $2, $3::smallint, $4::bigint) ON CONFLICT "
					   "(code) DO UPDATE SET name = EXCLUDED.name, level = "
					   "EXCLUDED.level, parent = EXCLUDED.parent",
					   4, v, NULL, err, sizeof(err)) != 0) {
				fprintf(stderr, "line %d: rejected: %s\n", lineno, err);
				rejected++;
				break;
			}
		}
		rows++;
	}
	if (rejected > 0) {
		ac_dbsync_exec(db, "ROLLBACK", 0, NULL, NULL, err, sizeof(err));
		fprintf(stderr, "agricert: %d rows rejected; nothing imported\n", rejected);
		goto out;
	}
	if (ac_dbsync_exec(db, "COMMIT", 0, NULL, NULL, err, sizeof(err)) != 0)
		goto dberr;
	printf("imported %d %s\n", rows, argv[0]);
	rc = 0;
	goto out;
dberr:
	fprintf(stderr, "agricert: %s\n", err);
out:
	fclose(f);
	ac_dbsync_close(db);
	return rc;
}

static int cmd_subject(int argc, char **argv)
{
	ac_db_result *res = NULL;
	ac_dbsync *db = NULL;
	char err[512];
	int rc = 1;

	if (argc != 5 || strcmp(argv[0], "add") != 0)
		return usage();
	if (open_db(&db) != 0)
		return 1;
	if (ac_dbsync_exec(db,
			   "INSERT INTO subject (kind, name, contact, region_code) VALUES ($1, $2, "
			   "$3, $4::bigint) RETURNING id",
			   4, (const char *const *)argv + 1, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not add subject: %s\n", err);
		goto out;
	}
	printf("%s\n", ac_db_get(res, 0, 0));
	rc = 0;
out:
	ac_db_result_free(res);
	ac_dbsync_close(db);
	return rc;
}

/* Creates a token for subject (role, kiosk or NULL) and prints it once. */
static int create_token(const char *subject, const char *role, const char *label, const char *kiosk)
{
	char token[AC_SECRET_TOKEN_SIZE];
	const char *v[5];
	ac_dbsync *db = NULL;
	char err[512];
	int rc = 1;

	if (ac_secret_token(token, sizeof(token)) != 0) {
		fprintf(stderr, "agricert: could not read random bytes\n");
		return 1;
	}
	if (open_db(&db) != 0)
		goto out;
	v[0] = token;
	v[1] = subject;
	v[2] = role;
	v[3] = label;
	v[4] = kiosk;
	if (ac_dbsync_exec(db,
			   "INSERT INTO api_token (token_hash, subject_id, role, label, kiosk_id) "
			   "VALUES (sha256(convert_to($1, 'UTF8')), $2::int, $3, $4, $5)",
			   5, v, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not create token: %s\n", err);
		goto out;
	}
	printf("%s\n", token);
	rc = 0;
out:
	explicit_bzero(token, sizeof(token));
	ac_dbsync_close(db);
	return rc;
}

static int cmd_audit(int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "verify") == 0)
		return ac_cli_audit_verify(cfg.db, stdout);
	if ((argc == 1 || argc == 2) && strcmp(argv[0], "log") == 0)
		return ac_cli_audit_show(cfg.db, argc == 2 ? atoi(argv[1]) : 20, stdout);
	return usage();
}

/*
 * Deletes the receipts received more than retention_months ago (or, with
 * --dry-run, counts them), as the schema owner: the service's role may not
 * delete receipts, and sql/0011_retention.sql refuses any younger than the
 * legal 6 months whoever asks. One statement, so all or none; the audit
 * triggers log it as one receipt.delete entry attributed to cli:<login>.
 * certificate_input references certificates, not receipts: the chain stays.
 */
static int cmd_purge(int argc, char **argv)
{
	static const char count_sql[] =
	    "SELECT count(*), to_char(now() - make_interval(months => $1::int), "
	    "'YYYY-MM-DD HH24:MI:SSOF') FROM receipt WHERE received_at < now() - "
	    "make_interval(months => $1::int)";
	static const char delete_sql[] =
	    "WITH d AS (DELETE FROM receipt WHERE received_at < now() - make_interval(months "
	    "=> $1::int) RETURNING 1) SELECT count(*), to_char(now() - make_interval(months "
	    "=> $1::int), 'YYYY-MM-DD HH24:MI:SSOF') FROM d";
	struct passwd *pw = getpwuid(geteuid());
	ac_db_result *res = NULL;
	ac_dbsync *db = NULL;
	char months[16];
	char actor[300];
	const char *v[1];
	char err[512];
	int dry_run = 0;
	int rc = 1;

	if (argc < 1 || argc > 2 || strcmp(argv[0], "receipts") != 0)
		return usage();
	if (argc == 2 && strcmp(argv[1], "--dry-run") != 0)
		return usage();
	dry_run = argc == 2;
	if (pw != NULL)
		snprintf(actor, sizeof(actor), "cli:%s", pw->pw_name);
	else
		snprintf(actor, sizeof(actor), "cli:uid %u", (unsigned)geteuid());
	snprintf(months, sizeof(months), "%d", cfg.retention_months);
	if (ac_dbsync_open(cfg.db_owner, &db, err, sizeof(err)) != 0)
		goto dberr;
	v[0] = actor;
	if (ac_dbsync_exec(db, "SELECT set_config('agricert.actor', $1, false)", 1, v, NULL, err,
			   sizeof(err)) != 0)
		goto dberr;
	v[0] = months;
	if (ac_dbsync_exec(db, dry_run ? count_sql : delete_sql, 1, v, &res, err, sizeof(err)) != 0)
		goto dberr;
	if (dry_run) {
		printf("would purge %s receipts received before %s (retention_months %d); "
		       "dry run, nothing deleted\n",
		       ac_db_get(res, 0, 0), ac_db_get(res, 0, 1), cfg.retention_months);
		printf("将删除%s条超过保存期限（%d个月）的收取记录（试运行，未删除）\n",
		       ac_db_get(res, 0, 0), cfg.retention_months);
	} else {
		printf("purged %s receipts received before %s (retention_months %d)\n",
		       ac_db_get(res, 0, 0), ac_db_get(res, 0, 1), cfg.retention_months);
		printf("已删除%s条超过保存期限（%d个月）的收取记录\n", ac_db_get(res, 0, 0),
		       cfg.retention_months);
	}
	rc = 0;
	goto out;
dberr:
	fprintf(stderr, "agricert: could not purge receipts: %s\n", err);
out:
	ac_db_result_free(res);
	ac_dbsync_close(db);
	return rc;
}

static int cmd_token(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[0], "create") != 0)
		return usage();
	return create_token(argv[1], argv[2], NULL, NULL);
}

static int cmd_account(int argc, char **argv)
{
	char secret[136];
	char hash[AC_SECRET_HASH_MAX];
	const char *v[5];
	ac_dbsync *db = NULL;
	char err[512];
	int rc = 1;

	if (argc < 5 || argc > 6 || strcmp(argv[0], "add") != 0 ||
	    (strcmp(argv[1], "phone_pin") != 0 && strcmp(argv[1], "password") != 0))
		return usage();
	if (argc == 6 && strcmp(argv[5], "-") != 0) {
		snprintf(secret, sizeof(secret), "%s", argv[5]);
	} else if (fgets(secret, sizeof(secret), stdin) == NULL) {
		fprintf(stderr, "agricert: no secret on standard input\n");
		return 1;
	}
	secret[strcspn(secret, "\r\n")] = '\0';
	if (strcmp(argv[1], "phone_pin") == 0 &&
	    (strlen(secret) != 6 || strspn(secret, "0123456789") != 6)) {
		fprintf(stderr, "agricert: a PIN has 6 digits\n");
		goto out;
	}
	if (strcmp(argv[1], "password") == 0 && strlen(secret) < 10) {
		fprintf(stderr, "agricert: a staff password has at least 10 characters\n");
		goto out;
	}
	if (ac_secret_hash(secret, hash, sizeof(hash)) != 0) {
		fprintf(stderr, "agricert: could not hash the secret\n");
		goto out;
	}
	if (open_db(&db) != 0)
		goto out;
	v[0] = argv[2];
	v[1] = argv[1];
	v[2] = argv[4];
	v[3] = hash;
	v[4] = argv[3];
	if (ac_dbsync_exec(
		db,
		"INSERT INTO account (subject_id, kind, login, secret_hash, role) VALUES "
		"($1::int, $2, $3, $4, $5) ON CONFLICT (login) DO UPDATE SET "
		"secret_hash = EXCLUDED.secret_hash, failed_attempts = 0, "
		"locked_until = NULL RETURNING id",
		5, v, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not add account: %s\n", err);
		goto out;
	}
	printf("account %s for subject %s (%s)\n", argv[4], argv[2], argv[3]);
	rc = 0;
out:
	explicit_bzero(secret, sizeof(secret));
	ac_dbsync_close(db);
	return rc;
}

static int cmd_kiosk(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[0], "token") != 0)
		return usage();
	return create_token(argv[2], "kiosk", "device", argv[1]);
}

static int cmd_trust(int argc, char **argv)
{
	ac_keyring *codes = NULL;
	ac_keyring *bundle = NULL;
	ac_db_result *res = NULL;
	ac_dbsync *db = NULL;
	char dir[4096];
	char err[1024];
	char *text = NULL;
	size_t len = 0;
	FILE *out = stdout;
	int rc = 1;

	if (argc < 1 || argc > 2 || (strcmp(argv[0], "export") != 0 && strcmp(argv[0], "key") != 0))
		return usage();
	ac_trust_key_dir(cfg.keys_dir, dir, sizeof(dir));
	if (ac_keyring_load(dir, 0, &bundle, err, sizeof(err)) != 0 || bundle->signer == NULL) {
		fprintf(stderr,
			"agricert: no trust bundle key (create one with agricert key new "
			"--bundle): %s\n",
			err[0] ? err : "none active");
		goto out;
	}
	if (strcmp(argv[0], "key") == 0) {
		printf("# bundle key %d\n%s", bundle->signer->kid, bundle->signer->public_pem);
		rc = 0;
		goto out;
	}
	if (ac_keyring_load(cfg.keys_dir, cfg.signing_kid, &codes, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		goto out;
	}
	if (open_db(&db) != 0)
		goto out;
	if (ac_dbsync_exec(db, ac_trust_sql, 0, NULL, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not read the catalogue: %s\n", err);
		goto out;
	}
	if (ac_trust_make(codes, bundle->signer, strtoull(ac_db_get(res, 0, 0), NULL, 10),
			  cfg.region, ac_db_get(res, 0, 1), ac_db_get(res, 0, 2),
			  ac_db_get(res, 0, 3), ac_db_get(res, 0, 4), &text, &len, err,
			  sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		goto out;
	}
	if (argc == 2 && (out = fopen(argv[1], "w")) == NULL) {
		fprintf(stderr, "agricert: could not open file \"%s\": %s\n", argv[1],
			strerror(errno));
		goto out;
	}
	if (fwrite(text, 1, len, out) != len || fflush(out) != 0) {
		fprintf(stderr, "agricert: could not write the bundle: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (out != stdout && out != NULL)
		fclose(out);
	free(text);
	ac_db_result_free(res);
	ac_dbsync_close(db);
	ac_keyring_free(codes);
	ac_keyring_free(bundle);
	return rc;
}

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	char err[1024];
	int rc;

	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		config_path = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2)
		return usage();
	ac_log_set_level(AC_LOG_WARN);
	if (ac_config_load(&cfg, config_path, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not load configuration: %s\n", err);
		return 1;
	}
	if (strcmp(argv[1], "migrate") == 0)
		rc = cmd_migrate();
	else if (strcmp(argv[1], "key") == 0)
		rc = cmd_key(argc - 2, argv + 2);
	else if (strcmp(argv[1], "import") == 0)
		rc = cmd_import(argc - 2, argv + 2);
	else if (strcmp(argv[1], "subject") == 0)
		rc = cmd_subject(argc - 2, argv + 2);
	else if (strcmp(argv[1], "token") == 0)
		rc = cmd_token(argc - 2, argv + 2);
	else if (strcmp(argv[1], "export") == 0)
		rc = argc == 3 ? ac_cli_export(cfg.db, argv[2], stdout) : usage();
	else if (strcmp(argv[1], "account") == 0)
		rc = cmd_account(argc - 2, argv + 2);
	else if (strcmp(argv[1], "kiosk") == 0)
		rc = cmd_kiosk(argc - 2, argv + 2);
	else if (strcmp(argv[1], "trust") == 0)
		rc = cmd_trust(argc - 2, argv + 2);
	else if (strcmp(argv[1], "audit") == 0)
		rc = cmd_audit(argc - 2, argv + 2);
	else if (strcmp(argv[1], "purge") == 0)
		rc = cmd_purge(argc - 2, argv + 2);
	else
		rc = usage();
	ac_config_free(&cfg);
	return rc;
}
