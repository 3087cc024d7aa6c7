/*
 * daily_store.c — the collector's tables in the agent's SQLite state, and
 * flushing the pending aggregates into them. Every write happens inside
 * the cycle's transaction (and the source's savepoint), so the tables
 * always match the committed checkpoints. Sums are added in SQL by
 * upserts; costs are stored as whole units and 1e-18 parts and added
 * with a carry, which keeps them exact beyond SQLite's 64-bit integers.
 * Each addition saturates at the bounds of int64 (SQLite would turn an
 * overflowing sum into an inexact REAL); a sum at a bound is reported
 * when the statistics read it (daily_sums_report).
 */
#include "daily.h"

#include "migrate/migrate.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The collector's tables, owner "daily" in schema_versions: step N takes
 * them from version N-1 to N; append only. Step 1 is what the release
 * before schema_versions made, unversioned: IF NOT EXISTS adopts it. */
static const char *const steps[] = {
    "CREATE TABLE IF NOT EXISTS daily_days("
    " date TEXT PRIMARY KEY, start_utc INTEGER NOT NULL,"
    " total INTEGER NOT NULL, error INTEGER NOT NULL,"
    " tok_input INTEGER NOT NULL, tok_output INTEGER NOT NULL,"
    " tok_cache_creation INTEGER NOT NULL, tok_cache_read INTEGER NOT NULL,"
    " cost_total_w INTEGER NOT NULL, cost_total_a INTEGER NOT NULL,"
    " cost_actual_w INTEGER NOT NULL, cost_actual_a INTEGER NOT NULL,"
    " cost_input_w INTEGER NOT NULL, cost_input_a INTEGER NOT NULL,"
    " cost_output_w INTEGER NOT NULL, cost_output_a INTEGER NOT NULL,"
    " cost_cache_creation_w INTEGER NOT NULL, cost_cache_creation_a INTEGER NOT NULL,"
    " cost_cache_read_w INTEGER NOT NULL, cost_cache_read_a INTEGER NOT NULL,"
    " rt_w INTEGER NOT NULL, rt_a INTEGER NOT NULL, rt_count INTEGER NOT NULL,"
    " fallback INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS daily_user_days("
    " date TEXT NOT NULL, user_id BLOB NOT NULL,"
    " total INTEGER NOT NULL, error INTEGER NOT NULL,"
    " tok_input INTEGER NOT NULL, tok_output INTEGER NOT NULL,"
    " tok_cache_creation INTEGER NOT NULL, tok_cache_read INTEGER NOT NULL,"
    " cost_total_w INTEGER NOT NULL, cost_total_a INTEGER NOT NULL,"
    " PRIMARY KEY(date, user_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS daily_values("
    " date TEXT NOT NULL, kind INTEGER NOT NULL, value BLOB NOT NULL,"
    " PRIMARY KEY(date, kind, value)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS daily_candidates("
    " date TEXT NOT NULL, request_id BLOB NOT NULL, n INTEGER NOT NULL,"
    " PRIMARY KEY(date, request_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS daily_inventory("
    " source TEXT NOT NULL, stream INTEGER NOT NULL, id BLOB NOT NULL, active INTEGER NOT NULL,"
    " PRIMARY KEY(source, stream, id)) WITHOUT ROWID;",
    /* 2 (issue 12): a closed day's user row carries the seq of the cycle
     * that last changed it (0: a day not closed yet, or a row from before
     * this version), so a cycle reads what changed on the index. */
    "ALTER TABLE daily_user_days ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX daily_user_days_seq ON daily_user_days(seq);",
    /* 3: each day's distinct models and providers kept in its row,
     * counted when a value is first seen that day, so the statistics of
     * every listed day do not count them again each cycle (a GROUP BY
     * over every value of a year was most of a quiet cycle's work). */
    "ALTER TABLE daily_days ADD COLUMN models INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE daily_days ADD COLUMN providers INTEGER NOT NULL DEFAULT 0;"
    "UPDATE daily_days SET"
    " models = (SELECT count(*) FROM daily_values v WHERE v.date = daily_days.date AND v.kind = "
    "109),"
    " providers = (SELECT count(*) FROM daily_values v WHERE v.date = daily_days.date"
    " AND v.kind = 112);",
};
#define DAILY_OWNER "daily"
#define DAILY_SCHEMA_VERSION ((int)(sizeof(steps) / sizeof(steps[0])))

/* Column groups of the upserts: plain sums, and cost pairs (w, a). */
static const char *const day_sums[] = {
    "total", "error", "tok_input", "tok_output", "tok_cache_creation", "tok_cache_read", NULL};
static const char *const day_costs[] = {
    "cost_total",          "cost_actual",     "cost_input", "cost_output",
    "cost_cache_creation", "cost_cache_read", "rt",         NULL};
static const char *const day_after[] = {"rt_count", "fallback", NULL};
static const char *const user_costs[] = {"cost_total", NULL};
static const char *const none[] = {NULL};
static const char *const user_stamp[] = {"seq", NULL};

#define ATTO_SQL "1000000000000000000"
#define MAX_SQL "9223372036854775807"
#define MIN_SQL "(-9223372036854775807-1)"

__attribute__((format(printf, 3, 4))) static void cat(char *buf, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
}

/* s = s + excluded.s, saturating at the bounds of int64. */
static void sum_sql(char *set, size_t cap, const char *s)
{
    cat(set, cap,
        "%s=CASE WHEN excluded.%s>0 AND %s>" MAX_SQL "-excluded.%s THEN " MAX_SQL
        " WHEN excluded.%s<0 AND %s<" MIN_SQL "-excluded.%s THEN " MIN_SQL
        " ELSE %s+excluded.%s END,",
        s, s, s, s, s, s, s, s, s);
}

/* A cost pair (c_w, c_a) plus excluded's, with the carry of the parts;
 * beyond the whole units' range it stays at the largest (or smallest)
 * value the pair holds. Both assignments read the old row. */
static void cost_sql(char *set, size_t cap, const char *c)
{
    char carry[128], pos[256], neg[256];
    snprintf(carry, sizeof(carry), "(%s_a+excluded.%s_a)/" ATTO_SQL, c, c);
    snprintf(pos, sizeof(pos), "excluded.%s_w>=0 AND %s_w>" MAX_SQL "-excluded.%s_w-%s", c, c, c,
             carry);
    snprintf(neg, sizeof(neg), "excluded.%s_w<0 AND %s_w<" MIN_SQL "-excluded.%s_w-%s", c, c, c,
             carry);
    cat(set, cap,
        "%s_w=CASE WHEN %s THEN " MAX_SQL " WHEN %s THEN " MIN_SQL
        " ELSE %s_w+excluded.%s_w+%s END,"
        "%s_a=CASE WHEN %s THEN 999999999999999999 WHEN %s THEN 0"
        " ELSE (%s_a+excluded.%s_a)%%" ATTO_SQL " END,",
        c, pos, neg, c, c, carry, c, pos, neg, c, c);
}

/* INSERT ... ON CONFLICT DO UPDATE SET each sum += excluded, each cost
 * pair added with its carry, then the plain sums `after`. No RETURNING:
 * it made every upsert about three times as dear (measured: the ingest
 * of 1M rows spent 0.7 G more instructions in SQLite); a sum that
 * saturated here is reported when the statistics read it
 * (daily_sums_report, daily_stats.c). */
static void upsert_sql(char *buf, size_t cap, const char *table, const char *key, int n_key,
                       const char *const *sums, const char *const *costs, const char *const *after,
                       const char *const *replaced)
{
    char cols[1024] = "", vals[512] = "", set[16384] = "";
    int n = n_key;
    cat(cols, sizeof(cols), "%s", key);
    for (size_t i = 0; sums[i]; i++, n++) {
        cat(cols, sizeof(cols), ",%s", sums[i]);
        sum_sql(set, sizeof(set), sums[i]);
    }
    for (size_t i = 0; costs[i]; i++, n += 2) {
        const char *c = costs[i];
        cat(cols, sizeof(cols), ",%s_w,%s_a", c, c);
        cost_sql(set, sizeof(set), c);
    }
    for (size_t i = 0; after[i]; i++, n++) {
        cat(cols, sizeof(cols), ",%s", after[i]);
        sum_sql(set, sizeof(set), after[i]);
    }
    /* Columns that take the new row's value instead of a sum. */
    for (size_t i = 0; replaced[i]; i++, n++) {
        cat(cols, sizeof(cols), ",%s", replaced[i]);
        cat(set, sizeof(set), "%s=excluded.%s,", replaced[i], replaced[i]);
    }
    set[strlen(set) - 1] = '\0';
    for (int i = 0; i < n; i++)
        cat(vals, sizeof(vals), i ? ",?" : "?");
    snprintf(buf, cap, "INSERT INTO %s(%s) VALUES(%s) ON CONFLICT DO UPDATE SET %s", table, cols,
             vals, set);
}

static int prepare(daily_collector *d, const char *sql, sqlite3_stmt **st)
{
    if (sqlite3_prepare_v2(d->db, sql, -1, st, NULL) != SQLITE_OK) {
        d->api->log(d->host, TALLY_LOG_ERR,
                    "could not prepare a statement on the state database: %s; check that "
                    "state_dir holds tally.db of this version",
                    sqlite3_errmsg(d->db));
        return -1;
    }
    return 0;
}

/* The per-day tables that keep_days prunes, each with its primary key:
 * the key starts with the date, so the oldest rows are a range at the
 * key's start and a batch finds them without a scan (EXPLAIN QUERY PLAN:
 * SEARCH ... USING PRIMARY KEY (date<?)). The tables are WITHOUT ROWID,
 * so a batch is named by its whole key. */
static const char *const prune_tables[DAILY_N_PRUNE][2] = {
    {"daily_user_days", "date, user_id"},
    {"daily_values", "date, kind, value"},
    {"daily_candidates", "date, request_id"},
};

static int prune_open(daily_collector *d)
{
    for (int i = 0; i < DAILY_N_PRUNE; i++) {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "DELETE FROM %s WHERE (%s) IN (SELECT %s FROM %s WHERE date < ?1 ORDER BY date "
                 "LIMIT ?2)",
                 prune_tables[i][0], prune_tables[i][1], prune_tables[i][1], prune_tables[i][0]);
        if (prepare(d, sql, &d->st_prune[i]) != 0)
            return -1;
    }
    return 0;
}

int daily_store_open(daily_collector *d)
{
    char msg[1024];
    int from = 0;
    if (migrate_run(d->db, DAILY_OWNER, steps, DAILY_SCHEMA_VERSION, &from, msg, sizeof(msg)) !=
        MIGRATE_OK) {
        d->api->log(d->host, TALLY_LOG_ERR, "%s", msg);
        return -1;
    }
    if (from < DAILY_SCHEMA_VERSION)
        d->api->log(d->host, TALLY_LOG_INFO, "its tables migrated from version %d to %d", from,
                    DAILY_SCHEMA_VERSION);
    char sql[24576];
    upsert_sql(sql, sizeof(sql), "daily_days", "date,start_utc", 2, day_sums, day_costs, day_after,
               none);
    if (prepare(d, sql, &d->st_day) != 0)
        return -1;
    upsert_sql(sql, sizeof(sql), "daily_user_days", "date,user_id", 2, day_sums, user_costs, none,
               user_stamp);
    if (prepare(d, sql, &d->st_user_day) != 0)
        return -1;
    /* Today's (and later) rows: the same sums, seq left alone (0 from
     * the insert). Naming seq in the SET would rewrite its index entry on
     * every update of the day's rows, most of an ingest's writes. */
    upsert_sql(sql, sizeof(sql), "daily_user_days", "date,user_id", 2, day_sums, user_costs, none,
               none);
    if (prepare(d, sql, &d->st_user_day_open) != 0 ||
        prepare(d, "INSERT OR IGNORE INTO daily_values(date,kind,value) VALUES(?,?,?)",
                &d->st_value) != 0 ||
        prepare(d,
                "INSERT INTO daily_candidates(date,request_id,n) VALUES(?,?,?) ON CONFLICT DO "
                "UPDATE SET n=n+excluded.n RETURNING n",
                &d->st_candidate) != 0 ||
        prepare(d, "DELETE FROM daily_inventory WHERE source=? AND stream=?", &d->st_inv_delete) !=
            0 ||
        prepare(d,
                "INSERT OR REPLACE INTO daily_inventory(source,stream,id,active) VALUES(?,?,?,?)",
                &d->st_inv_put) != 0 ||
        prepare(d, "UPDATE daily_user_days SET seq = ?1 WHERE date = ?2", &d->st_stamp) != 0 ||
        prepare(d,
                "UPDATE daily_days SET models = models + (?2 = 109), providers = providers + "
                "(?2 = 112) WHERE date = ?1",
                &d->st_value_count) != 0 ||
        prune_open(d) != 0)
        return -1;
    return 0;
}

void daily_store_close(daily_collector *d)
{
    sqlite3_stmt *all[] = {d->st_day,     d->st_user_day,  d->st_user_day_open,
                           d->st_value,   d->st_candidate, d->st_inv_delete,
                           d->st_inv_put, d->st_stamp,     d->st_value_count};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        sqlite3_finalize(all[i]);
    for (int i = 0; i < DAILY_N_PRUNE; i++)
        sqlite3_finalize(d->st_prune[i]);
}

/* Step st to its end. */
static int step_done(daily_collector *d, sqlite3_stmt *st, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        d->api->log(d->host, TALLY_LOG_ERR,
                    "could not write %s to the state database: %s; this source's data is read "
                    "again next cycle",
                    what, sqlite3_errmsg(d->db));
        return -1;
    }
    return 0;
}

static int bind_cost(sqlite3_stmt *st, int col, tally_fixed v)
{
    int64_t w, a;
    daily_fixed_split(v, &w, &a);
    sqlite3_bind_int64(st, col, w);
    return sqlite3_bind_int64(st, col + 1, a);
}

/* Qualifying candidates first: a request whose count passes 1 in this
 * flush adds one fallback to its day, before the days are written. */
static int flush_candidates(daily_collector *d)
{
    sqlite3_stmt *st = d->st_candidate;
    for (size_t i = 0; i < daily_map_count(&d->candidates); i++) {
        size_t len;
        const char *key = daily_map_key(&d->candidates, i, &len);
        uint32_t slot;
        memcpy(&slot, key, 4);
        int64_t added = *(int64_t *)daily_map_value(&d->candidates, i);
        sqlite3_bind_text(st, 1, d->days[slot].day.date, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 2, key + 5, (int)(len - 5), SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, added);
        int64_t now = added;
        if (sqlite3_step(st) == SQLITE_ROW)
            now = sqlite3_column_int64(st, 0);
        if (step_done(d, st, "candidates") != 0)
            return -1;
        if (now - added <= 1 && now > 1)
            d->days[slot].sums.fallback++;
    }
    return 0;
}

static int flush_days(daily_collector *d)
{
    sqlite3_stmt *st = d->st_day;
    for (size_t i = 0; i < d->n_days; i++) {
        const daily_pending_day *p = &d->days[i];
        const daily_sums *s = &p->sums;
        int c = 1;
        sqlite3_bind_text(st, c++, p->day.date, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, c++, p->day.start_utc);
        sqlite3_bind_int64(st, c++, s->total);
        sqlite3_bind_int64(st, c++, s->error);
        for (int t = 0; t < DAILY_N_TOKENS; t++)
            sqlite3_bind_int64(st, c++, s->tokens[t]);
        for (int k = 0; k < DAILY_N_COSTS; k++, c += 2)
            bind_cost(st, c, s->cost[k]);
        bind_cost(st, c, s->rt_sum);
        c += 2;
        sqlite3_bind_int64(st, c++, s->rt_count);
        sqlite3_bind_int64(st, c++, s->fallback);
        if (step_done(d, st, "a day's sums") != 0)
            return -1;
    }
    return 0;
}

/* The business date of the business clock's now: a row of a date before
 * it belongs to a closed day. */
static int today_date(daily_collector *d, char out[TALLY_DATE_LEN])
{
    tally_day today;
    if (d->api->day_of(d->host, d->api->now(d->host), &today) != TALLY_HOST_OK) {
        d->api->log(d->host, TALLY_LOG_ERR,
                    "the business clock is outside the years 1900..9999, so no day can be told "
                    "closed; the users' days are written when it is back: check --now");
        return -1;
    }
    memcpy(out, today.date, TALLY_DATE_LEN);
    return 0;
}

/* A closed day's row carries this cycle's seq: it changed what the lists
 * show. Today's (and later) rows carry 0 until their day closes
 * (daily_store_stamp_day), so the many writes of the day never count as
 * changes of the lists. */
static int flush_user_days(daily_collector *d)
{
    char today[TALLY_DATE_LEN];
    if (daily_map_count(&d->user_days) == 0)
        return 0;
    if (today_date(d, today) != 0)
        return -1;
    int64_t seq = d->api->cycle_seq(d->host);
    for (size_t i = 0; i < daily_map_count(&d->user_days); i++) {
        size_t len;
        const char *key = daily_map_key(&d->user_days, i, &len);
        const daily_user_sums *s = daily_map_value(&d->user_days, i);
        uint32_t slot;
        memcpy(&slot, key, 4);
        bool closed = strcmp(d->days[slot].day.date, today) < 0;
        sqlite3_stmt *st = closed ? d->st_user_day : d->st_user_day_open;
        int c = 1;
        sqlite3_bind_text(st, c++, d->days[slot].day.date, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, c++, key + 5, (int)(len - 5), SQLITE_STATIC);
        sqlite3_bind_int64(st, c++, s->total);
        sqlite3_bind_int64(st, c++, s->error);
        for (int t = 0; t < DAILY_N_TOKENS; t++)
            sqlite3_bind_int64(st, c++, s->tokens[t]);
        bind_cost(st, c, s->cost);
        if (closed)
            sqlite3_bind_int64(st, c + 2, seq);
        if (step_done(d, st, "a user's day") != 0)
            return -1;
    }
    return 0;
}

/* A value seen on a day; the first time, the day's count of its kind
 * goes up by one (the day's row is written: flush_days ran first). */
static int put_value(daily_collector *d, const char *date, int kind, const char *v, uint32_t len)
{
    sqlite3_stmt *st = d->st_value;
    sqlite3_bind_text(st, 1, date, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, kind);
    sqlite3_bind_blob(st, 3, v, (int)len, SQLITE_STATIC);
    if (step_done(d, st, "a distinct model or provider") != 0)
        return -1;
    if (sqlite3_changes(d->db) == 0)
        return 0;
    sqlite3_bind_text(d->st_value_count, 1, date, -1, SQLITE_STATIC);
    sqlite3_bind_int(d->st_value_count, 2, kind);
    return step_done(d, d->st_value_count, "a day's count of models or providers");
}

/* Each (model, provider) pair, see put_values in daily_agg.c. */
static int flush_values(daily_collector *d)
{
    for (size_t i = 0; i < daily_map_count(&d->values); i++) {
        size_t len;
        const char *key = daily_map_key(&d->values, i, &len);
        uint32_t slot, lens[2];
        memcpy(&slot, key, 4);
        memcpy(lens, key + 5, 8);
        const char *date = d->days[slot].day.date, *model = key + 13;
        const char *provider = model + (lens[0] == UINT32_MAX ? 0 : lens[0]);
        if ((lens[0] != UINT32_MAX && put_value(d, date, DAILY_VALUE_MODEL, model, lens[0]) != 0) ||
            (lens[1] != UINT32_MAX &&
             put_value(d, date, DAILY_VALUE_PROVIDER, provider, lens[1]) != 0))
            return -1;
    }
    return 0;
}

/* A whole inventory replaces what its source sent before; items that
 * came without begin/end are added. An inventory still open waits. */
static int flush_inventories(daily_collector *d)
{
    for (size_t i = 0; i < d->n_inv; i++) {
        daily_inventory *v = &d->inv[i];
        if (v->open)
            continue;
        if (v->replace) {
            sqlite3_bind_text(d->st_inv_delete, 1, v->source, -1, SQLITE_STATIC);
            sqlite3_bind_int(d->st_inv_delete, 2, (int)v->stream);
            if (step_done(d, d->st_inv_delete, "an inventory") != 0)
                return -1;
        }
        for (size_t k = 0; k < daily_map_count(&v->items); k++) {
            size_t len;
            const char *id = daily_map_key(&v->items, k, &len);
            const daily_item *it = daily_map_value(&v->items, k);
            sqlite3_stmt *st = d->st_inv_put;
            sqlite3_bind_text(st, 1, v->source, -1, SQLITE_STATIC);
            sqlite3_bind_int(st, 2, (int)v->stream);
            sqlite3_bind_blob(st, 3, id, (int)len, SQLITE_STATIC);
            sqlite3_bind_int(st, 4, it->is_active);
            if (step_done(d, st, "an inventory item") != 0)
                return -1;
        }
        daily_map_clear(&v->items);
        v->replace = false;
    }
    return 0;
}

int daily_store_flush(daily_collector *d)
{
    if (flush_candidates(d) != 0 || flush_days(d) != 0 || flush_user_days(d) != 0 ||
        flush_values(d) != 0 || flush_inventories(d) != 0)
        return -1;
    return 0;
}

static int exec_dates(daily_collector *d, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *st;
    if (prepare(d, sql, &st) != 0)
        return -1;
    sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
    if (b != NULL)
        sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
    int rc = step_done(d, st, "a change of days");
    sqlite3_finalize(st);
    return rc;
}

/* Run a statement that returns no rows, ready for its next bindings:
 * SQLite's code (SQLITE_DONE when it succeeded). */
static int run_once(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Days older than keep_days leave user_days and the per-day sets; their
 * day rows stay, because the summary counts every day. At most
 * DAILY_PRUNE_BATCH rows of each table go at a time, so a large backlog
 * (keep_days lowered, a long downtime) is spread over cycles instead of
 * stalling one; *more says that a table had more. */
int daily_store_prune(daily_collector *d, const char *before, bool *more)
{
    *more = false;
    for (int i = 0; i < DAILY_N_PRUNE; i++) {
        sqlite3_stmt *st = d->st_prune[i];
        sqlite3_bind_text(st, 1, before, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, DAILY_PRUNE_BATCH);
        if (run_once(st) != SQLITE_DONE) {
            d->api->log(d->host, TALLY_LOG_ERR,
                        "could not prune the days before %s (keep_days) from %s in the state "
                        "database: %s; nothing of this batch was deleted, the next cycle tries "
                        "again",
                        before, prune_tables[i][0], sqlite3_errmsg(d->db));
            return -1;
        }
        if (sqlite3_changes(d->db) >= DAILY_PRUNE_BATCH)
            *more = true;
    }
    return 0;
}

int daily_store_stamp_day(daily_collector *d, const char *date)
{
    sqlite3_stmt *st = d->st_stamp;
    sqlite3_bind_int64(st, 1, d->api->cycle_seq(d->host));
    sqlite3_bind_text(st, 2, date, -1, SQLITE_STATIC);
    if (run_once(st) != SQLITE_DONE) {
        /* The cycle commits without it (a rollover that fails is logged
         * and passed over), so say how to get the day out after all. */
        d->api->log(d->host, TALLY_LOG_ERR,
                    "could not mark the users' days of %s, which just closed, as changed in the "
                    "state database: %s; exporters that write only what changed miss them "
                    "until they change again: run tallyd --recompute %s..%s",
                    date, sqlite3_errmsg(d->db), date, date);
        return -1;
    }
    return 0;
}

int daily_store_forget(daily_collector *d, const char *from, const char *to)
{
    static const char *const tables[] = {"daily_days", "daily_user_days", "daily_values",
                                         "daily_candidates"};
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE date >= ?1 AND date <= ?2", tables[i]);
        if (exec_dates(d, sql, from, to) != 0)
            return -1;
    }
    return 0;
}
