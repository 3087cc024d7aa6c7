/*
 * serve_auth.c — a request's credentials against the configured ones.
 *
 * The comparison takes the same time whatever prefix of the secret a
 * guess gets right: every byte of the longer of the two is looked at and
 * the differences are OR'ed together, so timing tells an attacker
 * nothing but the secret's length class. Neither the header nor the
 * secret is ever logged.
 */
#include "serve.h"

#include <microhttpd.h>
#include <string.h>
#include <strings.h>

/* 1 if a[0..na) equals b[0..nb), in time that depends on the lengths only. */
static int same_secret(const char *a, size_t na, const char *b, size_t nb)
{
    size_t n = na > nb ? na : nb;
    volatile unsigned char diff = (unsigned char)(na != nb);
    for (size_t i = 0; i < n; i++) {
        unsigned char x = i < na ? (unsigned char)a[i] : 0;
        unsigned char y = i < nb ? (unsigned char)b[i] : 0;
        diff |= (unsigned char)(x ^ y);
    }
    return diff == 0;
}

static int bearer_ok(const serve_ctx *ctx, const char *header)
{
    static const char scheme[] = "Bearer ";
    if (header == NULL || strncasecmp(header, scheme, sizeof(scheme) - 1) != 0)
        return 0;
    const char *token = header + sizeof(scheme) - 1;
    return same_secret(token, strlen(token), ctx->secret, ctx->secret_len);
}

/* libmicrohttpd decodes the base64 of "user:password"; the two are
 * compared joined, as the file holds them. */
static int basic_ok(const serve_ctx *ctx, struct MHD_Connection *conn)
{
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &pass);
    int ok = 0;
    if (user != NULL && pass != NULL) {
        size_t nu = strlen(user), np = strlen(pass);
        const char *colon = memchr(ctx->secret, ':', ctx->secret_len);
        size_t su = (size_t)(colon - ctx->secret);
        /* Both halves always compared: no early exit on the user. */
        int u = same_secret(user, nu, ctx->secret, su);
        int p = same_secret(pass, np, colon + 1, ctx->secret_len - su - 1);
        ok = u & p;
        explicit_bzero(pass, np);
    }
    MHD_free(user);
    MHD_free(pass);
    return ok;
}

int serve_auth_ok(const serve_ctx *ctx, struct MHD_Connection *conn)
{
    switch (ctx->auth) {
    case SERVE_AUTH_NONE:
        return 1;
    case SERVE_AUTH_BEARER:
        return bearer_ok(
            ctx, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
    case SERVE_AUTH_BASIC:
        return basic_ok(ctx, conn);
    }
    return 0;
}
