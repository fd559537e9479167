/*
 * agricert import subjects / export: CSV in and out of the registry, with
 * blocking libpq (ac_dbsync). All rows or none.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_cli_registry.h"
#include "ac_dbsync.h"
#include "ac_check.h"

#define NFIELDS	 9
#define MAX_LINE 8192

static const char header[] =
    "kind,name,credit_code,id_number,contact,region_code,address,credit_grade,status";

enum { KIND, NAME, CREDIT, IDNUM, CONTACT, REGION, ADDRESS, GRADE, STATUS };

typedef struct row {
	int line;
	char *f[NFIELDS];
} row;

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

static int record_change(ac_dbsync *db, const char *id, const char *field, const char *old,
			 const char *new, const char *reason, char *err, size_t errsz)
{
	const char *vals[5] = { id, field, old, new, reason };

	if (old != NULL && strcmp(old, new) == 0)
		return 0;
	return ac_dbsync_exec(
	    db,
	    "INSERT INTO subject_change (subject_id, field, old_value, new_value, "
	    "reason, actor_role) VALUES ($1::int, $2, $3, $4, $5, 'cli')",
	    5, vals, NULL, err, errsz);
}

/* Writes one row; *created says whether it was new. */
static int write_row(ac_dbsync *db, const row *r, const char *reason, int *created, char *err,
		     size_t errsz)
{
	const char *grade = r->f[GRADE][0] != '\0' ? r->f[GRADE] : "A";
	const char *status = r->f[STATUS][0] != '\0' ? r->f[STATUS] : "active";
	const char *vals[10];
	ac_db_result *res = NULL;
	char id[16];
	char old_grade[8] = "";
	char old_status[16] = "";
	int rc = -1;

	vals[0] = r->f[CREDIT];
	vals[1] = r->f[NAME];
	vals[2] = r->f[REGION];
	if (ac_dbsync_exec(
		db,
		"SELECT id, credit_grade, status FROM subject WHERE kind <> 'staff' AND "
		"(($1 <> '' AND credit_code = $1) OR (coalesce(credit_code, '') = '' AND "
		"name = $2 AND region_code = $3::bigint)) ORDER BY credit_code IS NOT "
		"DISTINCT FROM $1 DESC, id LIMIT 1",
		3, vals, &res, err, errsz) != 0)
		goto out;
	*created = ac_db_rows(res) == 0;
	if (!*created) {
		snprintf(id, sizeof(id), "%s", ac_db_get(res, 0, 0));
		snprintf(old_grade, sizeof(old_grade), "%s", ac_db_get(res, 0, 1));
		snprintf(old_status, sizeof(old_status), "%s", ac_db_get(res, 0, 2));
	}
	ac_db_result_free(res);
	res = NULL;
	for (int i = 0; i < 7; i++)
		vals[i] = r->f[i];
	vals[7] = grade;
	vals[8] = status;
	vals[9] = *created ? NULL : id;
	if (ac_dbsync_exec(
		db,
		*created ? "INSERT INTO subject (kind, name, credit_code, id_number, contact, "
			   "region_code, address, credit_grade, status) VALUES ($1, $2, "
			   "nullif($3, ''), nullif($4, ''), nullif($5, ''), $6::bigint, "
			   "nullif($7, ''), $8, $9) RETURNING id"
			 : "UPDATE subject SET kind = $1, name = $2, credit_code = nullif($3, "
			   "''), id_number = nullif($4, ''), contact = nullif($5, ''), "
			   "region_code = $6::bigint, address = nullif($7, ''), credit_grade = "
			   "$8, status = $9 WHERE id = $10::int RETURNING id",
		*created ? 9 : 10, vals, &res, err, errsz) != 0)
		goto out;
	snprintf(id, sizeof(id), "%s", ac_db_get(res, 0, 0));
	/* New subjects record a grade or status other than the default, with where it came from. */
	if (record_change(db, id, "credit_grade",
			  *created ? (strcmp(grade, "A") ? NULL : "A") : old_grade, grade, reason,
			  err, errsz) != 0 ||
	    record_change(db, id, "status",
			  *created ? (strcmp(status, "active") ? NULL : "active") : old_status,
			  status, reason, err, errsz) != 0)
		goto out;
	rc = 0;
out:
	ac_db_result_free(res);
	return rc;
}

int ac_cli_import_subjects(const char *conninfo, const char *path)
{
	ac_dbsync *db = NULL;
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	row *rows = NULL;
	int nrows = 0;
	int lineno = 0;
	int rejected = 0;
	int created = 0;
	char err[512];
	char reason[300];
	char *pathcopy = NULL;
	int rc = 1;

	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "agricert: could not open file \"%s\": %s\n", path,
			strerror(errno));
		return 1;
	}
	if (ac_dbsync_open(conninfo, &db, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		goto out;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		char *text = line;
		row *grown;
		row r;
		int n;

		lineno++;
		if (lineno == 1) {
			if (strncmp(text, "\xef\xbb\xbf", 3) == 0)
				text += 3; /* a byte order mark, as spreadsheets write */
			text[strcspn(text, "\r\n")] = '\0';
			if (strcmp(text, header) != 0) {
				fprintf(stderr, "line 1: rejected: the header must be %s\n",
					header);
				rejected++;
				break;
			}
			continue;
		}
		if (text[strspn(text, " \r\n")] == '\0')
			continue;
		if (len > MAX_LINE) {
			fprintf(stderr, "line %d: rejected: longer than %d bytes\n", lineno,
				MAX_LINE);
			rejected++;
			continue;
		}
		memset(&r, 0, sizeof(r));
		r.line = lineno;
		n = csv_split(text, r.f, NFIELDS);
		if (n != NFIELDS) {
			fprintf(stderr,
				"line %d: rejected: expected %d comma-separated fields (quote "
				"fields that hold commas)\n",
				lineno, NFIELDS);
			rejected++;
			continue;
		}
		for (int i = 0; i < NFIELDS; i++) {
			r.f[i] = strdup(r.f[i]);
			if (r.f[i] == NULL) {
				fprintf(stderr, "agricert: out of memory\n");
				for (int j = 0; j < i; j++)
					free(r.f[j]);
				goto out;
			}
		}
		grown = realloc(rows, (size_t)(nrows + 1) * sizeof(*rows));
		if (grown == NULL) {
			for (int i = 0; i < NFIELDS; i++)
				free(r.f[i]);
			fprintf(stderr, "agricert: out of memory\n");
			goto out;
		}
		rows = grown;
		rows[nrows++] = r;
	}
	if (lineno == 0) {
		fprintf(stderr, "line 1: rejected: the file is empty; the header must be %s\n",
			header);
		rejected++;
	}
	for (int i = 0; i < nrows; i++) {
		const char *why = check_row(db, &rows[i], err, sizeof(err));

		for (int j = 0; why == NULL && j < i; j++) {
			if (same_subject(&rows[i], &rows[j])) {
				snprintf(reason, sizeof(reason), "the same subject as line %d",
					 rows[j].line);
				why = reason;
			}
		}
		if (why != NULL) {
			fprintf(stderr, "line %d: rejected: %s\n", rows[i].line, why);
			rejected++;
		}
	}
	if (rejected > 0) {
		fprintf(stderr, "agricert: %d rows rejected; nothing imported\n", rejected);
		goto out;
	}
	pathcopy = strdup(path);
	snprintf(reason, sizeof(reason), "import from %s", pathcopy ? basename(pathcopy) : "CSV");
	if (ac_dbsync_exec(db, "BEGIN", 0, NULL, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: %s\n", err);
		goto out;
	}
	for (int i = 0; i < nrows; i++) {
		int fresh = 0;

		if (write_row(db, &rows[i], reason, &fresh, err, sizeof(err)) != 0) {
			fprintf(stderr, "line %d: rejected: %s\nagricert: nothing imported\n",
				rows[i].line, err);
			ac_dbsync_exec(db, "ROLLBACK", 0, NULL, NULL, err, sizeof(err));
			goto out;
		}
		created += fresh;
	}
	if (ac_dbsync_exec(db, "COMMIT", 0, NULL, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "agricert: could not commit: %s\nagricert: nothing imported\n",
			err);
		goto out;
	}
	printf("imported %d subjects (%d new, %d updated)\n", nrows, created, nrows - created);
	rc = 0;
out:
	for (int i = 0; i < nrows; i++) {
		for (int j = 0; j < NFIELDS; j++)
			free(rows[i].f[j]);
	}
	free(rows);
	free(line);
	free(pathcopy);
	ac_dbsync_close(db);
	fclose(f);
	return rc;
}

int ac_cli_export(const char *conninfo, const char *what, FILE *out)
{
	static const struct {
		const char *what;
		const char *header;
		int ncols;
		const char *sql;
	} exports[] = {
		{ "subjects", header, NFIELDS,
		  "SELECT kind, name, coalesce(credit_code, ''), coalesce(id_number, ''), "
		  "coalesce(contact, ''), coalesce(region_code::text, ''), coalesce(address, ''), "
		  "credit_grade, status FROM subject WHERE kind <> 'staff' ORDER BY id" },
		{ "regions", "code,name,level,parent", 4,
		  "SELECT code::text, name, level::text, coalesce(parent::text, '') FROM region "
		  "ORDER BY level, code" },
		{ "products", "name,category,key_risk,default_unit,id", 5,
		  "SELECT name, category, CASE WHEN key_risk THEN 'yes' ELSE 'no' END, "
		  "default_unit, "
		  "id::text FROM product ORDER BY id" },
	};
	ac_dbsync *db = NULL;
	ac_db_result *res = NULL;
	char err[512];
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
	fprintf(out, "%s\n", exports[which].header);
	for (int i = 0; i < ac_db_rows(res); i++) {
		const char *fields[NFIELDS];

		for (int j = 0; j < exports[which].ncols; j++)
			fields[j] = ac_db_get(res, i, j);
		csv_write(out, fields, exports[which].ncols);
	}
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
