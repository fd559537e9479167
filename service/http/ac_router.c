#include <string.h>

#include "ac_router.h"

/* What a {name} parameter accepts, and the 404 when it is something else. */
typedef struct param_kind {
	const char *name;
	size_t min, max;
	const char *chars; /* allowed bytes, or NULL for any */
	const char *en, *zh;
} param_kind;

#define DIGITS "0123456789"

static const param_kind kinds[] = {
	{ "serial", 1, 15, DIGITS, "no such certificate", "查不到这张合格证" },
	{ "id", 1, 9, DIGITS, "no such record; check the id", "查不到该记录，请核对编号" },
	{ "job", 1, 18, DIGITS, "no such print job", "没有这个打印任务" },
	{ "kiosk", 1, 64, "abcdefghijklmnopqrstuvwxyz" DIGITS "-_", "no such record; check the id",
	  "查不到该记录，请核对编号" },
	{ "region", 12, 12, DIGITS, "no such record; check the id", "查不到该记录，请核对编号" },
	{ "payload", 0, (size_t)-1, NULL, "", "" },
};

static const param_kind *kind_of(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strlen(kinds[i].name) == len && memcmp(kinds[i].name, name, len) == 0)
			return &kinds[i];
	}
	return NULL;
}

static int accepts(const param_kind *k, const char *s, size_t len)
{
	if (len < k->min || len > k->max)
		return 0;
	for (size_t i = 0; k->chars != NULL && i < len; i++) {
		if (strchr(k->chars, s[i]) == NULL || s[i] == '\0')
			return 0;
	}
	return 1;
}

/*
 * Matches path against pattern segment by segment. Returns 1 with the
 * parameters (and their kinds) recorded in m and kinds_out, else 0.
 */
static int match_path(const char *pattern, const char *path, ac_route_match *m,
		      const param_kind **kinds_out)
{
	const char *p = pattern;
	const char *s = path;

	m->nparams = 0;
	while (*p != '\0') {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			const param_kind *k =
			    close ? kind_of(p + 1, (size_t)(close - p - 1)) : NULL;
			size_t len;

			if (k == NULL || m->nparams == AC_ROUTE_MAX_PARAMS)
				return 0;
			/* {payload} takes the rest; others one segment. */
			len = k->chars == NULL ? strlen(s) : strcspn(s, "/");
			kinds_out[m->nparams] = k;
			m->param[m->nparams] = s;
			m->param_len[m->nparams] = len;
			m->nparams++;
			s += len;
			p = close + 1;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *s == '\0';
}

static int method_ok(const ac_route *route, const char *method)
{
	return strcmp(route->method, method) == 0 ||
	       (strcmp(route->method, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

int ac_router_match(const ac_route_table *const *tables, const char *method, const char *path,
		    ac_route_match *m)
{
	int status = AC_ROUTE_NO_PATH;

	memset(m, 0, sizeof(*m));
	for (size_t t = 0; tables[t] != NULL; t++) {
		for (size_t i = 0; i < tables[t]->n; i++) {
			const ac_route *route = &tables[t]->routes[i];
			const param_kind *k[AC_ROUTE_MAX_PARAMS];
			ac_route_match cand;

			if (!match_path(route->pattern, path, &cand, k))
				continue;
			status = AC_ROUTE_NO_METHOD;
			if (!method_ok(route, method))
				continue;
			*m = cand;
			m->route = route;
			for (int p = 0; p < cand.nparams; p++) {
				if (!accepts(k[p], cand.param[p], cand.param_len[p])) {
					m->not_found_en = k[p]->en;
					m->not_found_zh = k[p]->zh;
					return AC_ROUTE_BAD_PARAM;
				}
			}
			return AC_ROUTE_FOUND;
		}
	}
	return status;
}
