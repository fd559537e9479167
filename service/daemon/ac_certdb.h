/*
 * Certificates as the database gives them: certificate_view
 * (sql/0012_service_sql.sql) joins a certificate with its issuer, product
 * and latest print job, and ac_certdb_read turns one of its rows into an
 * ac_cert, reading the columns by name. Loop thread only.
 */
#ifndef AC_CERTDB_H
#define AC_CERTDB_H

#include "ac_cert.h"
#include "ac_db.h"

/* "SELECT * FROM certificate_view": a query adds its WHERE. */
#define AC_CERT_SELECT "SELECT * FROM certificate_view "

/*
 * Fills c from row of res (a certificate_view row, possibly with more
 * columns). item_codes may be the whole array or, for a scan, one item's
 * code alone. Returns 0 or -ENOMEM; c must be cleared either way.
 */
int ac_certdb_read(const ac_db_result *res, int row, ac_cert *c);

#endif
