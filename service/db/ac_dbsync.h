/*
 * Blocking PostgreSQL access, for the admin CLI and for agricertd's start-up
 * before its loop runs (never on a running loop): one connection, one
 * statement at a time, and the migrations.
 *
 * Results are the same ac_db_result as the pool's (ac_db.h accessors) and
 * are freed with ac_db_result_free. Any thread, one connection per thread.
 */
#ifndef AC_DBSYNC_H
#define AC_DBSYNC_H

#include <stddef.h>

#include "ac_db.h"

typedef struct ac_dbsync ac_dbsync;

/* Connects. Returns 0, or AC_EDB with the message in err. */
int ac_dbsync_open(const char *conninfo, ac_dbsync **out, char *err, size_t errsz);

/* Runs one statement; *res (if res is not NULL) must be freed with
 * ac_db_result_free. Returns 0 or AC_EDB with the message in err. */
int ac_dbsync_exec(ac_dbsync *db, const char *sql, int nparams, const char *const *values,
		   ac_db_result **res, char *err, size_t errsz);
void ac_db_result_free(ac_db_result *res);

/*
 * Runs sql, a COPY ... TO STDOUT without parameters, giving each chunk of
 * its output to sink(arg, bytes, len) (a sink returns 0, or non-zero to
 * stop: then the rest is read and dropped and -EIO returned). Sets *rows to the
 * rows copied. Returns 0, AC_EDB with err, or the sink's failure.
 */
int ac_dbsync_copy_out(ac_dbsync *db, const char *sql,
		       int (*sink)(void *arg, const char *bytes, size_t len), void *arg,
		       long long *rows, char *err, size_t errsz);
/*
 * Runs sql, a COPY ... FROM STDIN without parameters, reading its input from
 * source(arg, buf, size) (returns the bytes put in buf, 0 at the end, or -1
 * on a read error: then the COPY is abandoned). Sets *rows to the rows
 * copied. Returns 0, AC_EDB with err, or -EIO.
 */
int ac_dbsync_copy_in(ac_dbsync *db, const char *sql,
		      long (*source)(void *arg, char *buf, size_t size), void *arg, long long *rows,
		      char *err, size_t errsz);
void ac_dbsync_close(ac_dbsync *db);

/*
 * Applies the migrations sql_dir/NNNN_name.sql not yet recorded in
 * schema_migrations, in order, each in its own transaction with its SHA-256,
 * under an advisory lock so that several instances can start at once.
 *
 * Migrations are never edited once applied: a recorded migration whose file
 * now has other bytes, another name, or two files with one number, stop
 * everything with AC_ECONFIG and a message naming the file. (A migration
 * recorded before checksums existed gets its checksum on the next run.)
 * Returns 0, AC_EDB (the database could not be reached or a migration
 * failed) or AC_ECONFIG, with the reason in err.
 */
int ac_migrate(const char *conninfo, const char *sql_dir, char *err, size_t errsz);

/*
 * Reads sql_dir's migrations as ac_migrate does, without a database: sets
 * *count, returns 0, or AC_ECONFIG with the reason in err (the directory or
 * a file cannot be read, two files have one number).
 */
int ac_migrations_read(const char *sql_dir, int *count, char *err, size_t errsz);

#endif
