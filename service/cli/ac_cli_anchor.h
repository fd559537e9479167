/*
 * Anchors of the audit chain's head (sql/AUDIT.md, "Anchors"): `agricert
 * audit anchor FILE` signs the head (entry id and hash) with a key kept
 * outside the database, in <keys_dir>/anchor (`agricert key new --anchor`),
 * and appends one line to FILE, a file the operator keeps or publishes:
 *
 *   agricert-anchor-v1 AT ID HASH ALG KID SIG
 *
 * AT the time of anchoring (UTC, "2026-12-02T02:30:00Z"), ID and HASH (64
 * hex digits) the head, ALG "ed25519" or "sm2", KID the anchor key, SIG the
 * signature (128 hex digits) over the line's text before " SIG". `agricert
 * audit verify --anchors FILE` checks every line's signature with the keys of
 * <keys_dir>/anchor (a verifier needs only their <kid>.pub) and then that
 * entry ID of the chain still has hash HASH: a chain rewritten consistently
 * from an entry before an anchor, even by a superuser, no longer matches it.
 * For the agricert CLI only.
 */
#ifndef AC_CLI_ANCHOR_H
#define AC_CLI_ANCHOR_H

#include <stddef.h>
#include <stdio.h>

/* One verified line of an anchors file. */
typedef struct ac_anchor {
	long long id;
	char hash[65];
	char at[32];
	int line;
} ac_anchor;

/* The verified lines of a file, sorted by id. */
typedef struct ac_anchors {
	ac_anchor *v;
	int n;
	const char *path;
} ac_anchors;

/* The anchor keys' directory: <keys_dir>/anchor. */
void ac_cli_anchor_key_dir(const char *keys_dir, char *out, size_t outsz);

/*
 * Reads path and checks each line's signature with the keys of
 * <keys_dir>/anchor. A missing file is an empty list when missing_ok.
 * Returns 0 (*out filled; free with ac_cli_anchors_free), or 2 after
 * "agricert: ..." on stderr (unreadable file, a malformed line, an unknown or
 * revoked key, a bad signature).
 */
int ac_cli_anchors_load(const char *path, const char *keys_dir, int missing_ok, ac_anchors *out);

void ac_cli_anchors_free(ac_anchors *a);

/*
 * agricert audit anchor FILE: verifies the chain (and FILE's earlier anchors),
 * then signs the head it verified and appends its line to FILE (created
 * 0644, flushed to disk). Writes "anchored entry ID HASH in FILE" to out.
 * Returns 0, 1 (the chain is broken: nothing anchored) or 2.
 */
int ac_cli_audit_anchor(const char *conninfo, const char *keys_dir, const char *path, FILE *out);

#endif
