/* The permission matrix and jurisdiction, role by role. */
#include <stdio.h>
#include <string.h>

#include "ac_perm.h"
#include "ac_test.h"

/* Who may take each action: a row of the matrix as the roles that may. */
static const struct {
	ac_action act;
	const char *may; /* the roles that may, each followed by a space */
} rows[] = {
	{ AC_ACT_ISSUE, "producer purchaser " },
	{ AC_ACT_REPRINT, "producer purchaser " },
	{ AC_ACT_COLLECT, "purchaser " },
	{ AC_ACT_STOCK, "purchaser " },
	{ AC_ACT_READ_EXTERNAL, "purchaser inspector township_regulator county_regulator admin " },
	{ AC_ACT_REVOKE, "township_regulator county_regulator admin " },
	{ AC_ACT_RECALL, "inspector township_regulator county_regulator admin " },
	{ AC_ACT_RECORD_TEST, "inspector township_regulator county_regulator admin " },
	{ AC_ACT_RECORD_OWN_TEST, "producer " },
	{ AC_ACT_READ_TESTS, "producer inspector township_regulator county_regulator admin " },
	{ AC_ACT_INSPECT, "inspector township_regulator county_regulator admin " },
	{ AC_ACT_READ_SUSPICIONS, "township_regulator county_regulator admin " },
	{ AC_ACT_STATS, "township_regulator county_regulator admin " },
	{ AC_ACT_READ_REGISTRY, "inspector township_regulator county_regulator admin " },
	{ AC_ACT_WRITE_SUBJECTS, "township_regulator county_regulator admin " },
	{ AC_ACT_WRITE_CATALOG, "county_regulator admin " },
	{ AC_ACT_OWN_CERTS, "producer purchaser " },
	{ AC_ACT_ENROL, "station township_regulator county_regulator admin " },
	{ AC_ACT_ASSIST, "station " },
	{ AC_ACT_SUPERVISE, "township_regulator county_regulator admin " },
};

static const char *const roles[] = {
	"producer",	    "purchaser", "inspector", "township_regulator",
	"county_regulator", "admin",	 "kiosk",     "system",
	"station",	    "nobody"
};

/* Whether role is one of the space-terminated words of list. */
static int listed(const char *list, const char *role)
{
	size_t n = strlen(role);

	for (const char *w = list; *w != '\0'; w = strchr(w, ' ') + 1) {
		if (strncmp(w, role, n) == 0 && w[n] == ' ')
			return 1;
	}
	return 0;
}

static ac_principal who(const char *role, long long region)
{
	ac_principal p;

	memset(&p, 0, sizeof(p));
	strcpy(p.role, role);
	p.subject_id = 7;
	p.region_code = region;
	return p;
}

static void check_matrix(void)
{
	int right = 1;
	int worded = 1;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *en;
		const char *zh;

		for (size_t k = 0; k < sizeof(roles) / sizeof(roles[0]); k++) {
			ac_principal p = who(roles[k], 0);

			right &= ac_perm_may(&p, rows[i].act) == listed(rows[i].may, roles[k]);
		}
		ac_perm_refusal(rows[i].act, &en, &zh);
		worded &= en[0] != '\0' && zh[0] != '\0';
	}
	AC_CHECK(right, "every role may take exactly the actions of its row");
	AC_CHECK(worded, "every refusal has English and Chinese words");
	{
		ac_principal p = who("kiosk", 0);

		AC_CHECK(ac_perm_may(&p, AC_ACT_NONE),
			 "any valid token may take no special action");
		AC_CHECK(!ac_perm_may(&p, AC_ACT_COUNT), "an action out of range is refused");
	}
}

static void check_jurisdiction(void)
{
	ac_principal county = who("county_regulator", 350524103201LL);
	ac_principal town = who("township_regulator", 350524103201LL);
	ac_principal admin = who("admin", 0);
	ac_principal insp = who("inspector", 350524103201LL);
	ac_principal prod = who("producer", 350524103201LL);
	ac_principal station = who("station", 350524103201LL);
	char lo[24], hi[24];

	AC_CHECK(ac_perm_covers(&county, 350524999999LL), "a county regulator covers its county");
	AC_CHECK(!ac_perm_covers(&county, 350525100000LL), "but not the next county");
	AC_CHECK(ac_perm_covers(&town, 350524103999LL), "a township regulator covers its township");
	AC_CHECK(!ac_perm_covers(&town, 350524104201LL), "but not the next township");
	AC_CHECK(ac_perm_covers(&admin, 110101000000LL), "an admin covers everything");
	AC_CHECK(!ac_perm_covers(&insp, 350524103201LL) && !ac_perm_covers(&prod, 350524103201LL),
		 "inspectors and producers have no jurisdiction to act on records");
	AC_CHECK(!ac_perm_covers(&station, 350524103201LL),
		 "a station's villages are the database's to check, not a range");
	ac_perm_range(&county, lo, hi);
	AC_CHECK(strcmp(lo, "350524000000") == 0 && strcmp(hi, "350524999999") == 0,
		 "a county's range");
	ac_perm_range(&town, lo, hi);
	AC_CHECK(strcmp(lo, "350524103000") == 0 && strcmp(hi, "350524103999") == 0,
		 "a township's range");
	ac_perm_range(&insp, lo, hi);
	AC_CHECK(strcmp(lo, "0") == 0 && strcmp(hi, "999999999999") == 0,
		 "inspectors check markets anywhere");
	ac_perm_range(&prod, lo, hi);
	AC_CHECK(strcmp(lo, "1") == 0 && strcmp(hi, "0") == 0, "a producer's range is empty");
}

static void check_actor(void)
{
	ac_principal p = who("producer", 0);
	char out[128];

	ac_perm_actor(&p, out, sizeof(out));
	AC_CHECK(strcmp(out, "7:producer") == 0, "the audit actor names subject and role");
	strcpy(p.kiosk_id, "kiosk-fc-01");
	ac_perm_actor(&p, out, sizeof(out));
	AC_CHECK(strcmp(out, "7:producer@kiosk-fc-01") == 0, "and the kiosk it acts at");
	p.assisted_by = 12;
	ac_perm_actor(&p, out, sizeof(out));
	AC_CHECK(strcmp(out, "7:producer@kiosk-fc-01+assisted_by:12") == 0,
		 "and the station that assisted the session");
}

int main(void)
{
	check_matrix();
	check_jurisdiction();
	check_actor();
	return ac_test_done();
}
