/*
 * odbc.c — the odbc source: reads usage, candidates, users or api_keys
 * rows from a database through unixODBC and hands them to the collectors
 * as records.
 *
 * A cycle can be rolled back after collect returns, with the records it
 * emitted and the watermark it put, so collect starts from the committed
 * watermark every time. Within a cycle, a lost connection (the server
 * restarted, the network failed) is retried with backoff for retry_for
 * seconds and reading goes on after the last row handed over in this
 * cycle: those rows are pending in this cycle's transaction, so nothing
 * is lost and nothing counted twice. If the connection does not come
 * back, the cycle fails and the next one starts again from the committed
 * watermark. Any other error (a missing table or column, a bad query,
 * bad credentials) fails this source's cycle at once, with a message
 * naming the instance; the other sources go on.
 */
#include "odbc.h"

#include "civil/civil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- connecting ---- */

/* Connect when not connected: ODBC_OK, or ODBC_FAILED after logging why
 * (the connection string as configured, passwords masked). While
 * retrying a lost connection, a failure is ODBC_LOST instead, its reason
 * in s->lost. */
static int connect_db(odbc_source *s, bool retrying)
{
    if (s->conn.connected)
        return ODBC_OK;
    odbc_conn_opts o = {s->conn_tmpl, s->conn_shown, s->password_file, s->timeout_s};
    odbc_diag d;
    int rc = odbc_conn_connect(&s->conn, s->host, s->api, &o, &d);
    if (rc == ODBC_FAILED)
        return rc;
    if (rc != 0) {
        if (retrying) {
            s->lost = d;
            return ODBC_LOST;
        }
        s->api->log(s->host, TALLY_LOG_ERR,
                    "connecting with \"%s\" failed: %s; check the connection string, the "
                    "driver, the user and password, and that the server runs; trying again next "
                    "cycle",
                    s->conn_shown, d.text);
        return ODBC_FAILED;
    }
    s->api->log(s->host, TALLY_LOG_INFO, "connected to %s", s->conn.dbms_name);
    return ODBC_OK;
}

static void disconnect(odbc_source *s)
{
    odbc_plan_free(s);
    odbc_conn_close(&s->conn);
}

/* Connected, the result described and its columns bound. */
static int ready(odbc_source *s, bool retrying)
{
    int rc = connect_db(s, retrying);
    if (rc != ODBC_OK)
        return rc;
    if (s->planned)
        return ODBC_OK;
    rc = odbc_plan(s);
    if (rc == ODBC_OK && (rc = odbc_bind(s)) != ODBC_OK) {
        if (rc != ODBC_LOST)
            s->api->log(s->host, TALLY_LOG_ERR, "binding the result's columns failed");
        odbc_plan_free(s);
    }
    return rc;
}

/* ---- pages ---- */

typedef struct pages {
    odbc_key *key;        /* the position: moves after each array handed over */
    const odbc_key *upto; /* recompute: stop after it */
    size_t rows;          /* rows fetched by the current query */
    uint64_t total;       /* rows fetched in this collect */
} pages;

static int hand_over(odbc_source *s, void *arg)
{
    pages *p = arg;
    size_t good = 0;
    if (odbc_rows_convert(s, &good) != 0)
        return ODBC_FAILED;
    if (good > 0 && s->api->emit_records(s->host, s->recs, good) != TALLY_HOST_OK) {
        s->api->log(s->host, TALLY_LOG_ERR, "handing %zu records to the collector failed", good);
        return ODBC_FAILED;
    }
    /* The last row, handed over or set aside, is where the next page
     * starts. */
    if (p->key != NULL && odbc_key_from_row(s, s->fetched - 1, p->key) != 0)
        return ODBC_FAILED;
    p->rows += s->fetched;
    p->total += s->fetched;
    return ODBC_OK;
}

/* Pages after p->key until one comes back short. */
static int read_pages(odbc_source *s, pages *p)
{
    for (;;) {
        char *sql = odbc_page_sql(s, p->key, p->upto);
        if (sql == NULL)
            return ODBC_FAILED;
        p->rows = 0;
        int rc = odbc_run(s, sql, hand_over, p);
        free(sql);
        if (rc != ODBC_OK)
            return rc;
        if (p->rows < s->batch_rows)
            return ODBC_OK;
    }
}

/* An inventory, whole: begin, every item, end. After a lost connection
 * it starts over, and begin forgets what the first try sent. */
static int read_inventory(odbc_source *s, pages *p)
{
    s->rejected = 0;
    s->rejects_shown = 0;
    if (s->api->inventory_begin(s->host, s->stream) != TALLY_HOST_OK)
        return ODBC_FAILED;
    char *sql = odbc_page_sql(s, NULL, NULL);
    if (sql == NULL)
        return ODBC_FAILED;
    int rc = odbc_run(s, sql, hand_over, p);
    free(sql);
    if (rc == ODBC_OK && s->api->inventory_end(s->host, s->stream) != TALLY_HOST_OK)
        rc = ODBC_FAILED;
    return rc;
}

typedef int (*step_fn)(odbc_source *s, pages *p);

/* Run a step; when the connection is lost, reconnect with backoff and
 * run it again (it goes on from p->key) for up to retry_for seconds. */
static int with_retries(odbc_source *s, step_fn step, pages *p)
{
    const double deadline = civil_mono_seconds() + s->retry_for;
    odbc_backoff b;
    odbc_backoff_init(&b, 0.25, 8.0);
    bool retrying = false;
    for (;;) {
        int rc = ready(s, retrying);
        if (rc == ODBC_OK)
            rc = step(s, p);
        if (rc != ODBC_LOST)
            return rc;
        disconnect(s);
        double now = civil_mono_seconds();
        if (now >= deadline) {
            s->api->log(s->host, TALLY_LOG_ERR,
                        "the connection to the database is lost (%s) and did not come back "
                        "within retry_for (%.0f s); what this cycle read is not counted, and the "
                        "next cycle starts again from the last committed position",
                        s->lost.text, s->retry_for);
            return ODBC_FAILED;
        }
        double wait = odbc_backoff_next(&b);
        if (wait > deadline - now)
            wait = deadline - now;
        s->api->log(s->host, TALLY_LOG_WARNING,
                    "the connection to the database is lost (%s); connecting again in %.2f s "
                    "(attempt %d), then reading on after the last row handed over",
                    s->lost.text, wait, b.attempt);
        odbc_sleep(wait);
        retrying = true;
    }
}

/* ---- the plugin ---- */

static bool is_inventory(const odbc_source *s)
{
    return s->stream == TALLY_STREAM_USERS || s->stream == TALLY_STREAM_API_KEYS;
}

static void cycle_start(odbc_source *s)
{
    s->rejected = 0;
    s->rejects_shown = 0;
    rec_conv_reset(&s->conv);
    /* The table's columns may have changed since the last cycle. */
    odbc_plan_free(s);
}

/* The watermark's age in seconds, when its created_at reads as an
 * instant (a time column; an epoch number or other text does not): 0,
 * or -1 to leave the figure out. */
static int watermark_age(odbc_source *s, const odbc_key *key, double *age)
{
    int64_t ns;
    bool naive = false;
    if (!key->set || key->created == NULL ||
        rec_parse_time(key->created, strlen(key->created), REC_TIME_ISO8601, &ns, &naive) != 0 ||
        (naive && rec_conv_naive(&s->conv, ns, &ns) != 0))
        return -1;
    *age = (double)s->api->now(s->host) - (double)ns / 1e9;
    return 0;
}

/* The agent's figures (plugin.h, metric): rows fetched, and how far the
 * watermark is behind the clock. */
static void report_figures(odbc_source *s, const odbc_key *key)
{
    if (!TALLY_API_HAS(s->api, metric))
        return;
    s->api->metric(s->host, "rows_read_total", TALLY_METRIC_COUNTER, (double)s->rows_read,
                   "Rows fetched from the database.");
    double age;
    if (key != NULL && watermark_age(s, key, &age) == 0)
        s->api->metric(s->host, "watermark_age_seconds", TALLY_METRIC_GAUGE, age,
                       "Seconds between now and the created_at of the last row read.");
}

static int odbc_collect(void *ctx)
{
    odbc_source *s = ctx;
    cycle_start(s);
    odbc_key key;
    if (odbc_key_load(s, &key) != 0)
        return TALLY_HOST_ERR;
    pages p = {.key = &key};
    int rc;
    if (is_inventory(s)) {
        p.key = NULL;
        rc = with_retries(s, read_inventory, &p);
    } else {
        rc = with_retries(s, read_pages, &p);
        if (rc == ODBC_OK && odbc_key_store(s, &key) != 0)
            rc = ODBC_FAILED;
    }
    if (rc == ODBC_OK && s->rejected > 0 &&
        s->api->count_rejected(s->host, s->rejected) != TALLY_HOST_OK)
        rc = ODBC_FAILED;
    if (rc == ODBC_OK && p.total > 0)
        s->api->log(s->host, TALLY_LOG_DEBUG, "read %llu rows (%lld set aside)",
                    (unsigned long long)p.total, (long long)s->rejected);
    s->rows_read += p.total;
    if (rc == ODBC_OK)
        report_figures(s, is_inventory(s) ? NULL : &key);
    odbc_key_free(&key);
    /* The bound arrays (up to 64 MiB) are not kept while the agent waits
     * for the next cycle, which describes the result again anyway. */
    odbc_plan_free(s);
    return rc == ODBC_OK ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

/* The rows up to the committed watermark, again; the agent keeps those
 * created in the range it recomputes. */
static int odbc_recompute(void *ctx, int64_t from_utc, int64_t to_utc)
{
    odbc_source *s = ctx;
    if (is_inventory(s))
        return TALLY_HOST_OK;
    cycle_start(s);
    odbc_key upto, key = {0};
    if (odbc_key_load(s, &upto) != 0)
        return TALLY_HOST_ERR;
    int rc = ODBC_OK;
    if (upto.set) {
        pages p = {.key = &key, .upto = &upto};
        rc = with_retries(s, read_pages, &p);
    }
    odbc_key_free(&key);
    odbc_key_free(&upto);
    odbc_plan_free(s);
    return rc == ODBC_OK ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

static void odbc_stop(void *ctx)
{
    odbc_source *s = ctx;
    if (s == NULL)
        return;
    disconnect(s);
    if (s->c_locale)
        freelocale(s->c_locale);
    odbc_conf_free(s);
}

static int odbc_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    odbc_source *s;
    if (odbc_conf_build(h, api, section, &s) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    s->conv.stream = s->stream;
    s->conv.time_format = REC_TIME_ISO8601;
    s->conv.naive = s->naive;
    s->conv.naive_offset_s = s->naive_offset_s;
    s->conv.allow_negative = s->allow_negative;
    s->conv.host = h;
    s->conv.api = api;
    s->created_col = s->id_col = -1;
    s->c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (s->c_locale == (locale_t)0) {
        api->log(h, TALLY_LOG_ERR, "starting failed: out of memory");
        odbc_stop(s);
        return TALLY_HOST_ERR;
    }
    /* No connection yet: the first cycle connects, so a database that is
     * down at start delays nothing else. */
    *ctx = s;
    return TALLY_HOST_OK;
}

/* clang-format off */
TALLY_PLUGIN_DEFINE(
    .name = "odbc",
    .kind = TALLY_PLUGIN_SOURCE,
    .summary = "usage, candidates, users or api_keys rows from a database through unixODBC " "(keyset pages on created_at, id)",
    .options = odbc_options,
    .check = odbc_conf_check,
    .init = odbc_init,
    .stop = odbc_stop,
    .source = {
        .collect = odbc_collect,
        .recompute = odbc_recompute,
    });
/* clang-format on */
