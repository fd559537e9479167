#include <stdio.h>
#include <string.h>

#include "ac_perm.h"

/* Roles as bits, so that a row of the matrix is one mask. */
enum {
	R_PRODUCER = 1 << 0,
	R_PURCHASER = 1 << 1,
	R_INSPECTOR = 1 << 2,
	R_TOWNSHIP = 1 << 3,
	R_COUNTY = 1 << 4,
	R_ADMIN = 1 << 5,
	R_KIOSK = 1 << 6,
	R_SYSTEM = 1 << 7,
	R_STATION = 1 << 8,
};

#define R_ISSUERS    (R_PRODUCER | R_PURCHASER)
#define R_REGULATORS (R_TOWNSHIP | R_COUNTY | R_ADMIN)
#define R_STAFF	     (R_INSPECTOR | R_REGULATORS)

static const struct {
	const char *name;
	int bit;
} roles[] = {
	{ "producer", R_PRODUCER },
	{ "purchaser", R_PURCHASER },
	{ "inspector", R_INSPECTOR },
	{ "township_regulator", R_TOWNSHIP },
	{ "county_regulator", R_COUNTY },
	{ "admin", R_ADMIN },
	{ "kiosk", R_KIOSK },
	{ "system", R_SYSTEM },
	{ "station", R_STATION },
};

/* The permission matrix: who may, and what a refusal says. */
static const struct {
	int who;
	const char *en;
	const char *zh;
} matrix[AC_ACT_COUNT] = {
	[AC_ACT_NONE] = { ~0, "", "" },
	[AC_ACT_ISSUE] = { R_ISSUERS, "only a producer or a purchaser may issue a certificate",
			   "只有生产经营者或收购主体可以开具合格证" },
	[AC_ACT_REPRINT] = { R_ISSUERS, "only the issuer may reprint its labels",
			     "只能补打自己开具的合格证" },
	[AC_ACT_COLLECT] = { R_PURCHASER, "only a purchaser collects certificates",
			     "只有收购主体可以收取合格证" },
	[AC_ACT_STOCK] = { R_PURCHASER, "only a purchaser has stock", "只有收购主体有收货台账" },
	[AC_ACT_READ_EXTERNAL] = { R_PURCHASER | R_STAFF,
				   "external certificates are for the purchaser who registered "
				   "them and staff",
				   "外来合格证仅限登记的收购主体和监管人员查看" },
	[AC_ACT_REVOKE] = { R_REGULATORS, "only a regulator may revoke a certificate",
			    "只有监管人员可以撤销合格证" },
	[AC_ACT_RECALL] = { R_STAFF, "recall reports are for staff", "召回清单仅供监管人员查看" },
	[AC_ACT_RECORD_TEST] = { R_STAFF, "rapid tests are recorded by testing staff",
				 "快检结果由检测人员录入" },
	[AC_ACT_RECORD_OWN_TEST] = { R_PRODUCER, "only a producer records its own tests",
				     "只有生产主体可以录入自己的自检或委托检测结果" },
	[AC_ACT_READ_TESTS] = { R_PRODUCER | R_STAFF,
				"rapid tests are read by their producer and by staff",
				"检测记录仅限生产主体本人和监管人员查看" },
	[AC_ACT_INSPECT] = { R_STAFF, "inspections are recorded and read by inspection staff",
			     "查验记录仅限检查人员和监管人员" },
	[AC_ACT_READ_SUSPICIONS] = { R_REGULATORS, "clone suspicions are for regulators",
				     "疑似复制的追溯码仅供监管人员查看" },
	[AC_ACT_STATS] = { R_REGULATORS, "statistics are for regulators",
			   "统计报表仅供监管人员查看" },
	[AC_ACT_READ_REGISTRY] = { R_STAFF, "reading the registry needs a staff account",
				   "只有监管和执法人员可以查看名录库" },
	[AC_ACT_WRITE_SUBJECTS] = { R_REGULATORS,
				    "only a township or county regulator may change the registry",
				    "只有乡镇或县级监管人员可以修改名录库" },
	[AC_ACT_WRITE_CATALOG] = { R_COUNTY | R_ADMIN,
				   "only a county regulator or an administrator may change this",
				   "只有县级监管人员或系统管理员可以修改此项" },
	[AC_ACT_OWN_CERTS] = { R_ISSUERS,
			       "only a producer or a purchaser has certificates of its own",
			       "只有生产经营者或收购主体有自己开具的合格证" },
	[AC_ACT_ENROL] = { R_STATION | R_REGULATORS,
			   "household producers are enrolled by a village station or a regulator",
			   "农户由村级服务站或乡镇、县级监管人员登记" },
	[AC_ACT_ASSIST] = { R_STATION, "only a village station helps a farmer issue",
			    "只有村级服务站可以帮农户代开合格证" },
	[AC_ACT_SUPERVISE] = { R_REGULATORS,
			       "patrols, quarantine reconciliation and sampling plans are for "
			       "township and county regulators",
			       "巡查、动检证比对和抽检计划仅限乡镇和县级监管人员" },
};

static int role_bit(const ac_principal *p)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (strcmp(p->role, roles[i].name) == 0)
			return roles[i].bit;
	}
	return 0;
}

int ac_perm_may(const ac_principal *p, ac_action act)
{
	if ((unsigned)act >= AC_ACT_COUNT)
		return 0;
	return (matrix[act].who & role_bit(p)) != 0;
}

void ac_perm_refusal(ac_action act, const char **en, const char **zh)
{
	if ((unsigned)act >= AC_ACT_COUNT)
		act = AC_ACT_NONE;
	*en = matrix[act].en[0] ? matrix[act].en : "your account may not do this";
	*zh = matrix[act].zh[0] ? matrix[act].zh : "您的账号无权进行此操作";
}

int ac_perm_is_role(const ac_principal *p, const char *role)
{
	return strcmp(p->role, role) == 0;
}

int ac_perm_is_admin(const ac_principal *p)
{
	return role_bit(p) == R_ADMIN;
}

int ac_perm_is_regulator(const ac_principal *p)
{
	return (role_bit(p) & R_REGULATORS) != 0;
}

int ac_perm_is_staff(const ac_principal *p)
{
	return (role_bit(p) & R_STAFF) != 0;
}

int ac_perm_is_issuer(const ac_principal *p)
{
	return (role_bit(p) & R_ISSUERS) != 0;
}

/* How many trailing digits of a region code a role's jurisdiction leaves open. */
static long long jurisdiction_scale(const ac_principal *p)
{
	switch (role_bit(p)) {
	case R_COUNTY:
		return 1000000;
	case R_TOWNSHIP:
		return 1000;
	default:
		return 0;
	}
}

int ac_perm_covers(const ac_principal *p, int64_t region)
{
	long long scale = jurisdiction_scale(p);

	if (ac_perm_is_admin(p))
		return 1;
	return scale != 0 && p->region_code / scale == region / scale;
}

void ac_perm_range(const ac_principal *p, char lo[24], char hi[24])
{
	long long scale = jurisdiction_scale(p);

	if (ac_perm_is_admin(p) || ac_perm_is_role(p, "inspector")) {
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
	char assisted[32] = "";

	if (p->assisted_by != 0)
		snprintf(assisted, sizeof(assisted), "+assisted_by:%d", p->assisted_by);
	snprintf(out, outsz, "%d:%s%s%s%s", p->subject_id, p->role, p->kiosk_id[0] ? "@" : "",
		 p->kiosk_id, assisted);
}
