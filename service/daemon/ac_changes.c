#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ac_changes.h"
#include "ac_listen.h"

static void on_token(void *data, const char *payload)
{
	ac_app *app = data;

	if (app->auth != NULL)
		ac_auth_forget_hash(app->auth, payload);
}

static void on_subject(void *data, const char *payload)
{
	ac_app *app = data;

	if (app->auth != NULL)
		ac_auth_forget_subject(app->auth, atoi(payload));
	/* Its name may be on scan answers as an issuer's. */
	ac_lookup_forget(app->lookup, 0, 0);
}

static void on_product(void *data, const char *payload)
{
	ac_app *app = data;

	(void)payload;
	ac_lookup_forget(app->lookup, 0, 0);
}

static void on_certificate(void *data, const char *payload)
{
	ac_app *app = data;
	uint64_t serial = strtoull(payload, NULL, 10);

	/* Serial 0 would drop everything: harmless for a bad payload. */
	ac_lookup_forget(app->lookup, serial, 0);
}

static void on_clone(void *data, const char *payload)
{
	ac_app *app = data;
	unsigned long long serial = 0;
	int item = 0;

	if (sscanf(payload, "%llu %d", &serial, &item) != 2 || item <= 0)
		serial = 0, item = 0;
	ac_lookup_forget(app->lookup, serial, item);
}

static void on_state(void *data, int live)
{
	ac_app *app = data;

	if (app->auth != NULL)
		ac_auth_set_shared(app->auth, live);
	ac_lookup_set_shared(app->lookup, live);
}

/* Every subscriber hears the state; one of them is enough to act on it. */
static void no_state(void *data, int live)
{
	(void)data;
	(void)live;
}

int ac_changes_listen(ac_app *app)
{
	static const struct {
		const char *channel;
		ac_listen_notify_cb cb;
	} subs[] = {
		{ "agricert_token", on_token },	    { "agricert_subject", on_subject },
		{ "agricert_product", on_product }, { "agricert_certificate", on_certificate },
		{ "agricert_clone", on_clone },
	};
	int r = ac_listen_new(app->loop, app->cfg.db, &app->listen);

	for (size_t i = 0; r == 0 && i < sizeof(subs) / sizeof(subs[0]); i++)
		r = ac_listen_on(app->listen, subs[i].channel, subs[i].cb,
				 i == 0 ? on_state : no_state, app);
	if (r == 0)
		ac_listen_start(app->listen);
	return r;
}
