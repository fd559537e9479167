/* The router: literal and parameter segments, kinds, HEAD as GET, 404, 405. */
#include <string.h>

#include "ac_router.h"
#include "ac_test.h"

static void h_a(ac_req *r)
{
}

static void h_b(ac_req *r)
{
}

static const ac_route certs[] = {
	AC_ROUTE("POST", "/api/v1/certificates", h_a, .flags = AC_ROUTE_AUTH),
	AC_ROUTE("GET", "/api/v1/certificates/{serial}", h_b, .flags = AC_ROUTE_AUTH),
	AC_ROUTE("POST", "/api/v1/certificates/{serial}/revocation", h_a, .act = AC_ACT_REVOKE),
};

static const ac_route other[] = {
	AC_ROUTE("GET", "/v/{payload}", h_b, .flags = AC_ROUTE_AUTH_OPTIONAL),
	AC_ROUTE("GET", "/api/v1/kiosks/{kiosk}", h_a),
	AC_ROUTE("PATCH", "/api/v1/kiosks/{kiosk}", h_b),
	AC_ROUTE("GET", "/api/v1/regions/{region}", h_a),
	AC_ROUTE("GET", "/api/v1/print-jobs/{job}", h_b),
	AC_ROUTE("POST", "/api/v1/subjects/{id}/grade", h_a),
};

AC_ROUTE_TABLE(cert_table, certs);
AC_ROUTE_TABLE(other_table, other);

static const ac_route_table *const tables[] = { &cert_table, &other_table, NULL };

static const struct {
	const char *method;
	const char *path;
	int want;
	const char *param; /* the first parameter, when found */
	const char *what;
} cases[] = {
	{ "POST", "/api/v1/certificates", AC_ROUTE_FOUND, NULL, "a literal path" },
	{ "GET", "/api/v1/certificates", AC_ROUTE_NO_METHOD, NULL, "known path, other method" },
	{ "GET", "/api/v1/certificates/4096", AC_ROUTE_FOUND, "4096", "a serial" },
	{ "HEAD", "/api/v1/certificates/4096", AC_ROUTE_FOUND, "4096", "HEAD answers as GET" },
	{ "DELETE", "/api/v1/certificates/4096", AC_ROUTE_NO_METHOD, NULL, "405 for DELETE" },
	{ "GET", "/api/v1/certificates/12x", AC_ROUTE_BAD_PARAM, NULL, "a serial with a letter" },
	{ "GET", "/api/v1/certificates/1234567890123456", AC_ROUTE_BAD_PARAM, NULL,
	  "a serial of 16 digits" },
	{ "GET", "/api/v1/certificates/", AC_ROUTE_BAD_PARAM, NULL, "an empty serial" },
	{ "POST", "/api/v1/certificates/77/revocation", AC_ROUTE_FOUND, "77", "an action" },
	{ "POST", "/api/v1/certificates/77/revocation/x", AC_ROUTE_NO_PATH, NULL,
	  "a path longer than any route" },
	{ "GET", "/api/v1/certificates/77/trace", AC_ROUTE_NO_PATH, NULL, "an unknown action" },
	{ "GET", "/v/HTTPS://X/V/ABC", AC_ROUTE_FOUND, "HTTPS://X/V/ABC",
	  "a payload takes the rest of the path" },
	{ "GET", "/api/v1/kiosks/kiosk-fc_01", AC_ROUTE_FOUND, "kiosk-fc_01", "a kiosk id" },
	{ "PATCH", "/api/v1/kiosks/kiosk-fc_01", AC_ROUTE_FOUND, "kiosk-fc_01",
	  "the same path, another method, another route" },
	{ "GET", "/api/v1/kiosks/Kiosk", AC_ROUTE_BAD_PARAM, NULL, "kiosk ids are lower case" },
	{ "GET", "/api/v1/regions/350524103201", AC_ROUTE_FOUND, "350524103201", "a region" },
	{ "GET", "/api/v1/regions/3505", AC_ROUTE_BAD_PARAM, NULL, "a region is 12 digits" },
	{ "GET", "/api/v1/print-jobs/123456789012345678", AC_ROUTE_FOUND, "123456789012345678",
	  "a job id of 18 digits" },
	{ "POST", "/api/v1/subjects/1234567890/grade", AC_ROUTE_BAD_PARAM, NULL,
	  "a record id of 10 digits is no int" },
	{ "GET", "/index.html", AC_ROUTE_NO_PATH, NULL, "a static file is nobody's route" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ac_route_match m;
		int rc = ac_router_match(tables, cases[i].method, cases[i].path, &m);
		int ok = rc == cases[i].want;

		if (ok && cases[i].param != NULL)
			ok = m.nparams >= 1 && m.param_len[0] == strlen(cases[i].param) &&
			     memcmp(m.param[0], cases[i].param, m.param_len[0]) == 0;
		if (ok && rc == AC_ROUTE_BAD_PARAM)
			ok = m.not_found_en != NULL && m.not_found_zh != NULL;
		AC_CHECK(ok, cases[i].what);
	}
	{
		ac_route_match m;

		ac_router_match(tables, "POST", "/api/v1/certificates/9/revocation", &m);
		AC_CHECK(m.route == &certs[2] && m.route->act == AC_ACT_REVOKE,
			 "the match names its route and the action it demands");
		ac_router_match(tables, "GET", "/api/v1/certificates/x", &m);
		AC_CHECK(strcmp(m.not_found_en, "no such certificate") == 0,
			 "a bad serial is a certificate that does not exist");
	}
	return ac_test_done();
}
