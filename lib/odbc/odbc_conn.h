/*
 * odbc_conn.h — what the odbc source and the sql exporter share about
 * talking to a database through unixODBC: the connection string (with
 * ${ENV} expanded and a password added from a file, and a form safe to
 * log), connecting and disconnecting, which database is on the other end,
 * the driver's diagnostics as one line, telling a lost connection from
 * any other error, and the backoff between reconnection attempts.
 *
 * Secrets: the expanded string is handed to the driver and wiped after;
 * only odbc_conn_shown's form, which masks passwords and keeps ${NAME}
 * unexpanded, ever reaches a message.
 */
#ifndef TALLY_LIB_ODBC_CONN_H
#define TALLY_LIB_ODBC_CONN_H

#include <sql.h>
#include <sqlext.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tally/plugin.h"

/* What became of a step that talks to the database. */
enum {
    ODBC_OK = 0,
    ODBC_FAILED = -1, /* an error retrying cannot fix: logged */
    ODBC_LOST = -2,   /* the connection is gone: reconnect and go on */
};

/* The databases whose differences tally knows. */
typedef enum odbc_dbms {
    ODBC_DBMS_OTHER = 0,
    ODBC_DBMS_POSTGRESQL,
    ODBC_DBMS_SQLITE,
} odbc_dbms;

typedef struct odbc_conn {
    SQLHENV env;
    SQLHDBC dbc;
    bool connected;
    odbc_dbms dbms;
    char dbms_name[64]; /* SQL_DBMS_NAME, for messages */
} odbc_conn;

/* A driver's diagnostics: the first record's SQLSTATE and the messages
 * of up to three records, joined. */
typedef struct odbc_diag {
    char state[6];
    char text[768];
} odbc_diag;

/* The options every ODBC plugin has, checked: connection (required, its
 * ${NAME} references well formed; `example` shows one in the message),
 * password_file (an absolute path) and timeout (0..3600). Each problem
 * goes to api->config_error, naming the option; returns how many there
 * were. */
int odbc_conn_check(tally_host *h, const tally_host_api *api, cfg_t *section,
                    const char *example);

/* The template with every ${NAME} replaced by the environment variable's
 * value and, when password is not NULL, ";PWD={password}" appended (a '}'
 * in it doubled, as ODBC quotes). 0 and *out (malloc'd; wipe it with
 * odbc_conn_string_free), or -1 with *why naming the problem (an unset
 * variable by its name; never a value). */
int odbc_conn_string(const char *tmpl, const char *password, char **out, char *why, size_t why_len);
void odbc_conn_string_free(char *s);
/* The template for messages: PWD and PASSWORD values as "***" (malloc'd,
 * NULL when out of memory). */
char *odbc_conn_shown(const char *tmpl);

/* Connect with conn_str; login and connection timeouts of timeout_s
 * seconds (0: the driver's). On a PostgreSQL server the session's time
 * zone is set to UTC, so timestamptz values arrive as UTC wall times.
 * 0, or -1 with *d (the driver's words). */
int odbc_conn_open(odbc_conn *c, const char *conn_str, long timeout_s, odbc_diag *d);
void odbc_conn_close(odbc_conn *c);

/* What a plugin's connection is made of (its options). */
typedef struct odbc_conn_opts {
    const char *tmpl;          /* the connection option as configured */
    const char *shown;         /* odbc_conn_shown(tmpl), for messages */
    const char *password_file; /* or NULL */
    long timeout_s;
} odbc_conn_opts;

/* Connect as a plugin does: the password read from password_file with
 * api->read_secret and added to the template, every copy wiped after.
 * ODBC_OK; ODBC_FAILED after logging why (the secret file, the
 * template); or ODBC_LOST when the driver could not connect: *d says why,
 * nothing is logged, the caller says what it does next. */
int odbc_conn_connect(odbc_conn *c, tally_host *h, const tally_host_api *api,
                      const odbc_conn_opts *o, odbc_diag *d);

/* The diagnostics of a handle after a failed call. */
void odbc_diag_get(SQLSMALLINT type, SQLHANDLE h, odbc_diag *d);
/* Whether an error means the connection is gone (the server restarted or
 * went away, the network failed), as opposed to a problem with the
 * statement or the credentials that trying again cannot fix. */
bool odbc_conn_lost(odbc_conn *c, const odbc_diag *d);

/* Run one statement that returns no rows: 0, or -1 with *d. */
int odbc_exec(odbc_conn *c, const char *sql, odbc_diag *d);

/* Waits between reconnection attempts: exponential from base to cap
 * seconds, each drawn at random below the bound (full jitter), so many
 * agents that lost one server do not come back in step. */
typedef struct odbc_backoff {
    double base, cap;
    int attempt;
    uint64_t rng;
} odbc_backoff;

void odbc_backoff_init(odbc_backoff *b, double base, double cap);
double odbc_backoff_next(odbc_backoff *b);
/* Sleeping (EINTR resumed); deadlines are on civil_mono_seconds. */
void odbc_sleep(double seconds);

#endif
