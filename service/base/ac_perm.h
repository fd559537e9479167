/*
 * Who may do what: role and jurisdiction checks shared by the handlers.
 *
 * Roles (api_token.role): producer, purchaser, inspector, township_regulator,
 * county_regulator, admin, kiosk, system. A staff member's subject carries
 * the region of their jurisdiction: a township regulator's 12-digit code
 * starts with the 9-digit township, a county regulator's with the 6-digit
 * county. Pure functions; any thread.
 */
#ifndef AC_PERM_H
#define AC_PERM_H

#include <stddef.h>
#include <stdint.h>

#include "ac_app.h"

/* inspector, township_regulator, county_regulator or admin. */
int ac_perm_is_staff(const ac_principal *p);
/* township_regulator, county_regulator or admin. */
int ac_perm_is_regulator(const ac_principal *p);
int ac_perm_is_admin(const ac_principal *p);
/*
 * Whether p's jurisdiction covers region (a 12-digit division code): admin
 * everywhere, county regulator within its county (first 6 digits), township
 * regulator within its township (first 9 digits), nobody else.
 */
int ac_perm_covers(const ac_principal *p, int64_t region);

/*
 * The regions whose records p may act on, as an inclusive range of 12-digit
 * codes written as text for a query: everything for admin and inspectors
 * (who check markets anywhere), the county or the township for regulators,
 * nothing (lo > hi) for anybody else.
 */
void ac_perm_range(const ac_principal *p, char lo[24], char hi[24]);

/* "<subject id>:<role>" for the audit log, into out. */
void ac_perm_actor(const ac_principal *p, char *out, size_t outsz);

#endif
