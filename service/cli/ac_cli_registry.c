/*
 * agricert import / export: CSV in and out of the registry and the
 * catalogue, with blocking libpq (ac_dbsync). All rows or none.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_check.h"
#include "ac_cli.h"
#include "ac_code.h"
#include "ac_cli_registry.h"

#define NFIELDS	 9
#define MAX_LINE 8192

static const char header[] =
    "kind,name,credit_code,id_number,contact,region_code,address,credit_grade,status";

enum { KIND, NAME, CREDIT, IDNUM, CONTACT, REGION, ADDRESS, GRADE, STATUS };

/* The fields of the header, in its order, as cli_import_subject's arguments. */
static const struct {
	const char *name;
	const char *type;
} subject_args[NFIELDS] = {
	{ "p_kind", "text" },	   { "p_name", "text" },	 { "p_credit_code", "text" },
	{ "p_id_number", "text" }, { "p_contact", "text" },	 { "p_region_code", "bigint" },
	{ "p_address", "text" },   { "p_credit_grade", "text" }, { "p_status", "text" },
};

typedef struct row {
	int line;
	char *f[NFIELDS];
} row;

/* The rows of a subjects file; each row's fields are malloc'd. */
typedef struct rows {
	row *v;
	int n;
} rows;

/*
 * Splits one CSV line in place (RFC 4180 quoting, no line breaks inside
 * fields). Returns the field count, or -1 for a stray or unterminated quote.
 */
static int csv_split(char *line, char **fields, int max)
{
	char *in = line;
	char *out = line;
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	for (;;) {
		char *start = out;

		if (n == max)
			return max + 1;
		if (*in == '"') {
			in++;
			for (;;) {
				if (*in == '\0')
					return -1;
				if (*in == '"' && in[1] == '"') {
					*out++ = '"';
					in += 2;
				} else if (*in == '"') {
					in++;
					break;
				} else {
					*out++ = *in++;
				}
			}
			if (*in != ',' && *in != '\0')
				return -1;
		} else {
			while (*in != ',' && *in != '\0') {
				if (*in == '"')
					return -1;
				*out++ = *in++;
			}
		}
		fields[n++] = start;
		if (*in == '\0') {
			*out = '\0';
			return n;
		}
		in++;
		*out++ = '\0';
	}
}

static void csv_write(FILE *out, const char *const *fields, int n)
{
	for (int i = 0; i < n; i++) {
		const char *s = fields[i] != NULL ? fields[i] : "";
		size_t len = strlen(s);
		int quote = strpbrk(s, ",\"\r\n") != NULL ||
			    (len > 0 && (s[0] == ' ' || s[len - 1] == ' '));

		if (i > 0)
			fputc(',', out);
		if (!quote) {
			fputs(s, out);
			continue;
		}
		fputc('"', out);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', out);
			fputc(*s, out);
		}
		fputc('"', out);
	}
	fputc('\n', out);
}

static int one_of(const char *s, const char *const *values)
{
	for (int i = 0; values[i] != NULL; i++) {
		if (strcmp(values[i], s) == 0)
			return 1;
	}
	return 0;
}

/* Returns NULL when the row is valid, else why not. */
static const char *check_row(ac_dbsync *db, row *r, char *err, size_t errsz)
{
	static const char *const kinds[] = { "enterprise", "cooperative", "family_farm",
					     "household",  "collector",	  "purchaser_individual",
					     NULL };
	static const char *const grades[] = { "A", "B", "C", NULL };
	static const char *const statuses[] = { "active", "suspended", "blacklisted", NULL };
	ac_db_result *res = NULL;
	const char *vals[1];
	int64_t code;
	int chars;
	int found;

	if (!one_of(r->f[KIND], kinds))
		return "kind must be enterprise, cooperative, family_farm, household, collector "
		       "or purchaser_individual";
	chars = ac_check_chars(r->f[NAME]);
	if (chars < 1 || chars > 100)
		return "name is required, 1 to 100 characters";
	if (r->f[CREDIT][0] != '\0' && !ac_check_credit_code(r->f[CREDIT]))
		return "credit_code is not a valid 18-character unified social credit code";
	if (r->f[IDNUM][0] != '\0' && !ac_check_id_number(r->f[IDNUM]))
		return "id_number is not a valid 18-character resident ID number";
	if (r->f[CONTACT][0] != '\0' && !ac_check_contact(r->f[CONTACT]))
		return "contact must be a phone number of at most 20 characters";
	chars = ac_check_chars(r->f[ADDRESS]);
	if (chars < 0 || chars > 200)
		return "address must be at most 200 characters";
	if (r->f[GRADE][0] != '\0' && !one_of(r->f[GRADE], grades))
		return "credit_grade must be A, B or C (or empty for A)";
	if (r->f[STATUS][0] != '\0' && !one_of(r->f[STATUS], statuses))
		return "status must be active, suspended or blacklisted (or empty for active)";
	if (ac_check_region_code(r->f[REGION], &code) != 0)
		return "region_code must be a 12-digit administrative division code";
	vals[0] = r->f[REGION];
	if (ac_dbsync_exec(db, "SELECT 1 FROM region WHERE code = $1::bigint", 1, vals, &res, err,
			   errsz) != 0)
		return err;
	found = ac_db_rows(res) == 1;
	ac_db_result_free(res);
	if (!found)
		return "region_code is not in the region table (agricert import regions first)";
	return NULL;
}

/* Whether rows a and b name the same subject: same credit code, else same name and region. */
static int same_subject(const row *a, const row *b)
{
	if (a->f[CREDIT][0] != '\0' || b->f[CREDIT][0] != '\0')
		return strcmp(a->f[CREDIT], b->f[CREDIT]) == 0;
	return strcmp(a->f[NAME], b->f[NAME]) == 0 && strcmp(a->f[REGION], b->f[REGION]) == 0;
}

/* Opens the file to import and the database. Returns 0, or 1 after a message. */
static int open_input(const char *conninfo, const char *path, ac_dbsync **db, FILE **f)
{
	*db = NULL;
	*f = ac_cli_fopen(path, "r");
	if (*f == NULL)
		return 1;
	*db = ac_cli_open(conninfo);
	if (*db != NULL)
		return 0;
	fclose(*f);
	*f = NULL;
	return 1;
}

/* Writes one row; *created says whether it was new. */
static int write_row(ac_dbsync *db, const row *r, const char *reason, int *created, char *err,
		     size_t errsz)
{
	ac_db_result *res = NULL;
	ac_db_call call;

	ac_db_call_init(&call, "cli_import_subject");
	for (int i = 0; i < NFIELDS; i++)
		ac_db_arg(&call, subject_args[i].name, subject_args[i].type, r->f[i]);
	ac_db_arg(&call, "p_reason", "text", reason);
	if (ac_cli_call(db, &call, &res, err, errsz) != 0)
		return -1;
	*created = ac_db_bool(res, 0, ac_db_col(res, "created"));
	ac_db_result_free(res);
	return 0;
}

static void rows_free(rows *t)
{
	for (int i = 0; i < t->n; i++) {
		for (int j = 0; j < NFIELDS; j++)
			free(t->v[i].f[j]);
	}
	free(t->v);
}

/* Appends line lineno's fields (copied). Returns 0, or -1 when out of memory. */
static int rows_add(rows *t, int lineno, char **fields)
{
	row *grown = realloc(t->v, (size_t)(t->n + 1) * sizeof(*t->v));
	row *r;

	if (grown == NULL)
		return -1;
	t->v = grown;
	r = &t->v[t->n];
	memset(r, 0, sizeof(*r));
	r->line = lineno;
	t->n++;
	for (int i = 0; i < NFIELDS; i++) {
		r->f[i] = strdup(fields[i]);
		if (r->f[i] == NULL)
			return -1;
	}
	return 0;
}

/* Checks the header line (a byte order mark, as spreadsheets write, is allowed). */
static int check_header(char *text)
{
	if (strncmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;
	text[strcspn(text, "\r\n")] = '\0';
	if (strcmp(text, header) == 0)
		return 0;
	fprintf(stderr, "line 1: rejected: the header must be %s\n", header);
	return 1;
}

/*
 * Reads line lineno (of len bytes) after the header into t. Returns 0 (read
 * or blank), 1 (rejected, reported) or -1 (out of memory).
 */
static int read_line(rows *t, char *text, ssize_t len, int lineno)
{
	char *fields[NFIELDS];

	if (text[strspn(text, " \r\n")] == '\0')
		return 0;
	if (len > MAX_LINE) {
		fprintf(stderr, "line %d: rejected: longer than %d bytes\n", lineno, MAX_LINE);
		return 1;
	}
	if (csv_split(text, fields, NFIELDS) != NFIELDS) {
		fprintf(stderr,
			"line %d: rejected: expected %d comma-separated fields (quote fields that "
			"hold commas)\n",
			lineno, NFIELDS);
		return 1;
	}
	return rows_add(t, lineno, fields);
}

/*
 * Reads the whole file into t, reporting the lines that cannot be read.
 * Returns the number of rejected lines, or -1 after a message when out of
 * memory.
 */
static int read_rows(FILE *f, rows *t)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;
	int rejected = 0;
	int r = 0;

	while (r >= 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (lineno == 1)
			r = check_header(line);
		else
			r = read_line(t, line, len, lineno);
		if (r > 0)
			rejected++;
		if (lineno == 1 && r != 0)
			break;
	}
	free(line);
	if (r < 0) {
		fprintf(stderr, "agricert: out of memory\n");
		return -1;
	}
	if (lineno == 0) {
		fprintf(stderr, "line 1: rejected: the file is empty; the header must be %s\n",
			header);
		rejected++;
	}
	return rejected;
}

/* Checks every row, and that no two name the same subject. Returns how many are rejected. */
static int check_rows(ac_dbsync *db, const rows *t)
{
	char err[512];
	char same[64];
	int rejected = 0;

	for (int i = 0; i < t->n; i++) {
		const char *why = check_row(db, &t->v[i], err, sizeof(err));

		for (int j = 0; why == NULL && j < i; j++) {
			if (same_subject(&t->v[i], &t->v[j])) {
				snprintf(same, sizeof(same), "the same subject as line %d",
					 t->v[j].line);
				why = same;
			}
		}
		if (why != NULL) {
			fprintf(stderr, "line %d: rejected: %s\n", t->v[i].line, why);
			rejected++;
		}
	}
	return rejected;
}

/*
 * Every field was checked before: what the database still refuses (a
 * constraint) its message and DETAIL explain. The CONTEXT PostgreSQL adds,
 * cli_import_subject's statement, says nothing more to the operator.
 */
static void cut_context(char *err)
{
	char *context = strstr(err, "\nCONTEXT:  ");

	if (context != NULL)
		*context = '\0';
}

/* Writes every row in one transaction. Returns 0, or 1 after a message. */
static int write_rows(ac_dbsync *db, const rows *t, const char *path)
{
	char *pathcopy = strdup(path);
	char reason[300];
	char err[512];
	int created = 0;

	snprintf(reason, sizeof(reason), "import from %s", pathcopy ? basename(pathcopy) : "CSV");
	free(pathcopy);
	if (ac_cli_run(db, "BEGIN", err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		return 1;
	}
	for (int i = 0; i < t->n; i++) {
		int fresh = 0;

		if (write_row(db, &t->v[i], reason, &fresh, err, sizeof(err)) != 0) {
			cut_context(err);
			fprintf(stderr, "line %d: rejected: %s\nagricert: nothing imported\n",
				t->v[i].line, err);
			ac_cli_run(db, "ROLLBACK", err, sizeof(err));
			return 1;
		}
		created += fresh;
	}
	if (ac_cli_run(db, "COMMIT", err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not commit: %s\nagricert: nothing imported\n",
			err);
		return 1;
	}
	printf("imported %d subjects (%d new, %d updated)\n", t->n, created, t->n - created);
	return 0;
}

int ac_cli_import_subjects(const char *conninfo, const char *path)
{
	rows t = { NULL, 0 };
	ac_dbsync *db;
	FILE *f;
	int rejected;
	int rc = 1;

	if (open_input(conninfo, path, &db, &f) != 0)
		return 1;
	rejected = read_rows(f, &t);
	if (rejected < 0)
		goto out;
	rejected += check_rows(db, &t);
	if (rejected > 0) {
		fprintf(stderr, "agricert: %d rows rejected; nothing imported\n", rejected);
		goto out;
	}
	rc = write_rows(db, &t, path);
out:
	rows_free(&t);
	ac_dbsync_close(db);
	fclose(f);
	return rc;
}

/*
 * The catalogue and the quotas: plain CSV (no quoting), a header line, one
 * SQL call a line, in one transaction.
 */

/* What one line did. */
enum { LINE_SKIPPED, LINE_IMPORTED, LINE_REJECTED, LINE_FAILED };

/*
 * What a line is read with besides its fields: the quotas' year, and where
 * the header has the products' test_required_days and default_unit columns
 * (-1: the file has none, as files before them).
 */
typedef struct import_opts {
	const char *year;
	int test_days;
	int default_unit;
} import_opts;

/* Imports one line's fields. Returns what it did. */
typedef int line_fn(ac_dbsync *db, const import_opts *o, int lineno, char **fields, int n);

/* Splits a CSV line in place (no quoted fields). Returns the field count. */
static int split_plain(char *line, char **fields, int max)
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

/* Sends one line's call. Returns LINE_IMPORTED, or LINE_FAILED after a message. */
static int call_line(ac_dbsync *db, const ac_db_call *call, int lineno)
{
	char err[512];

	if (ac_cli_call(db, call, NULL, err, sizeof(err)) == 0)
		return LINE_IMPORTED;
	fprintf(stderr, "line %d: rejected: %s\n", lineno, err);
	return LINE_FAILED;
}

/* Whether s is a number of days a test stays good for sale: 1 to 30. */
static int valid_test_days(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= 2 && strspn(s, "0123456789") == n && atoi(s) >= 1 && atoi(s) <= 30;
}

/* name,category,key_risk[,...]: the header may name test_required_days and
 * default_unit columns. */
static int product_line(ac_dbsync *db, const import_opts *o, int lineno, char **fld, int n)
{
	const char *days = o->test_days >= 0 && o->test_days < n ? fld[o->test_days] : "";
	const char *unit = o->default_unit >= 0 && o->default_unit < n ? fld[o->default_unit] : "";
	ac_db_call call;

	if (n < 3 || fld[0][0] == '\0' || fld[1][0] == '\0') {
		fprintf(stderr, "line %d: rejected: expected name,category,key_risk\n", lineno);
		return LINE_REJECTED;
	}
	if (days[0] != '\0' && !valid_test_days(days)) {
		fprintf(stderr, "line %d: rejected: test_required_days is 1 to 30, or empty\n",
			lineno);
		return LINE_REJECTED;
	}
	if (unit[0] != '\0' && ac_unit_from_name(unit) <= 0) {
		fprintf(stderr,
			"line %d: rejected: default_unit is kg, g, t, jin, piece, head, box, bag, "
			"bundle or only, or empty\n",
			lineno);
		return LINE_REJECTED;
	}
	ac_db_call_init(&call, "cli_import_product");
	ac_db_arg(&call, "p_name", "text", fld[0]);
	ac_db_arg(&call, "p_category", "text", fld[1]);
	ac_db_arg(&call, "p_key_risk", "boolean", strcmp(fld[2], "yes") == 0 ? "true" : "false");
	ac_db_arg(&call, "p_test_required_days", "integer", days[0] != '\0' ? days : NULL);
	ac_db_arg(&call, "p_has_test_days", "boolean", o->test_days >= 0 ? "true" : "false");
	ac_db_arg(&call, "p_default_unit", "text", unit[0] != '\0' ? unit : NULL);
	return call_line(db, &call, lineno);
}

/* code,name,level,parent */
static int region_line(ac_dbsync *db, const import_opts *o, int lineno, char **fld, int n)
{
	ac_db_call call;

	(void)o;
	if (n < 3 || strlen(fld[0]) != 12 || strspn(fld[0], "0123456789") != 12) {
		fprintf(stderr, "line %d: rejected: expected a 12-digit code,name,level,parent\n",
			lineno);
		return LINE_REJECTED;
	}
	ac_db_call_init(&call, "cli_import_region");
	ac_db_arg(&call, "p_code", "bigint", fld[0]);
	ac_db_arg(&call, "p_name", "text", fld[1]);
	ac_db_arg(&call, "p_level", "smallint", fld[2]);
	ac_db_arg(&call, "p_parent", "bigint", n > 3 && fld[3][0] != '\0' ? fld[3] : NULL);
	return call_line(db, &call, lineno);
}

/* market,region_code,kind,address,stall,seller: one line a stall (stall and
 * seller may be empty: the market alone). */
static int market_line(ac_dbsync *db, const import_opts *o, int lineno, char **fld, int n)
{
	static const char *const kinds[] = { "wholesale", "farmers_market", "supermarket",
					     "canteen",	  "other",	    NULL };
	ac_db_call call;

	(void)o;
	if (n < 3 || fld[0][0] == '\0' || strlen(fld[1]) != 12 ||
	    strspn(fld[1], "0123456789") != 12 || !one_of(fld[2], kinds)) {
		fprintf(stderr,
			"line %d: rejected: expected market,12-digit region_code,kind (wholesale, "
			"farmers_market, supermarket, canteen or other),address,stall,seller\n",
			lineno);
		return LINE_REJECTED;
	}
	ac_db_call_init(&call, "cli_import_market");
	ac_db_arg(&call, "p_name", "text", fld[0]);
	ac_db_arg(&call, "p_region_code", "bigint", fld[1]);
	ac_db_arg(&call, "p_kind", "text", fld[2]);
	ac_db_arg(&call, "p_address", "text", n > 3 && fld[3][0] != '\0' ? fld[3] : NULL);
	ac_db_arg(&call, "p_stall", "text", n > 4 && fld[4][0] != '\0' ? fld[4] : NULL);
	ac_db_arg(&call, "p_seller", "text", n > 5 && fld[5][0] != '\0' ? fld[5] : NULL);
	return call_line(db, &call, lineno);
}

/* Sends a line's call of a function that answers the township's row, or
 * none when no township has the line's name. Returns what the line did. */
static int township_line(ac_dbsync *db, const ac_db_call *call, int lineno)
{
	ac_db_result *res = NULL;
	char err[512];
	int found;

	if (ac_cli_call(db, call, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "line %d: rejected: %s\n", lineno, err);
		return LINE_FAILED;
	}
	found = ac_db_rows(res) == 1;
	ac_db_result_free(res);
	if (found)
		return LINE_IMPORTED;
	fprintf(stderr, "line %d: rejected: no township of that name\n", lineno);
	return LINE_FAILED;
}

/*
 * seq,unit,total,pesticide_colloidal_gold,pesticide_enzyme_inhibition,
 * veterinary (the Anxi annex 4 layout) for year, townships by name;
 * the county's own line (县级) is skipped.
 */
static int quota_line(ac_dbsync *db, const import_opts *o, int lineno, char **fld, int n)
{
	ac_db_call call;

	if (n < 6 || strcmp(fld[1], "县级") == 0)
		return LINE_SKIPPED;
	ac_db_call_init(&call, "cli_import_quota");
	ac_db_arg(&call, "p_township", "text", fld[1]);
	ac_db_arg(&call, "p_year", "integer", o->year);
	ac_db_arg(&call, "p_total", "integer", fld[2]);
	ac_db_arg(&call, "p_colloidal_gold", "integer", fld[3]);
	ac_db_arg(&call, "p_enzyme_inhibition", "integer", fld[4]);
	ac_db_arg(&call, "p_veterinary", "integer", fld[5]);
	return township_line(db, &call, lineno);
}

/*
 * seq,account,township,producers,daily_patrols,monthly_patrols,
 * codes_issued_year,smallholder_certificates_year (the Anxi annex 3 layout)
 * for year, townships by name; a total line (合计) is skipped.
 */
static int target_line(ac_dbsync *db, const import_opts *o, int lineno, char **fld, int n)
{
	ac_db_call call;

	if (n < 8 || strcmp(fld[2], "合计") == 0)
		return LINE_SKIPPED;
	ac_db_call_init(&call, "cli_import_target");
	ac_db_arg(&call, "p_township", "text", fld[2]);
	ac_db_arg(&call, "p_year", "integer", o->year);
	ac_db_arg(&call, "p_producers", "integer", fld[3]);
	ac_db_arg(&call, "p_daily_patrols", "integer", fld[4]);
	ac_db_arg(&call, "p_monthly_patrols", "integer", fld[5]);
	ac_db_arg(&call, "p_item_codes", "integer", fld[6]);
	ac_db_arg(&call, "p_household_certificates", "integer", fld[7]);
	return township_line(db, &call, lineno);
}

/* Where the header fields name a column, or -1. */
static int column_of(char **fields, int n, const char *name)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(fields[i], name) == 0)
			return i;
	}
	return -1;
}

/*
 * Imports f's lines after the header with line() up to the first line that
 * failed. Returns how many lines were rejected or failed; *imported counts
 * the others.
 */
static int import_lines(ac_dbsync *db, FILE *f, line_fn *line, const char *year, int *imported)
{
	import_opts o = { year, -1, -1 };
	char text[2048];
	char *fields[8];
	int lineno = 0;
	int rejected = 0;
	int r = LINE_SKIPPED;

	while (r != LINE_FAILED && fgets(text, sizeof(text), f) != NULL) {
		int n = split_plain(text, fields, 8);

		if (++lineno == 1) {
			o.test_days = column_of(fields, n, "test_required_days");
			o.default_unit = column_of(fields, n, "default_unit");
		}
		if (lineno == 1 || (n == 1 && fields[0][0] == '\0'))
			continue; /* header or blank */
		r = line(db, &o, lineno, fields, n);
		*imported += r == LINE_IMPORTED;
		rejected += r == LINE_REJECTED || r == LINE_FAILED;
	}
	return rejected;
}

/*
 * Imports what ("products", "regions" or, with year, "quotas") from path in
 * one transaction: all lines or none. Returns 0, or 1 after a message.
 */
static int import_plain(const char *conninfo, const char *what, const char *year, const char *path,
			line_fn *line)
{
	ac_dbsync *db;
	char err[512];
	int imported = 0;
	int rejected;
	int rc = 1;
	FILE *f;

	if (open_input(conninfo, path, &db, &f) != 0)
		return 1;
	if (ac_cli_run(db, "BEGIN", err, sizeof(err)) != 0)
		goto dberr;
	rejected = import_lines(db, f, line, year, &imported);
	if (rejected > 0) {
		ac_cli_run(db, "ROLLBACK", err, sizeof(err));
		/* Quotas stop at their first refused line, catalogues report them all. */
		if (year != NULL)
			fprintf(stderr, "agricert: nothing imported\n");
		else
			fprintf(stderr, "agricert: %d rows rejected; nothing imported\n", rejected);
		goto out;
	}
	if (ac_cli_run(db, "COMMIT", err, sizeof(err)) != 0)
		goto dberr;
	if (year != NULL)
		printf("imported %d %s for %s\n", imported, what, year);
	else
		printf("imported %d %s\n", imported, what);
	rc = 0;
	goto out;
dberr:
	fprintf(stderr, "agricert: %s\n", err);
out:
	fclose(f);
	ac_dbsync_close(db);
	return rc;
}

int ac_cli_import_catalogue(const char *conninfo, const char *what, const char *path)
{
	line_fn *line = strcmp(what, "products") == 0  ? product_line
			: strcmp(what, "markets") == 0 ? market_line
						       : region_line;

	return import_plain(conninfo, what, NULL, path, line);
}

int ac_cli_import_quotas(const char *conninfo, const char *year, const char *path)
{
	return import_plain(conninfo, "quotas", year, path, quota_line);
}

int ac_cli_import_targets(const char *conninfo, const char *year, const char *path)
{
	return import_plain(conninfo, "targets", year, path, target_line);
}

/* Writes res as CSV under header, whose names are res's columns. */
static void write_csv(FILE *out, const char *header_line, const ac_db_result *res)
{
	char names[256];
	char *name[NFIELDS];
	int col[NFIELDS];
	int n;

	snprintf(names, sizeof(names), "%s", header_line);
	n = csv_split(names, name, NFIELDS);
	for (int j = 0; j < n; j++)
		col[j] = ac_db_col(res, name[j]);
	fprintf(out, "%s\n", header_line);
	for (int i = 0; i < ac_db_rows(res); i++) {
		const char *fields[NFIELDS];

		for (int j = 0; j < n; j++)
			fields[j] = ac_db_get(res, i, col[j]);
		csv_write(out, fields, n);
	}
}

/* Products come in the order of their ids as text (1, 10, 11, ..., 2, 20), as they always have. */
int ac_cli_export(const char *conninfo, const char *what, FILE *out)
{
	static const struct {
		const char *what;
		const char *header;
		const char *sql;
	} exports[] = {
		{ "subjects", header,
		  "SELECT kind, name, credit_code, id_number, contact, region_code, address, "
		  "credit_grade, status FROM subject WHERE kind <> 'staff' ORDER BY id" },
		{ "regions", "code,name,level,parent",
		  "SELECT code, name, level, parent FROM region ORDER BY level, code" },
		{ "products", "name,category,key_risk,default_unit,id,test_required_days",
		  "SELECT name, category, CASE WHEN key_risk THEN 'yes' ELSE 'no' END AS key_risk, "
		  "default_unit, id, test_required_days FROM product ORDER BY id::text" },
	};
	ac_dbsync *db = NULL;
	ac_db_result *res = NULL;
	char err[512] = "out of memory";
	int which = -1;
	int rc = 1;

	for (size_t i = 0; i < sizeof(exports) / sizeof(exports[0]); i++) {
		if (strcmp(exports[i].what, what) == 0)
			which = (int)i;
	}
	if (which < 0) {
		fprintf(stderr, "usage: agricert export subjects|regions|products\n");
		return 2;
	}
	if (ac_dbsync_open(conninfo, &db, err, sizeof(err)) != 0 ||
	    ac_dbsync_exec(db, exports[which].sql, 0, NULL, &res, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not export %s: %s\n", what, err);
		goto out;
	}
	write_csv(out, exports[which].header, res);
	if (fflush(out) != 0 || ferror(out)) {
		fprintf(stderr, "agricert: could not write the export: %s\n", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	ac_db_result_free(res);
	ac_dbsync_close(db);
	return rc;
}
