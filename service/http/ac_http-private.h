/*
 * Shared by ac_http.c (the h2o server) and ac_handler.c (routing and the
 * handler helper): what the server keeps that the router needs. Not for
 * other modules.
 */
#ifndef AC_HTTP_PRIVATE_H
#define AC_HTTP_PRIVATE_H

#include "ac_http.h"

/* The server's options, as given to ac_http_new. */
const ac_http_opts *ac_http_options(const ac_http *http);
uv_loop_t *ac_http_loop(const ac_http *http);

/*
 * Routes r: returns 0 when a handler (or the router itself) answers it, now
 * or later, or -1 to let the static files answer. Called by the server for
 * every request it accepts.
 */
int ac_handler_dispatch(ac_req *r);

/* Called when r's last reference goes: the helper's bookkeeping ends. */
void ac_handler_release(ac_req *r);

#endif
