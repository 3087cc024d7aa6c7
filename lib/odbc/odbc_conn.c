/*
 * odbc_conn.c — see odbc_conn.h.
 */
#include "odbc/odbc_conn.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* ---- the options ---- */

/* ${NAME} references are well formed (their values are looked up when
 * connecting: the environment of `tallyd -t` may not be the daemon's).
 * 0, or -1 with *bad at the first one that is not. */
static int check_refs(const char *s, const char **bad)
{
    for (const char *p = strstr(s, "${"); p != NULL; p = strstr(p + 2, "${")) {
        const char *q = p + 2;
        if (isdigit((unsigned char)*q)) {
            *bad = p;
            return -1;
        }
        while (isalnum((unsigned char)*q) || *q == '_')
            q++;
        if (*q != '}' || q == p + 2) {
            *bad = p;
            return -1;
        }
    }
    return 0;
}

int odbc_conn_check(tally_host *h, const tally_host_api *api, cfg_t *section, const char *example)
{
    int problems = 0;
    char msg[4608]; /* room for a path of PATH_MAX */
    const char *conn = cfg_getstr(section, "connection"), *ref;
    if (conn == NULL || conn[0] == '\0') {
        snprintf(msg, sizeof(msg),
                 "option 'connection' is required; set it to an ODBC connection string, "
                 "e.g. connection = \"%s\"",
                 example);
        api->config_error(h, section, "%s", msg);
        problems++;
    } else if (check_refs(conn, &ref) != 0) {
        snprintf(msg, sizeof(msg),
                 "option 'connection': \"${\" at offset %zu does not start a ${NAME} "
                 "reference; write ${NAME} with NAME made of letters, digits and '_'",
                 (size_t)(ref - conn));
        api->config_error(h, section, "%s", msg);
        problems++;
    }
    const char *pf = cfg_getstr(section, "password_file");
    if (pf != NULL && pf[0] != '/') {
        snprintf(msg, sizeof(msg),
                 "option 'password_file' = \"%s\" must be an absolute path, e.g. "
                 "\"/etc/tally/db.password\"",
                 pf);
        api->config_error(h, section, "%s", msg);
        problems++;
    }
    long timeout = cfg_getint(section, "timeout");
    if (timeout < 0 || timeout > 3600) {
        snprintf(msg, sizeof(msg), "option 'timeout' = %ld is out of range: use 0..3600 seconds",
                 timeout);
        api->config_error(h, section, "%s", msg);
        problems++;
    }
    return problems;
}

/* ---- the connection string ---- */

/* A growing string; `failed` once an allocation failed. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 128;
        while (cap < b->len + n + 1)
            cap *= 2;
        /* Grown by hand, not realloc: the old block may hold a secret
         * that must be wiped, not left behind in freed memory. */
        char *p = malloc(cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        if (b->p != NULL) {
            memcpy(p, b->p, b->len);
            explicit_bzero(b->p, b->cap);
            free(b->p);
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_wipe(sbuf *b)
{
    if (b->p != NULL)
        explicit_bzero(b->p, b->cap);
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int odbc_conn_string(const char *tmpl, const char *password, char **out, char *why, size_t why_len)
{
    sbuf b = {0};
    const char *p = tmpl;
    while (*p != '\0') {
        const char *dollar = strstr(p, "${");
        if (dollar == NULL) {
            sb_add(&b, p, strlen(p));
            break;
        }
        sb_add(&b, p, (size_t)(dollar - p));
        const char *name = dollar + 2, *end = name;
        while (isalnum((unsigned char)*end) || *end == '_')
            end++;
        if (*end != '}' || end == name || isdigit((unsigned char)*name)) {
            snprintf(why, why_len,
                     "\"${\" at offset %zu does not start a ${NAME} reference; write "
                     "${NAME} with NAME made of letters, digits and '_'",
                     (size_t)(dollar - tmpl));
            sb_wipe(&b);
            return -1;
        }
        char var[128];
        size_t n = (size_t)(end - name);
        if (n >= sizeof(var)) {
            snprintf(why, why_len, "the environment variable name at offset %zu is too long",
                     (size_t)(name - tmpl));
            sb_wipe(&b);
            return -1;
        }
        memcpy(var, name, n);
        var[n] = '\0';
        const char *value = getenv(var);
        if (value == NULL) {
            snprintf(why, why_len,
                     "it refers to the environment variable %s, which is not set; set it in "
                     "tallyd's environment (e.g. the systemd unit's Environment=)",
                     var);
            sb_wipe(&b);
            return -1;
        }
        sb_add(&b, value, strlen(value));
        p = end + 1;
    }
    if (password != NULL) {
        /* ODBC quotes a value in braces; a '}' inside is written twice. */
        if (b.len > 0 && b.p[b.len - 1] != ';')
            sb_add(&b, ";", 1);
        sb_add(&b, "PWD={", 5);
        for (const char *q = password; *q; q++) {
            sb_add(&b, q, 1);
            if (*q == '}')
                sb_add(&b, "}", 1);
        }
        sb_add(&b, "}", 1);
    }
    sb_add(&b, "", 0); /* an empty template still gives a string */
    if (b.failed) {
        sb_wipe(&b);
        snprintf(why, why_len, "out of memory");
        return -1;
    }
    *out = b.p;
    return 0;
}

void odbc_conn_string_free(char *s)
{
    if (s != NULL)
        explicit_bzero(s, strlen(s));
    free(s);
}

char *odbc_conn_shown(const char *tmpl)
{
    /* key=value pairs separated by ';'; a value may be {braced; with '}}'}. */
    sbuf b = {0};
    const char *p = tmpl;
    while (*p != '\0') {
        const char *eq = strchr(p, '='), *semi = strchr(p, ';');
        if (eq == NULL || (semi != NULL && semi < eq)) {
            size_t n = semi ? (size_t)(semi - p) + 1 : strlen(p);
            sb_add(&b, p, n);
            p += n;
            continue;
        }
        const char *k = p, *ke = eq;
        while (k < ke && isspace((unsigned char)*k))
            k++;
        while (ke > k && isspace((unsigned char)ke[-1]))
            ke--;
        size_t kn = (size_t)(ke - k);
        bool secret = (kn == 3 && strncasecmp(k, "PWD", 3) == 0) ||
                      (kn == 8 && strncasecmp(k, "PASSWORD", 8) == 0);
        const char *v = eq + 1, *ve = v;
        while (*ve == ' ')
            ve++;
        if (*ve == '{') {
            for (ve++; *ve != '\0'; ve++) {
                if (*ve == '}' && ve[1] == '}')
                    ve++;
                else if (*ve == '}') {
                    ve++;
                    break;
                }
            }
            while (*ve != '\0' && *ve != ';')
                ve++;
        } else {
            ve = strchr(v, ';');
            if (ve == NULL)
                ve = v + strlen(v);
        }
        sb_add(&b, p, (size_t)(v - p));
        if (secret)
            sb_add(&b, "***", 3);
        else
            sb_add(&b, v, (size_t)(ve - v));
        if (*ve == ';') {
            sb_add(&b, ";", 1);
            ve++;
        }
        p = ve;
    }
    sb_add(&b, "", 0);
    if (b.failed) {
        sb_wipe(&b);
        return NULL;
    }
    return b.p;
}

/* ---- diagnostics ---- */

void odbc_diag_get(SQLSMALLINT type, SQLHANDLE h, odbc_diag *d)
{
    d->state[0] = '\0';
    d->text[0] = '\0';
    size_t at = 0;
    for (SQLSMALLINT i = 1; i <= 3; i++) {
        SQLCHAR state[6], msg[512];
        SQLINTEGER native;
        SQLSMALLINT len;
        if (!SQL_SUCCEEDED(SQLGetDiagRec(type, h, i, state, &native, msg, sizeof(msg), &len)))
            break;
        if (i == 1)
            memcpy(d->state, state, 6);
        /* Drivers end messages with newlines and ';'; one line reads better. */
        size_t n = strlen((char *)msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ';' || msg[n - 1] == ' '))
            msg[--n] = '\0';
        for (size_t k = 0; k < n; k++)
            if (msg[k] == '\n' || msg[k] == '\t')
                msg[k] = ' ';
        int w = snprintf(d->text + at, sizeof(d->text) - at, "%s%s (SQLSTATE %s)",
                         i > 1 ? "; " : "", (char *)msg, (char *)state);
        if (w < 0 || (size_t)w >= sizeof(d->text) - at)
            break;
        at += (size_t)w;
    }
    if (d->text[0] == '\0')
        snprintf(d->text, sizeof(d->text), "the driver gave no reason");
}

bool odbc_conn_lost(odbc_conn *c, const odbc_diag *d)
{
    /* The driver's own verdict first, where it has one. */
    SQLUINTEGER dead = SQL_CD_FALSE;
    if (c->connected &&
        SQL_SUCCEEDED(SQLGetConnectAttr(c->dbc, SQL_ATTR_CONNECTION_DEAD, &dead, 0, NULL)) &&
        dead == SQL_CD_TRUE)
        return true;
    /* Class 08 is "connection exception"; HYT01 a connection timeout;
     * PostgreSQL's 57P01..57P03 an administrator's or crash shutdown, or
     * a server still starting; 40001/40P01 are not: a statement lost a
     * conflict and the cycle fails as any other. */
    const char *s = d->state;
    return strncmp(s, "08", 2) == 0 || strcmp(s, "HYT01") == 0 || strncmp(s, "57P0", 4) == 0;
}

/* ---- connecting ---- */

static odbc_dbms dbms_of(const char *name)
{
    if (strncasecmp(name, "PostgreSQL", 10) == 0)
        return ODBC_DBMS_POSTGRESQL;
    if (strncasecmp(name, "SQLite", 6) == 0)
        return ODBC_DBMS_SQLITE;
    return ODBC_DBMS_OTHER;
}

int odbc_exec(odbc_conn *c, const char *sql, odbc_diag *d)
{
    SQLHSTMT st;
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_STMT, c->dbc, &st))) {
        odbc_diag_get(SQL_HANDLE_DBC, c->dbc, d);
        return -1;
    }
    SQLRETURN rc = SQLExecDirect(st, (SQLCHAR *)sql, SQL_NTS);
    int ok = SQL_SUCCEEDED(rc) || rc == SQL_NO_DATA;
    if (!ok)
        odbc_diag_get(SQL_HANDLE_STMT, st, d);
    SQLFreeHandle(SQL_HANDLE_STMT, st);
    return ok ? 0 : -1;
}

int odbc_conn_open(odbc_conn *c, const char *conn_str, long timeout_s, odbc_diag *d)
{
    memset(c, 0, sizeof(*c));
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &c->env))) {
        snprintf(d->text, sizeof(d->text), "unixODBC could not allocate an environment");
        d->state[0] = '\0';
        return -1;
    }
    SQLSetEnvAttr(c->env, SQL_ATTR_ODBC_VERSION, (SQLPOINTER)SQL_OV_ODBC3, 0);
    if (!SQL_SUCCEEDED(SQLAllocHandle(SQL_HANDLE_DBC, c->env, &c->dbc))) {
        odbc_diag_get(SQL_HANDLE_ENV, c->env, d);
        odbc_conn_close(c);
        return -1;
    }
    if (timeout_s > 0) {
        SQLSetConnectAttr(c->dbc, SQL_ATTR_LOGIN_TIMEOUT, (SQLPOINTER)(uintptr_t)timeout_s, 0);
        SQLSetConnectAttr(c->dbc, SQL_ATTR_CONNECTION_TIMEOUT, (SQLPOINTER)(uintptr_t)timeout_s, 0);
    }
    SQLRETURN rc = SQLDriverConnect(c->dbc, NULL, (SQLCHAR *)conn_str, SQL_NTS, NULL, 0, NULL,
                                    SQL_DRIVER_NOPROMPT);
    if (!SQL_SUCCEEDED(rc)) {
        odbc_diag_get(SQL_HANDLE_DBC, c->dbc, d);
        odbc_conn_close(c);
        return -1;
    }
    c->connected = true;
    SQLSMALLINT len = 0;
    if (!SQL_SUCCEEDED(SQLGetInfo(c->dbc, SQL_DBMS_NAME, c->dbms_name, sizeof(c->dbms_name), &len)))
        snprintf(c->dbms_name, sizeof(c->dbms_name), "unknown");
    c->dbms = dbms_of(c->dbms_name);
    /* psqlODBC hands timestamptz values over as wall times in the
     * session's zone, with no offset: in UTC they are the instants. */
    if (c->dbms == ODBC_DBMS_POSTGRESQL && odbc_exec(c, "SET TIME ZONE 'UTC'", d) != 0) {
        odbc_conn_close(c);
        return -1;
    }
    return 0;
}

int odbc_conn_connect(odbc_conn *c, tally_host *h, const tally_host_api *api,
                      const odbc_conn_opts *o, odbc_diag *d)
{
    char *password = NULL, *str = NULL, why[256];
    if (o->password_file != NULL &&
        api->read_secret(h, o->password_file, NULL, &password) != TALLY_HOST_OK) {
        api->log(h, TALLY_LOG_ERR,
                 "the password for the connection cannot be read from %s (see above); make the "
                 "file readable by tallyd",
                 o->password_file);
        return ODBC_FAILED;
    }
    int rc = odbc_conn_string(o->tmpl, password, &str, why, sizeof(why));
    if (password != NULL) {
        explicit_bzero(password, strlen(password));
        free(password);
    }
    if (rc != 0) {
        api->log(h, TALLY_LOG_ERR, "option 'connection' = \"%s\": %s", o->shown, why);
        return ODBC_FAILED;
    }
    rc = odbc_conn_open(c, str, o->timeout_s, d);
    odbc_conn_string_free(str);
    return rc == 0 ? ODBC_OK : ODBC_LOST;
}

void odbc_conn_close(odbc_conn *c)
{
    if (c->connected)
        SQLDisconnect(c->dbc);
    if (c->dbc != NULL)
        SQLFreeHandle(SQL_HANDLE_DBC, c->dbc);
    if (c->env != NULL)
        SQLFreeHandle(SQL_HANDLE_ENV, c->env);
    c->dbc = NULL;
    c->env = NULL;
    c->connected = false;
}

/* ---- backoff ---- */

void odbc_sleep(double seconds)
{
    if (seconds <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)seconds};
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void odbc_backoff_init(odbc_backoff *b, double base, double cap)
{
    b->base = base;
    b->cap = cap;
    b->attempt = 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    b->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)b;
    if (b->rng == 0)
        b->rng = 0x9E3779B97F4A7C15u;
}

double odbc_backoff_next(odbc_backoff *b)
{
    double bound = b->base;
    for (int i = 0; i < b->attempt && bound < b->cap; i++)
        bound *= 2;
    if (bound > b->cap)
        bound = b->cap;
    b->attempt++;
    /* xorshift64: the jitter needs spread, not secrecy. */
    b->rng ^= b->rng << 13;
    b->rng ^= b->rng >> 7;
    b->rng ^= b->rng << 17;
    double u = (double)(b->rng >> 11) / (double)(1ULL << 53);
    /* A floor of a tenth of the base keeps a run of tiny draws from
     * hammering a server that is still starting. */
    double wait = u * bound;
    return wait < b->base / 10 ? b->base / 10 : wait;
}
