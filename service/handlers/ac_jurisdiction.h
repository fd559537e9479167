/*
 * The caller's jurisdiction as arguments of an SQL function: handlers whose
 * statements only touch records of regions the caller covers pass the range
 * of ac_perm_range (base/ac_perm.h) as p_region_lo and p_region_hi (bigint,
 * inclusive). Loop thread only.
 */
#ifndef AC_JURISDICTION_H
#define AC_JURISDICTION_H

#include "ac_db_call.h"
#include "ac_perm.h"

/* Adds p_region_lo and p_region_hi for p to call (kept in the call itself). */
void ac_jurisdiction_args(ac_db_call *call, const ac_principal *p);

#endif
