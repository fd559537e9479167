#include <stdlib.h>

#include "ac_jurisdiction.h"

void ac_jurisdiction_args(ac_db_call *call, const ac_principal *p)
{
	char lo[24], hi[24];

	ac_perm_range(p, lo, hi);
	ac_db_arg_int(call, "p_region_lo", "bigint", strtoll(lo, NULL, 10));
	ac_db_arg_int(call, "p_region_hi", "bigint", strtoll(hi, NULL, 10));
}
