/*
 * The registry (名录库) API: subjects (producers and purchasers) with their
 * credit grades, status and change history; the administrative division tree;
 * markets; the product catalogue; self-service kiosks. JSON in and out under
 * /api/v1/{subjects,regions,markets,products,kiosks}.
 *
 * Who may do what (roles from api_token.role, jurisdiction from ac_perm):
 * reading subjects, markets and kiosks needs a staff token (a producer or
 * purchaser may read only its own subject); regions and products can be read
 * with any valid token; subjects are written by regulators covering the
 * subject's region (old and new); regions, markets, kiosks and products by
 * county regulators (within their county) and admins. Phone numbers and ID
 * numbers are masked for everyone but the regulators covering the subject.
 *
 * Loop thread only.
 */
#ifndef AC_REGISTRY_H
#define AC_REGISTRY_H

#include "ac_http.h"

/*
 * Routes r when its path is under one of the registry's collections: returns
 * 0 when the request is handled (a response is sent now or later, including
 * 404 and 405 for unknown sub-paths and methods), -1 when the path is not the
 * registry's and the caller should keep routing.
 */
int ac_registry_route(ac_req *r);

#endif
