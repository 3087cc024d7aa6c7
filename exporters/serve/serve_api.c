/*
 * serve_api.c — the JSON API (/api/v1/...) and the health checks, each
 * answered from one view (serve.h). Documents are built with jansson;
 * each carries schema_version (SERVE_SCHEMA_VERSION), and their rows
 * have the keys and order of the summary's (exporters/format's fields),
 * so a client reads a day the same way from either.
 *
 * Query parameters are checked strictly: an unknown one, a date that is
 * not YYYY-MM-DD, a limit out of range or a cursor that is not one this
 * API gave out is a 400 with the reason, never a guess.
 */
#include "serve.h"

#include "civil/civil.h"
#include "format_fields.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void serve_api_error(unsigned status, const char *why, serve_reply *out)
{
    json_t *doc = json_pack("{s:i, s:s}", "schema_version", SERVE_SCHEMA_VERSION, "error", why);
    out->status = status;
    out->body = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    out->len = out->body != NULL ? strlen(out->body) : 0;
    out->content_type = "application/json";
    json_decref(doc);
}

/* doc as the reply (taking it): 0, or -1 (out of memory). */
static int reply_json(json_t *doc, unsigned status, serve_reply *out)
{
    out->status = status;
    out->content_type = "application/json";
    out->body = doc != NULL ? json_dumps(doc, JSON_COMPACT) : NULL;
    out->len = out->body != NULL ? strlen(out->body) : 0;
    json_decref(doc);
    return out->body != NULL ? 0 : -1;
}

/* A string, its bytes that are not UTF-8 replaced (as the summary does). */
static json_t *text_value(const char *s, size_t n)
{
    tf_buf b;
    tf_buf_init(&b);
    tf_buf_add_utf8(&b, s, n);
    json_t *v = b.failed ? NULL : json_stringn(b.p != NULL ? b.p : "", b.len);
    tf_buf_free(&b);
    return v;
}

/* One row of a table as the summary writes it. */
static json_t *row_object(tf_table_id table, const void *row)
{
    const tf_table *t = &tf_tables[table];
    json_t *o = json_object();
    for (size_t i = 0; o != NULL && i < t->n_fields; i++) {
        const tf_field *f = &t->fields[i];
        json_t *v = NULL;
        char when[TF_INSTANT_LEN];
        size_t n;
        const char *s;
        switch (f->kind) {
        case TF_INT:
            v = json_integer(tf_field_int(row, f));
            break;
        case TF_REAL:
            v = json_real(tf_field_real(row, f));
            break;
        case TF_INSTANT:
            v = tf_instant(tf_field_int(row, f), when) == 0 ? json_string(when) : json_null();
            break;
        case TF_DATE:
        case TF_STR:
            s = tf_field_text(row, f, &n);
            v = text_value(s, n);
            break;
        }
        if (json_object_set_new(o, f->name, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* The head every document starts with. */
static json_t *doc_head(const tally_snapshot *s)
{
    char generated[TF_INSTANT_LEN], now[TF_INSTANT_LEN];
    if (tf_instant(s->generated_utc, generated) != 0)
        generated[0] = '\0';
    if (tf_instant_frac(s->now_utc, s->now_nsec, now) != 0)
        now[0] = '\0';
    return json_pack("{s:i, s:s, s:s, s:s, s:I}", "schema_version", SERVE_SCHEMA_VERSION,
                     "generated_at", generated, "now", now, "timezone",
                     s->timezone != NULL ? s->timezone : "", "seq", (json_int_t)s->seq);
}

/* The query's parameters: each one named in `known`, at most once. */
typedef struct api_args {
    const char *const *known;
    const char *value[4];
    const char *bad; /* why the query is refused, or NULL */
    char why[160];
} api_args;

static enum MHD_Result take_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    (void)kind;
    api_args *a = cls;
    for (size_t i = 0; a->known[i] != NULL; i++) {
        if (strcmp(key, a->known[i]) != 0)
            continue;
        if (a->value[i] != NULL) {
            snprintf(a->why, sizeof(a->why), "parameter '%.40s' is given twice", key);
            a->bad = a->why;
            return MHD_NO;
        }
        a->value[i] = value != NULL ? value : "";
        return MHD_YES;
    }
    snprintf(a->why, sizeof(a->why), "unknown parameter '%.40s'", key);
    a->bad = a->why;
    return MHD_NO;
}

static const char *read_args(struct MHD_Connection *conn, api_args *a)
{
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, take_arg, a);
    return a->bad;
}

/* "" (absent) or a date YYYY-MM-DD that exists. */
static int date_arg(const char *v)
{
    civil_date d;
    return v == NULL || (strlen(v) == 10 && civil_parse_date(v, 10, &d) == 0);
}

static int answer_days(const tally_snapshot *s, struct MHD_Connection *conn, serve_reply *out)
{
    static const char *const known[] = {"from", "to", NULL};
    api_args a = {.known = known};
    if (read_args(conn, &a) != NULL || !date_arg(a.value[0]) || !date_arg(a.value[1])) {
        serve_api_error(
            MHD_HTTP_BAD_REQUEST,
            a.bad != NULL ? a.bad : "from and to must be dates YYYY-MM-DD (both included)", out);
        return 0;
    }
    json_t *doc = doc_head(s), *days = json_array();
    for (size_t i = 0; doc != NULL && days != NULL && i < s->n_days; i++) {
        const char *date = s->days[i].date;
        if ((a.value[0] != NULL && strncmp(date, a.value[0], 10) < 0) ||
            (a.value[1] != NULL && strncmp(date, a.value[1], 10) > 0))
            continue;
        json_array_append_new(days, row_object(TF_DAYS, &s->days[i]));
    }
    json_object_set_new(doc, "days", days);
    return reply_json(doc, MHD_HTTP_OK, out);
}

static int answer_counters(const tally_snapshot *s, struct MHD_Connection *conn, serve_reply *out)
{
    static const char *const known[] = {"prefix", NULL};
    api_args a = {.known = known};
    if (read_args(conn, &a) != NULL) {
        serve_api_error(MHD_HTTP_BAD_REQUEST, a.bad, out);
        return 0;
    }
    const char *prefix = a.value[0] != NULL ? a.value[0] : "";
    size_t plen = strlen(prefix);
    json_t *doc = doc_head(s), *counters = json_object();
    for (size_t i = 0; doc != NULL && counters != NULL && i < s->n_counters; i++) {
        const char *name = s->counters[i].name;
        if (name == NULL || strncmp(name, prefix, plen) != 0)
            continue;
        json_t *key = text_value(name, strlen(name));
        if (key != NULL)
            json_object_set_new(counters, json_string_value(key),
                                json_integer(s->counters[i].value));
        json_decref(key);
    }
    json_object_set_new(doc, "counters", counters);
    return reply_json(doc, MHD_HTTP_OK, out);
}

/* The day after date (YYYY-MM-DD), for a history read's exclusive end. */
static void next_date(const char *date, char out[TALLY_DATE_LEN])
{
    civil_date d;
    civil_parse_date(date, 10, &d);
    char text[CIVIL_DATE_LEN];
    civil_format_date(civil_date_from_days(civil_days_from_date(d) + 1), text);
    snprintf(out, TALLY_DATE_LEN, "%s", text);
}

/* A user_days cursor: "DATE:USER_ID", the last row a page gave. */
static int cursor_parse(const char *after, char date[TALLY_DATE_LEN], const char **user)
{
    if (after == NULL)
        return 0;
    if (strlen(after) < 11 || after[10] != ':')
        return -1;
    memcpy(date, after, 10);
    date[10] = '\0';
    *user = after + 11;
    return date_arg(date) ? 0 : -1;
}

typedef struct page_query {
    const char *date, *user_id, *after_user;
    char after_date[TALLY_DATE_LEN];
    long limit;
} page_query;

/* Whether row r comes after the cursor (rows are by date, then user_id). */
static int past_cursor(const page_query *p, const tally_user_day_stats *r)
{
    if (p->after_user == NULL)
        return 1;
    int c = strncmp(r->date, p->after_date, 10);
    return c > 0 || (c == 0 && strcmp(r->user_id, p->after_user) > 0);
}

/* Rows past the cursor, up to limit, into rows; *next: a row was left. */
static int read_page(serve_view *v, const page_query *p, json_t *rows, int *next,
                     char last[TALLY_DATE_LEN + 1], char **last_user)
{
    serve_ctx *ctx = v->ctx;
    tally_history_query q;
    memset(&q, 0, sizeof(q));
    q.struct_size = sizeof(q);
    q.table = TALLY_HISTORY_USER_DAYS;
    q.key = p->user_id;
    q.page_rows = (size_t)p->limit + 1;
    const char *from = p->date != NULL ? p->date : p->after_user != NULL ? p->after_date : "";
    snprintf(q.from_date, sizeof(q.from_date), "%s", from);
    if (p->date != NULL)
        next_date(p->date, q.to_date);
    tally_history *it = NULL;
    if (ctx->api->history_open(ctx->host, v->snap, &q, &it) != TALLY_HOST_OK)
        return -1;
    long n = 0;
    int rc = 0;
    *next = 0;
    tally_history_page page;
    while (!*next && (rc = ctx->api->history_next(it, &page)) == TALLY_HOST_OK &&
           page.n_user_days > 0) {
        for (size_t i = 0; i < page.n_user_days; i++) {
            const tally_user_day_stats *r = &page.user_days[i];
            if (!past_cursor(p, r))
                continue;
            if (n == p->limit) {
                *next = 1;
                break;
            }
            json_array_append_new(rows, row_object(TF_USER_DAYS, r));
            memcpy(last, r->date, 10);
            last[10] = '\0';
            free(*last_user);
            *last_user = strdup(r->user_id);
            n++;
        }
    }
    ctx->api->history_close(it);
    return rc == TALLY_HOST_OK ? 0 : -1;
}

_Static_assert(SERVE_PAGE_MAX == 1000, "the limit's message names SERVE_PAGE_MAX");

static int answer_user_days(serve_view *v, struct MHD_Connection *conn, serve_reply *out)
{
    static const char *const known[] = {"date", "user_id", "limit", "after", NULL};
    api_args a = {.known = known};
    page_query p = {.date = NULL, .limit = SERVE_PAGE_DEFAULT};
    const char *bad = read_args(conn, &a);
    char *end = NULL;
    if (bad == NULL && !date_arg(a.value[0]))
        bad = "date must be a date YYYY-MM-DD";
    if (bad == NULL && a.value[2] != NULL &&
        ((p.limit = strtol(a.value[2], &end, 10)) < 1 || p.limit > SERVE_PAGE_MAX || *end != '\0'))
        bad = "limit must be a number from 1 to 1000";
    if (bad == NULL && cursor_parse(a.value[3], p.after_date, &p.after_user) != 0)
        bad = "after must be a cursor this API gave as 'next'";
    if (bad != NULL) {
        serve_api_error(MHD_HTTP_BAD_REQUEST, bad, out);
        return 0;
    }
    p.date = a.value[0];
    p.user_id = a.value[1];
    json_t *doc = doc_head(v->snap), *rows = json_array();
    int next = 0;
    char last[TALLY_DATE_LEN + 1] = "";
    char *last_user = NULL;
    if (doc == NULL || rows == NULL || read_page(v, &p, rows, &next, last, &last_user) != 0) {
        json_decref(doc);
        json_decref(rows);
        free(last_user);
        serve_api_error(MHD_HTTP_INTERNAL_SERVER_ERROR,
                        "the state's user-days could not be read (see the agent's log)", out);
        return 0;
    }
    json_object_set_new(doc, "user_days", rows);
    json_t *cursor = json_null();
    if (next && last_user != NULL) {
        char *text = NULL;
        if (asprintf(&text, "%s:%s", last, last_user) > 0) {
            json_decref(cursor);
            cursor = text_value(text, strlen(text));
        }
        free(text);
    }
    free(last_user);
    json_object_set_new(doc, "next", cursor);
    return reply_json(doc, MHD_HTTP_OK, out);
}

static int answer_summary(serve_view *v, serve_reply *out)
{
    const char *text;
    size_t len;
    if (serve_view_summary(v, &text, &len) != 0) {
        serve_api_error(MHD_HTTP_INTERNAL_SERVER_ERROR,
                        "the summary could not be rendered (see the agent's log)", out);
        return 0;
    }
    out->status = MHD_HTTP_OK;
    out->content_type = "application/json";
    out->body = malloc(len);
    out->len = len;
    if (out->body == NULL)
        return -1;
    memcpy(out->body, text, len);
    return 0;
}

/* /readyz: the last cycle succeeded within two intervals, and no source
 * failed in it. */
/* /healthz: the server runs on its own threads, so answering proves
 * little; the agent's loop is alive while it keeps beginning cycles. One
 * that began none for two intervals and healthz_grace seconds is stuck
 * (a source hanging inside a cycle): 503, so a supervisor can act. */
static void answer_health(serve_ctx *ctx, serve_reply *out)
{
    int64_t began = 0, interval = 0;
    if (!TALLY_API_HAS(ctx->api, loop_alive) ||
        ctx->api->loop_alive(ctx->host, &began, &interval) != TALLY_HOST_OK || began == 0) {
        reply_json(json_pack("{s:i, s:s}", "schema_version", SERVE_SCHEMA_VERSION, "status", "ok"),
                   MHD_HTTP_OK, out);
        return;
    }
    int64_t quiet = (int64_t)time(NULL) - began;
    if (quiet <= 2 * interval + ctx->healthz_grace) {
        reply_json(json_pack("{s:i, s:s, s:I}", "schema_version", SERVE_SCHEMA_VERSION, "status",
                             "ok", "cycle_began_seconds_ago", (json_int_t)quiet),
                   MHD_HTTP_OK, out);
        return;
    }
    reply_json(json_pack("{s:i, s:s, s:I, s:s}", "schema_version", SERVE_SCHEMA_VERSION, "status",
                         "stalled", "cycle_began_seconds_ago", (json_int_t)quiet, "reason",
                         "the agent's loop has begun no cycle for two intervals and "
                         "healthz_grace: a cycle is stuck (see the agent's log)"),
               MHD_HTTP_SERVICE_UNAVAILABLE, out);
}

static void answer_ready(serve_view *v, serve_reply *out)
{
    char why[700] = "";
    if (v == NULL) {
        snprintf(why, sizeof(why), "no snapshot yet: the first cycle has not finished");
    } else {
        const tally_agent_stats *a = v->snap->agent;
        int64_t now = (int64_t)time(NULL);
        int64_t last = a != NULL ? a->last_success_utc : v->snap->generated_utc;
        if (a != NULL && a->interval > 0 && now - last > 2 * a->interval)
            snprintf(why, sizeof(why),
                     "no cycle has succeeded for %lld s, more than two intervals (%lld s); see "
                     "the agent's log",
                     (long long)(now - last), (long long)(2 * a->interval));
        else if (v->failing[0] != '\0')
            snprintf(why, sizeof(why), "%s", v->failing);
    }
    json_t *doc = why[0] != '\0'
                      ? json_pack("{s:i, s:b, s:s}", "schema_version", SERVE_SCHEMA_VERSION,
                                  "ready", 0, "reason", why)
                      : json_pack("{s:i, s:b}", "schema_version", SERVE_SCHEMA_VERSION, "ready", 1);
    reply_json(doc, why[0] != '\0' ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK, out);
}

int serve_api_answer(serve_ctx *ctx, struct MHD_Connection *conn, const char *url, serve_reply *out)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(url, "/healthz") == 0) {
        answer_health(ctx, out);
        return 1;
    }
    serve_view *v = serve_view_get(ctx);
    int known = 1;
    if (strcmp(url, "/readyz") == 0)
        answer_ready(v, out);
    else if (v == NULL && strncmp(url, "/api/v1/", 8) == 0)
        serve_api_error(MHD_HTTP_SERVICE_UNAVAILABLE,
                        "no snapshot yet: the first cycle has not finished", out);
    else if (strcmp(url, "/api/v1/summary") == 0)
        answer_summary(v, out);
    else if (strcmp(url, "/api/v1/days") == 0)
        answer_days(v->snap, conn, out);
    else if (strcmp(url, "/api/v1/user_days") == 0)
        answer_user_days(v, conn, out);
    else if (strcmp(url, "/api/v1/counters") == 0)
        answer_counters(v->snap, conn, out);
    else
        known = 0;
    serve_view_put(v);
    return known;
}
