#include <stdio.h>
#include <string.h>

#include "ac_perm.h"

static int role_is(const ac_principal *p, const char *role)
{
	return strcmp(p->role, role) == 0;
}

int ac_perm_is_admin(const ac_principal *p)
{
	return role_is(p, "admin");
}

int ac_perm_is_regulator(const ac_principal *p)
{
	return role_is(p, "admin") || role_is(p, "county_regulator") ||
	       role_is(p, "township_regulator");
}

int ac_perm_is_staff(const ac_principal *p)
{
	return ac_perm_is_regulator(p) || role_is(p, "inspector");
}

int ac_perm_covers(const ac_principal *p, int64_t region)
{
	if (role_is(p, "admin"))
		return 1;
	if (role_is(p, "county_regulator"))
		return p->region_code / 1000000 == region / 1000000;
	if (role_is(p, "township_regulator"))
		return p->region_code / 1000 == region / 1000;
	return 0;
}

void ac_perm_range(const ac_principal *p, char lo[24], char hi[24])
{
	long long scale = role_is(p, "county_regulator")     ? 1000000
			  : role_is(p, "township_regulator") ? 1000
							     : 0;

	if (role_is(p, "admin") || role_is(p, "inspector")) {
		snprintf(lo, 24, "0");
		snprintf(hi, 24, "999999999999");
	} else if (scale == 0) {
		snprintf(lo, 24, "1");
		snprintf(hi, 24, "0");
	} else {
		snprintf(lo, 24, "%lld", (long long)p->region_code / scale * scale);
		snprintf(hi, 24, "%lld", (long long)p->region_code / scale * scale + scale - 1);
	}
}

void ac_perm_actor(const ac_principal *p, char *out, size_t outsz)
{
	snprintf(out, outsz, "%d:%s%s%s", p->subject_id, p->role, p->kiosk_id[0] ? "@" : "",
		 p->kiosk_id);
}
