/*
 * agricert: the admin command line. Uses the same configuration as agricertd
 * (so, run from the project directory after deploy/run-local, it finds the
 * local database without flags). Blocking libpq: never part of the service.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ac_cli.h"
#include "ac_cli_anchor.h"
#include "ac_cli_archive.h"
#include "ac_cli_audit.h"
#include "ac_cli_check.h"
#include "ac_cli_registry.h"
#include "ac_cli_supervision.h"
#include "ac_config.h"
#include "ac_keys.h"
#include "ac_log.h"
#include "ac_secret.h"
#include "ac_sign.h"
#include "ac_trust.h"

/* A command: argv holds what follows its name. Returns the exit status. */
typedef int command_fn(const ac_config *cfg, int argc, char **argv);

static void print_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: agricert [-c FILE] COMMAND [ARGS]\n"
	    "       agricert -h|--help | -V|--version\n"
	    "The admin command line of agricertd, with its configuration: -c FILE, else\n"
	    "$AGRICERT_CONFIG, else var/agricert.conf when present, else\n"
	    "%s when present.\n"
	    "AGRICERT_* environment variables override the file (README.md, Configuration).\n"
	    "\n"
	    "  config check                     check the configuration: paths, keys, both\n"
	    "                                   database connections (exit 1 on a problem)\n"
	    "  migrate                          apply sql/ migrations\n"
	    "  key new [--alg ed25519|sm2] [--bundle|--anchor]  create a code signing key\n"
	    "                                   (or a trust bundle / audit anchor signing key)\n"
	    "  key list                         list keys and their status\n"
	    "  key activate|retire|revoke KID   change a key's status\n"
	    "  import products|regions FILE.csv import a catalogue (all rows or none)\n"
	    "  import markets FILE.csv          markets and their stalls (all rows or none)\n"
	    "  import subjects FILE.csv         import registry subjects (all rows or none)\n"
	    "  import quotas YEAR FILE.csv      rapid-test quotas per township\n"
	    "  import targets YEAR FILE.csv     producers, patrols and codes targets per township\n"
	    "  import quarantine FILE.csv       animal quarantine certificates (all rows or none)\n"
	    "  export subjects|regions|products write CSV to standard output\n"
	    "  subject add KIND NAME CONTACT REGION_CODE   register a subject; prints its id\n"
	    "  token create SUBJECT_ID ROLE     create an access token; prints it once\n"
	    "  account add phone_pin|password SUBJECT_ID ROLE LOGIN [SECRET|-]\n"
	    "                                   an account (SECRET from stdin if - or absent)\n"
	    "  kiosk token KIOSK_ID SUBJECT_ID  a kiosk device token (SUBJECT: who runs it)\n"
	    "  trust export [FILE]              write a signed trust bundle (default stdout)\n"
	    "  trust key                        print the bundle key's public half (PEM)\n"
	    "  audit verify [--anchors FILE]    check the audit log's hash chain (and that it\n"
	    "                                   still holds FILE's signed anchors)\n"
	    "  audit verify --archive FILE.csv  check a month of it that agricert archive wrote\n"
	    "  audit anchor FILE                sign the verified head, append it to FILE\n"
	    "  audit log [N]                    print the last N audit entries (default 20)\n"
	    "  purge receipts [--dry-run]       delete receipts older than retention_months\n"
	    "  archive [--dry-run] DIR          detach the months of the scan log, receipts and\n"
	    "                                   audit log past their legal minimum, write each\n"
	    "                                   to DIR/NAME.csv, then drop it\n"
	    "  demo load                        a month of demo data (empty databases only)\n",
	    AC_DEFAULT_CONFIG);
}

static int usage(void)
{
	print_usage(stderr);
	return 2;
}

/* config check */
static int cmd_config(const ac_config *cfg, int argc, char **argv)
{
	if (argc != 1 || strcmp(argv[0], "check") != 0)
		return usage();
	return ac_cli_config_check(cfg, stdout);
}

static int cmd_migrate(const ac_config *cfg, int argc, char **argv)
{
	char err[1024];

	(void)argc;
	(void)argv;
	if (ac_migrate(cfg->db_owner, cfg->sql_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not migrate: %s\n", err);
		return 1;
	}
	printf("database is up to date\n");
	return 0;
}

/* Key files change outside the database: the CLI appends their audit entry. */
static int audit_key(const ac_config *cfg, const char *action, int kid, const char *before,
		     const char *after)
{
	char object[32];

	/* "key.status" concerns "key:<kid>", "bundle_key.new" "bundle_key:<kid>". */
	snprintf(object, sizeof(object), "%.*s:%d", (int)strcspn(action, "."), action, kid);
	return ac_cli_audit_append(cfg->db, action, object, before, after);
}

/* The audit action of a new key in dir. */
static const char *key_new_action(const ac_config *cfg, const char *dir)
{
	char anchor[4096];

	ac_cli_anchor_key_dir(cfg->keys_dir, anchor, sizeof(anchor));
	if (strcmp(dir, cfg->keys_dir) == 0)
		return "key.new";
	return strcmp(dir, anchor) == 0 ? "anchor_key.new" : "bundle_key.new";
}

/* key new [--alg ed25519|sm2] [--bundle|--anchor] */
static int key_new(const ac_config *cfg, int argc, char **argv)
{
	int alg = AC_ALG_ED25519;
	char dir[4096];
	char err[1024];
	int kid;

	snprintf(dir, sizeof(dir), "%s", cfg->keys_dir);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--bundle") == 0 || strcmp(argv[i], "--anchor") == 0) {
			if (strcmp(argv[i], "--bundle") == 0)
				ac_trust_key_dir(cfg->keys_dir, dir, sizeof(dir));
			else
				ac_cli_anchor_key_dir(cfg->keys_dir, dir, sizeof(dir));
			if (mkdir(cfg->keys_dir, 0700) != 0 && errno != EEXIST) {
				fprintf(stderr, "agricert: could not create \"%s\": %s\n",
					cfg->keys_dir, strerror(errno));
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
	return audit_key(cfg, key_new_action(cfg, dir), kid, NULL,
			 alg == AC_ALG_SM2 ? "{\"alg\": \"sm2\"}" : "{\"alg\": \"ed25519\"}");
}

/* key list */
static int key_list(const ac_config *cfg)
{
	ac_keyring *ring = NULL;
	char err[1024];

	if (ac_keyring_load(cfg->keys_dir, cfg->signing_kid, &ring, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		return 1;
	}
	printf("%-6s %-8s %-8s %-8s %s\n", "kid", "alg", "status", "private", "signing");
	for (int i = 0; i < ring->n; i++) {
		const ac_keyring_entry *e = &ring->entries[i];

		printf("%-6d %-8s %-8s %-8s %s\n", e->kid,
		       ac_key_alg(e->key) == AC_ALG_SM2 ? "sm2" : "ed25519",
		       ac_key_status_name(e->status), ac_key_has_private(e->key) ? "yes" : "no",
		       e == ring->signer ? "yes" : "");
	}
	ac_keyring_free(ring);
	return 0;
}

/* key activate|retire|revoke KID */
static int key_status(const ac_config *cfg, const char *verb, const char *kid_s)
{
	static const struct {
		const char *verb;
		int status;
	} verbs[] = {
		{ "activate", AC_KEY_ACTIVE },
		{ "retire", AC_KEY_RETIRED },
		{ "revoke", AC_KEY_REVOKED },
	};
	ac_keyring *ring = NULL;
	char before[64] = "";
	char after[64];
	char err[1024];
	int kid = atoi(kid_s);
	int status = 0;

	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(verb, verbs[i].verb) == 0)
			status = verbs[i].status;
	}
	if (status == 0 || kid < 1 || kid > 65535)
		return usage();
	if (ac_keyring_load(cfg->keys_dir, 0, &ring, err, sizeof(err)) == 0 &&
	    ac_keyring_find(ring, kid) != NULL)
		snprintf(before, sizeof(before), "{\"status\": \"%s\"}",
			 ac_key_status_name(ac_keyring_find(ring, kid)->status));
	ac_keyring_free(ring);
	if (ac_keyring_set_status(cfg->keys_dir, kid, status, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		return 1;
	}
	printf("key %d is now %s\n", kid, ac_key_status_name(status));
	snprintf(after, sizeof(after), "{\"status\": \"%s\"}", ac_key_status_name(status));
	return audit_key(cfg, "key.status", kid, before[0] ? before : NULL, after);
}

static int cmd_key(const ac_config *cfg, int argc, char **argv)
{
	if (argc >= 1 && strcmp(argv[0], "new") == 0)
		return key_new(cfg, argc, argv);
	if (argc == 1 && strcmp(argv[0], "list") == 0)
		return key_list(cfg);
	if (argc == 2)
		return key_status(cfg, argv[0], argv[1]);
	return usage();
}

static int cmd_import(const ac_config *cfg, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[0], "subjects") == 0)
		return ac_cli_import_subjects(cfg->db, argv[1]);
	if (argc == 3 && (strcmp(argv[0], "quotas") == 0 || strcmp(argv[0], "targets") == 0)) {
		if (atoi(argv[1]) < 2000 || atoi(argv[1]) > 2100)
			return usage();
		if (strcmp(argv[0], "targets") == 0)
			return ac_cli_import_targets(cfg->db, argv[1], argv[2]);
		return ac_cli_import_quotas(cfg->db, argv[1], argv[2]);
	}
	if (argc == 2 && strcmp(argv[0], "quarantine") == 0)
		return ac_cli_import_quarantine(cfg->db, argv[1]);
	if (argc == 2 && (strcmp(argv[0], "products") == 0 || strcmp(argv[0], "regions") == 0 ||
			  strcmp(argv[0], "markets") == 0))
		return ac_cli_import_catalogue(cfg->db, argv[0], argv[1]);
	return usage();
}

static int cmd_export(const ac_config *cfg, int argc, char **argv)
{
	if (argc != 1)
		return usage();
	return ac_cli_export(cfg->db, argv[0], stdout);
}

/* subject add KIND NAME CONTACT REGION_CODE */
static int cmd_subject(const ac_config *cfg, int argc, char **argv)
{
	const char *v[4];
	ac_db_result *res = NULL;
	ac_dbsync *db;
	char err[512];
	int rc = 1;

	if (argc != 5 || strcmp(argv[0], "add") != 0)
		return usage();
	db = ac_cli_open(cfg->db);
	if (db == NULL)
		return 1;
	for (int i = 0; i < 4; i++)
		v[i] = argv[i + 1];
	if (ac_dbsync_exec(db,
			   "INSERT INTO subject (kind, name, contact, region_code) VALUES ($1, $2, "
			   "$3, $4::bigint) RETURNING id",
			   4, v, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not add subject: %s\n", err);
		goto out;
	}
	printf("%s\n", ac_db_field(res, 0, "id"));
	rc = 0;
out:
	ac_db_result_free(res);
	ac_dbsync_close(db);
	return rc;
}

/* Creates a token for subject (role, label and kiosk or NULL) and prints it once. */
static int create_token(const ac_config *cfg, const char *subject, const char *role,
			const char *label, const char *kiosk)
{
	char token[AC_SECRET_TOKEN_SIZE];
	ac_dbsync *db = NULL;
	ac_db_call call;
	char err[512];
	int rc = 1;

	if (ac_secret_token(token, sizeof(token)) != 0) {
		fprintf(stderr, "agricert: could not read random bytes\n");
		return 1;
	}
	db = ac_cli_open(cfg->db);
	if (db == NULL)
		goto out;
	ac_db_call_init(&call, "cli_create_token");
	ac_db_arg(&call, "p_token", "text", token);
	ac_db_arg(&call, "p_subject", "integer", subject);
	ac_db_arg(&call, "p_role", "text", role);
	ac_db_arg(&call, "p_label", "text", label);
	ac_db_arg(&call, "p_kiosk", "text", kiosk);
	if (ac_cli_call(db, &call, NULL, err, sizeof(err)) != 0) {
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

/* token create SUBJECT_ID ROLE */
static int cmd_token(const ac_config *cfg, int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[0], "create") != 0)
		return usage();
	return create_token(cfg, argv[1], argv[2], NULL, NULL);
}

/* kiosk token KIOSK_ID SUBJECT_ID */
static int cmd_kiosk(const ac_config *cfg, int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[0], "token") != 0)
		return usage();
	return create_token(cfg, argv[2], "kiosk", "device", argv[1]);
}

/*
 * An account's secret: arg, or a line of standard input when arg is NULL or
 * "-", checked for its kind. Returns 0, or 1 after a message.
 */
static int read_secret(const char *kind, const char *arg, char *secret, size_t size)
{
	if (arg != NULL && strcmp(arg, "-") != 0) {
		snprintf(secret, size, "%s", arg);
	} else if (fgets(secret, (int)size, stdin) == NULL) {
		fprintf(stderr, "agricert: no secret on standard input\n");
		return 1;
	}
	secret[strcspn(secret, "\r\n")] = '\0';
	if (strcmp(kind, "phone_pin") == 0 &&
	    (strlen(secret) != 6 || strspn(secret, "0123456789") != 6)) {
		fprintf(stderr, "agricert: a PIN has 6 digits\n");
		return 1;
	}
	if (strcmp(kind, "password") == 0 && strlen(secret) < 10) {
		fprintf(stderr, "agricert: a staff password has at least 10 characters\n");
		return 1;
	}
	return 0;
}

/* account add phone_pin|password SUBJECT_ID ROLE LOGIN [SECRET|-] */
static int cmd_account(const ac_config *cfg, int argc, char **argv)
{
	char secret[136] = "";
	char hash[AC_SECRET_HASH_MAX];
	ac_dbsync *db = NULL;
	ac_db_call call;
	char err[512];
	int rc = 1;

	if (argc < 5 || argc > 6 || strcmp(argv[0], "add") != 0 ||
	    (strcmp(argv[1], "phone_pin") != 0 && strcmp(argv[1], "password") != 0))
		return usage();
	if (read_secret(argv[1], argc == 6 ? argv[5] : NULL, secret, sizeof(secret)) != 0)
		goto out;
	if (ac_secret_hash(secret, hash, sizeof(hash)) != 0) {
		fprintf(stderr, "agricert: could not hash the secret\n");
		goto out;
	}
	db = ac_cli_open(cfg->db);
	if (db == NULL)
		goto out;
	ac_db_call_init(&call, "cli_save_account");
	ac_db_arg(&call, "p_subject", "integer", argv[2]);
	ac_db_arg(&call, "p_kind", "text", argv[1]);
	ac_db_arg(&call, "p_login", "text", argv[4]);
	ac_db_arg(&call, "p_secret_hash", "text", hash);
	ac_db_arg(&call, "p_role", "text", argv[3]);
	if (ac_cli_call(db, &call, NULL, err, sizeof(err)) != 0) {
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

/* Writes a new trust bundle signed by signer to path (NULL: stdout). */
static int trust_export(const ac_config *cfg, const ac_keyring_entry *signer, const char *path)
{
	ac_keyring *codes = NULL;
	ac_db_result *res = NULL;
	ac_dbsync *db = NULL;
	char err[1024];
	char *text = NULL;
	size_t len = 0;
	FILE *out = stdout;
	int rc = 1;

	if (ac_keyring_load(cfg->keys_dir, cfg->signing_kid, &codes, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		goto out;
	}
	db = ac_cli_open(cfg->db);
	if (db == NULL)
		goto out;
	if (ac_dbsync_exec(db, ac_trust_sql, 0, NULL, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not read the catalogue: %s\n", err);
		goto out;
	}
	if (ac_trust_make(codes, signer, strtoull(ac_db_field(res, 0, "version"), NULL, 10),
			  cfg->region, ac_db_field(res, 0, "products"),
			  ac_db_field(res, 0, "issuers"), ac_db_field(res, 0, "regions"),
			  ac_db_field(res, 0, "revoked"), &text, &len, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		goto out;
	}
	if (path != NULL)
		out = ac_cli_fopen(path, "w");
	if (out == NULL)
		goto out;
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
	return rc;
}

/* trust export [FILE], trust key */
static int cmd_trust(const ac_config *cfg, int argc, char **argv)
{
	ac_keyring *bundle = NULL;
	char dir[4096];
	char err[1024] = "";
	int rc = 1;

	if (argc < 1 || argc > 2 || (strcmp(argv[0], "export") != 0 && strcmp(argv[0], "key") != 0))
		return usage();
	ac_trust_key_dir(cfg->keys_dir, dir, sizeof(dir));
	if (ac_keyring_load(dir, 0, &bundle, err, sizeof(err)) != 0 || bundle->signer == NULL) {
		fprintf(stderr,
			"agricert: no trust bundle key (create one with agricert key new "
			"--bundle): %s\n",
			err[0] ? err : "none active");
	} else if (strcmp(argv[0], "key") == 0) {
		printf("# bundle key %d\n%s", bundle->signer->kid, bundle->signer->public_pem);
		rc = 0;
	} else {
		rc = trust_export(cfg, bundle->signer, argc == 2 ? argv[1] : NULL);
	}
	ac_keyring_free(bundle);
	return rc;
}

/* audit verify --anchors FILE */
static int audit_verify_anchored(const ac_config *cfg, const char *path)
{
	ac_anchors anchors;
	int rc = ac_cli_anchors_load(path, cfg->keys_dir, 0, &anchors);

	if (rc == 0)
		rc = ac_cli_audit_verify(cfg->db, &anchors, NULL, stdout);
	ac_cli_anchors_free(&anchors);
	return rc;
}

static int cmd_audit(const ac_config *cfg, int argc, char **argv)
{
	if (argc == 1 && strcmp(argv[0], "verify") == 0)
		return ac_cli_audit_verify(cfg->db, NULL, NULL, stdout);
	if (argc == 3 && strcmp(argv[0], "verify") == 0 && strcmp(argv[1], "--anchors") == 0)
		return audit_verify_anchored(cfg, argv[2]);
	if (argc == 3 && strcmp(argv[0], "verify") == 0 && strcmp(argv[1], "--archive") == 0)
		return ac_cli_archive_verify(cfg, argv[2], stdout);
	if (argc == 2 && strcmp(argv[0], "anchor") == 0)
		return ac_cli_audit_anchor(cfg->db, cfg->keys_dir, argv[1], stdout);
	if ((argc == 1 || argc == 2) && strcmp(argv[0], "log") == 0)
		return ac_cli_audit_show(cfg->db, argc == 2 ? atoi(argv[1]) : 20, stdout);
	return usage();
}

static void print_purge(const ac_config *cfg, const ac_db_result *res, int dry_run)
{
	const char *n = ac_db_field(res, 0, "receipts");
	const char *before = ac_db_field(res, 0, "received_before");

	if (dry_run) {
		printf("would purge %s receipts received before %s (retention_months %d); "
		       "dry run, nothing deleted\n",
		       n, before, cfg->retention_months);
		printf("将删除%s条超过保存期限（%d个月）的收取记录（试运行，未删除）\n", n,
		       cfg->retention_months);
	} else {
		printf("purged %s receipts received before %s (retention_months %d)\n", n, before,
		       cfg->retention_months);
		printf("已删除%s条超过保存期限（%d个月）的收取记录\n", n, cfg->retention_months);
	}
}

/*
 * purge receipts [--dry-run]: deletes the receipts received more than
 * retention_months ago (or counts them), as the schema owner: the service's
 * role may not delete receipts, and sql/0011_retention.sql refuses any
 * younger than the legal 6 months whoever asks. One statement, so all or
 * none; the audit triggers log it as one receipt.delete entry attributed to
 * cli:<login>. certificate_input references certificates, not receipts: the
 * chain stays.
 */
static int cmd_purge(const ac_config *cfg, int argc, char **argv)
{
	ac_db_result *res = NULL;
	ac_dbsync *db = NULL;
	ac_db_call call;
	char err[512] = "out of memory";
	int dry_run;
	int rc = 1;

	if (argc < 1 || argc > 2 || strcmp(argv[0], "receipts") != 0 ||
	    (argc == 2 && strcmp(argv[1], "--dry-run") != 0))
		return usage();
	dry_run = argc == 2;
	ac_db_call_init(&call, "cli_purge_receipts");
	ac_db_arg_int(&call, "p_months", "integer", cfg->retention_months);
	ac_db_arg(&call, "p_dry_run", "boolean", dry_run ? "true" : "false");
	if (ac_dbsync_open(cfg->db_owner, &db, err, sizeof(err)) != 0 ||
	    ac_cli_set_actor(db, err, sizeof(err)) != 0 ||
	    ac_cli_call(db, &call, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not purge receipts: %s\n", err);
		goto out;
	}
	print_purge(cfg, res, dry_run);
	rc = 0;
out:
	ac_db_result_free(res);
	ac_dbsync_close(db);
	return rc;
}

/* archive [--dry-run] DIR */
static int cmd_archive(const ac_config *cfg, int argc, char **argv)
{
	int dry_run = argc == 2 && strcmp(argv[0], "--dry-run") == 0;

	if (argc != 1 + dry_run || argv[dry_run][0] == '-')
		return usage();
	return ac_cli_archive(cfg, argv[dry_run], dry_run, stdout);
}

/* demo load */
static int cmd_demo(const ac_config *cfg, int argc, char **argv)
{
	if (argc != 1 || strcmp(argv[0], "load") != 0)
		return usage();
	return ac_cli_demo_load(cfg);
}

static const struct {
	const char *name;
	command_fn *run;
} commands[] = {
	{ "migrate", cmd_migrate }, { "key", cmd_key },	      { "import", cmd_import },
	{ "subject", cmd_subject }, { "token", cmd_token },   { "export", cmd_export },
	{ "account", cmd_account }, { "kiosk", cmd_kiosk },   { "trust", cmd_trust },
	{ "audit", cmd_audit },	    { "purge", cmd_purge },   { "demo", cmd_demo },
	{ "archive", cmd_archive }, { "config", cmd_config },
};

int main(int argc, char **argv)
{
	const char *config_path = NULL;
	command_fn *run = NULL;
	ac_config cfg;
	char err[1024];
	int rc;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		print_usage(stdout);
		return 0;
	}
	if (argc == 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("agricert %s\n", AC_VERSION);
		return 0;
	}
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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			run = commands[i].run;
	}
	rc = run != NULL ? run(&cfg, argc - 2, argv + 2) : usage();
	ac_config_free(&cfg);
	return rc;
}
