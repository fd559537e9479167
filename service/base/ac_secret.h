/*
 * Password and PIN hashing with Argon2id (libargon2): memory-hard, so that a
 * stolen table of 6-digit PIN hashes still costs an attacker dearly. The
 * only module that includes argon2.h. Hashing takes tens of milliseconds by
 * design: call it from the uv thread pool or the CLI, never on the loop.
 * Thread-safe.
 */
#ifndef AC_SECRET_H
#define AC_SECRET_H

#include <stddef.h>

/* The encoded hash ($argon2id$v=19$m=...,t=...,p=...$salt$hash) of secret
 * into out (AC_SECRET_HASH_MAX bytes). Returns 0 or a negative code. */
#define AC_SECRET_HASH_MAX 128
int ac_secret_hash(const char *secret, char *out, size_t outsz);

/* 0 when secret matches encoded, AC_EBADSIG when it does not, or another
 * negative code for a malformed hash. */
int ac_secret_verify(const char *encoded, const char *secret);

/* A new bearer token, "ac_" and 48 hex digits (192 random bits), into out
 * (AC_SECRET_TOKEN_SIZE bytes). Only its SHA-256 is ever stored. */
#define AC_SECRET_TOKEN_SIZE 52
int ac_secret_token(char *out, size_t outsz);

#endif
