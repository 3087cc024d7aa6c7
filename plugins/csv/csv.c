/*
 * csv.c — the csv source: reads CSV files of one stream (usage,
 * candidates, users or api_keys) and hands their rows to the collectors
 * as records.
 *
 * usage and candidates are read incrementally: each file from the offset
 * its checkpoint entry has to its last complete row. users and api_keys
 * are inventories: when any of their files changes, all of them are read
 * again and sent whole.
 *
 * A cycle can be rolled back after collect returns, with the records it
 * emitted and the checkpoint it put. So collect starts from the committed
 * checkpoint every time and trusts no position it remembers; what it
 * keeps between cycles is buffers and open file descriptors, checked
 * against the checkpoint's inodes before use.
 *
 * A row that cannot be read goes to the reject file and is counted; it
 * never stops the file. A file that cannot be read (no header, a missing
 * required column, damaged gzip) is logged and left until it changes,
 * while the other files go on.
 */
#include "csv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The header row is looked for in a read this small first: most headers
 * are short, and a file that has only a header needs nothing more. */
#define HEADER_READ (64u * 1024u)

enum read_mode {
    MODE_COLLECT,   /* new rows: emit, reject bad ones */
    MODE_INVENTORY, /* a whole file for an inventory */
    MODE_RECOMPUTE, /* consumed rows again: emit those in range, reject nothing */
};

/* One read of one file. */
typedef struct read_job {
    csv_entry *en;
    const char *path; /* its name now, for messages */
    int fd;
    bool gz;
    uint64_t limit; /* plain: the size to stop at */
    bool final;     /* it will not grow: a last line without LF is a row */
    enum read_mode mode;
    uint64_t start;       /* content offset to start at (en->offset, or 0) */
    uint64_t stop_at;     /* do not read beyond (recompute) */
    uint64_t reject_from; /* inventory: rows before it were judged before */
    int64_t from_ns, to_ns;
    /* For a file without a header row: the header of the files before it. */
    const char *sibling_header;
    /* Results. */
    uint64_t line;   /* lines consumed */
    bool header_ok;  /* a column map was made */
    bool in_discard; /* stopped inside an over-long row */
} read_job;

/* ---- the scanner ---- */

static int scanner_renew(csv_source *s)
{
    csv_limits lim = {
        .max_fields = 0,
        .max_field_bytes = s->max_field_bytes,
        .max_row_bytes = s->row_limit,
    };
    csv_scanner_free(s->scanner);
    s->scanner = NULL;
    return csv_scanner_new(&lim, &s->scanner);
}

/* ---- the header ---- */

/* Parse a stored header row into m. 0, or -1 with *missing or *reason. */
static int map_text(csv_source *s, const char *text, rec_colmap *m, rec_field_id *missing,
                    const char **reason)
{
    csv_row row;
    size_t used;
    *reason = NULL;
    int rc = csv_scan_last_row(s->scanner, text, strlen(text), &row, &used, reason);
    if (rc != CSV_ROW) {
        if (*reason == NULL)
            *reason = "it is empty";
        return -1;
    }
    return rec_colmap_build(s->stream, (const char *const *)s->names, row.fields, row.n_fields, m,
                            missing);
}

/* Read the file's first row into the block (from content offset 0):
 * CSV_ROW with *row and *used, CSV_BAD with *reason, CSV_NEED_MORE when
 * it is not complete yet, or -1 with *why (read error). */
static int read_first_row(csv_source *s, read_job *j, csv_input *in, csv_row *row, size_t *used,
                          const char **reason, const char **why)
{
    csv_block *b = &s->block;
    size_t want = HEADER_READ;
    bool last = false;
    for (;;) {
        const char *p = b->buf + b->head;
        size_t len = b->tail - b->head;
        int rc = last ? csv_scan_last_row(s->scanner, p, len, row, used, reason)
                      : csv_scan_row(s->scanner, p, len, row, used, reason);
        if (rc != CSV_NEED_MORE || *used > 0)
            return rc;
        if (last)
            return CSV_NEED_MORE;
        size_t got;
        if (csv_block_fill(b, in, want, &got, why) != 0)
            return -1;
        want = CSV_READ_BLOCK;
        if (got == 0) {
            if (!(in->at_end && in->complete && j->final))
                return CSV_NEED_MORE;
            last = true;
        }
    }
}

/* Place the block at content offset `to`, for a read that goes on from
 * there: 0; 1 when the content ends before it; -1 with *why. */
static int seek_to(csv_source *s, csv_input *in, uint64_t to, const char **why)
{
    csv_block *b = &s->block;
    if (to >= b->base && to <= b->base + b->tail) {
        b->head = (size_t)(to - b->base);
        return 0;
    }
    int rc = csv_input_skip(in, to, b->buf, b->cap, why);
    csv_block_reset(b, to);
    return rc;
}

static void header_missing(csv_source *s, read_job *j, rec_field_id missing)
{
    const char *name = rec_field_name(missing);
    const char *header = s->names[missing] ? s->names[missing] : name;
    s->api->log(s->host, TALLY_LOG_ERR,
                "%s:1: the header has no column '%s' for the required field %s of stream %s; "
                "the file is skipped until it changes: add the column, or name the one to use "
                "with columns = {\"%s=<its header>\"}",
                j->path, header, name, rec_stream_name(s->stream), name);
}

/* The first row of a file is no header. After copytruncate the writer
 * goes on without one, so the truncated file (and later copies of it)
 * start with data: read them with the header the content had before
 * (the entry's, inherited at the truncation), or else with the header of
 * the files before it — if the first row reads as data with it, so that
 * a header with a typo is still reported. 0 with *m; 1 when no header
 * fits; -1 when out of memory. */
static int headerless(csv_source *s, read_job *j, const csv_row *first, rec_colmap *m)
{
    csv_entry *en = j->en;
    const char *candidates[2] = {en->header, j->sibling_header};
    if (j->start != 0)
        return 1;
    size_t n_fields = first->n_fields;
    for (int i = 0; i < 2; i++) {
        rec_colmap old;
        rec_field_id missing;
        const char *reason;
        tally_record *r;
        if (candidates[i] == NULL || map_text(s, candidates[i], &old, &missing, &reason) != 0 ||
            old.n_cols != n_fields)
            continue;
        /* map_text used the scanner, whose memory the first row's fields
         * may be in: scan the row again (a final one may lack its LF). */
        csv_row again;
        size_t used, len = s->block.tail - s->block.head;
        const char *p = s->block.buf + s->block.head;
        int rc = csv_scan_row(s->scanner, p, len, &again, &used, &reason);
        if (rc == CSV_NEED_MORE && used == 0)
            rc = csv_scan_last_row(s->scanner, p, len, &again, &used, &reason);
        if (rc != CSV_ROW || rec_conv_row(&s->conv, &old, again.fields, s->block.buf,
                                          s->block.buf + s->block.cap, &s->batch, &r) != 0)
            continue;
        if (candidates[i] != en->header) {
            char *copy = strdup(candidates[i]);
            if (copy == NULL)
                return -1;
            free(en->header);
            en->header = copy;
        }
        en->header_in_file = false;
        en->data_start = 0;
        *m = old;
        j->line = 0;
        j->header_ok = true;
        s->api->log(s->host, TALLY_LOG_INFO,
                    "%s has no header row (left by copytruncate?): reading it with the header "
                    "%s",
                    j->path, i == 0 ? "its content had before" : "of the files before it");
        return 0;
    }
    return 1;
}

/* Make the column map for j and place the block where rows start.
 * 0 (j->header_ok says whether there is a map); -1 with *why when
 * reading failed. */
static int start_file(csv_source *s, read_job *j, csv_input *in, rec_colmap *m, const char **why)
{
    csv_entry *en = j->en;
    rec_field_id missing;
    const char *reason = NULL;
    j->header_ok = false;
    csv_block_reset(&s->block, 0);
    /* A file without a header row, or one read before: the stored header. */
    if (en->header != NULL && (!en->header_in_file || j->start > 0)) {
        if (map_text(s, en->header, m, &missing, &reason) != 0) {
            if (reason != NULL)
                s->api->log(s->host, TALLY_LOG_ERR,
                            "%s: the header kept in the checkpoint cannot be read (%s); the "
                            "file is skipped",
                            j->path, reason);
            else
                header_missing(s, j, missing);
            return 0;
        }
        uint64_t to = j->start;
        int rc = seek_to(s, in, to, why);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            s->api->log(s->host, TALLY_LOG_WARNING,
                        "%s: its content ends before byte %" PRIu64 " where reading stopped; "
                        "nothing read",
                        j->path, to);
            return 0;
        }
        j->line = j->start > 0 ? en->line : 0;
        j->header_ok = true;
        return 0;
    }
    csv_row row;
    size_t used;
    int rc = read_first_row(s, j, in, &row, &used, &reason, why);
    if (rc < 0)
        return -1;
    if (rc == CSV_NEED_MORE) {
        /* No whole header yet: wait for it, unless the file is done. */
        if (j->final)
            s->api->log(s->host, TALLY_LOG_ERR,
                        "%s: the file is empty or its header row is not complete; it is "
                        "skipped until it changes",
                        j->path);
        return 0;
    }
    if (rc == CSV_BAD) {
        s->api->log(s->host, TALLY_LOG_ERR,
                    "%s:1: the header row cannot be read: %s; the file is skipped until it "
                    "changes",
                    j->path, reason);
        return 0;
    }
    const char *raw = s->block.buf + s->block.head;
    size_t raw_len = used;
    while (raw_len > 0 && (raw[raw_len - 1] == '\n' || raw[raw_len - 1] == '\r'))
        raw_len--;
    if (rec_colmap_build(s->stream, (const char *const *)s->names, row.fields, row.n_fields, m,
                         &missing) != 0) {
        int hrc = headerless(s, j, &row, m);
        if (hrc < 0)
            *why = "out of memory";
        else if (hrc > 0)
            header_missing(s, j, missing);
        return hrc < 0 ? -1 : 0;
    }
    if (raw_len > CSV_HEADER_MAX) {
        s->api->log(s->host, TALLY_LOG_ERR,
                    "%s:1: the header row is %zu bytes long, more than %u; the file is skipped",
                    j->path, raw_len, CSV_HEADER_MAX);
        return 0;
    }
    if (j->start == 0) {
        char *copy = strndup(raw, raw_len);
        if (copy == NULL) {
            *why = "out of memory";
            return -1;
        }
        free(en->header);
        en->header = copy;
        en->header_in_file = true;
        en->data_start = (uint32_t)used;
        s->block.head += used;
        j->line = row.lines;
        j->header_ok = true;
        return 0;
    }
    /* Going on inside a file whose header was not kept. */
    if (en->header == NULL && (en->header = strndup(raw, raw_len)) == NULL) {
        *why = "out of memory";
        return -1;
    }
    rc = seek_to(s, in, j->start, why);
    if (rc < 0)
        return -1;
    j->line = en->line;
    j->header_ok = rc == 0;
    return 0;
}

/* ---- rows ---- */

static bool blank_row(const csv_row *row, size_t used)
{
    return row->n_fields == 1 && row->fields[0].len == 0 && used <= 2;
}

static int64_t created_ns(const tally_record *r)
{
    return r->stream == TALLY_STREAM_USAGE ? r->u.usage.created_ns : r->u.candidate.created_ns;
}

static int reject(csv_source *s, read_job *j, uint64_t row_off, uint64_t row_line,
                  const char *reason, const char *raw, size_t raw_len)
{
    if (j->mode == MODE_RECOMPUTE || (j->mode == MODE_INVENTORY && row_off < j->reject_from))
        return 0;
    return csv_reject_add(&s->reject, s->host, s->api, j->path, row_line, reason, raw, raw_len);
}

/* Read rows from where start_file placed the block to the last complete
 * row (or the end, for a final file). 0; 1 after a read error (logged;
 * what was read is emitted and accounted); -1 when emitting failed. */
static int read_rows(csv_source *s, read_job *j, csv_input *in, const rec_colmap *m)
{
    csv_block *b = &s->block;
    rec_batch *batch = &s->batch;
    const char *const lo = b->buf, *const hi = b->buf + b->cap;
    bool last = false, skipping = j->mode == MODE_COLLECT && j->en->skip_line && j->start > 0;
    char count_reason[96];
    j->in_discard = skipping;
    for (;;) {
        if (skipping) {
            /* Resuming inside an over-long row: its rest is not a row. */
            const char *p = b->buf + b->head;
            const char *lf = memchr(p, '\n', b->tail - b->head);
            b->head = lf ? (size_t)(lf - b->buf) + 1 : b->tail;
            if (lf) {
                j->line++;
                skipping = j->in_discard = false;
            }
        }
        uint64_t row_off = csv_block_offset(b);
        const char *p = b->buf + b->head;
        size_t len = b->tail - b->head, used = 0;
        csv_row row = {0};
        const char *reason = NULL;
        int rc = CSV_NEED_MORE;
        if (len > 0 && !skipping && row_off < j->stop_at)
            rc = last ? csv_scan_last_row(s->scanner, p, len, &row, &used, &reason)
                      : csv_scan_row(s->scanner, p, len, &row, &used, &reason);
        if (rc == CSV_NEED_MORE && used == 0) {
            if (last || row_off >= j->stop_at)
                break;
            /* The batch points into the buffer that is about to move. */
            if (rec_batch_flush(batch) != 0)
                return -1;
            size_t got, want = CSV_READ_BLOCK;
            uint64_t have = b->base + b->tail;
            if (j->stop_at != UINT64_MAX && j->stop_at - have < want)
                want = (size_t)(j->stop_at - have);
            const char *why = NULL;
            if (want > 0 && csv_block_fill(b, in, want, &got, &why) != 0) {
                s->api->log(s->host, TALLY_LOG_ERR,
                            "%s: reading at byte %" PRIu64 " failed: %s; trying again next "
                            "cycle",
                            j->path, b->base + b->tail, why);
                return 1;
            }
            if (want == 0 || got == 0) {
                bool ended = want == 0 || (in->at_end && in->complete);
                if (!(ended && j->final) || b->tail == b->head)
                    break;
                last = true;
            }
            continue;
        }
        b->head += used;
        uint64_t row_line = j->line + 1;
        j->line += row.lines;
        if (rc == CSV_NEED_MORE) {
            /* The scanner is discarding the rest of an over-long row. */
            if (row.lines > 0)
                j->in_discard = false;
            continue;
        }
        if (rc == CSV_BAD) {
            /* An over-long row: the scanner now skips its rest, which a
             * restart must skip too (the checkpoint's skip_line). */
            if (csv_scanner_discarding(s->scanner))
                j->in_discard = true;
            if (reject(s, j, row_off, row_line, reason, p, used) != 0)
                return -1;
            continue;
        }
        if (blank_row(&row, used))
            continue;
        if (row.n_fields != m->n_cols) {
            snprintf(count_reason, sizeof(count_reason), "the row has %zu fields, the header %zu",
                     row.n_fields, m->n_cols);
            if (reject(s, j, row_off, row_line, count_reason, p, used) != 0)
                return -1;
            continue;
        }
        tally_record *r;
        int cr = rec_conv_row(&s->conv, m, row.fields, lo, hi, batch, &r);
        if (cr < 0)
            return -1;
        if (cr > 0) {
            if (reject(s, j, row_off, row_line, s->conv.reason, p, used) != 0)
                return -1;
            continue;
        }
        if (j->mode == MODE_RECOMPUTE && (created_ns(r) < j->from_ns || created_ns(r) >= j->to_ns))
            continue;
        rec_batch_commit(batch);
    }
    if (rec_batch_flush(batch) != 0)
        return -1;
    return 0;
}

/* Read one file as j says. 0; 1 when the file could not be read (logged;
 * its entry keeps what was consumed); -1 when emitting failed. */
static int read_file(csv_source *s, read_job *j)
{
    csv_input in;
    rec_colmap m;
    const char *why = NULL;
    int rc = 0;
    if (csv_input_open(&in, j->fd, j->gz, j->limit, &why) != 0) {
        s->api->log(s->host, TALLY_LOG_ERR, "%s: cannot read it: %s; trying again next cycle",
                    j->path, why);
        return 1;
    }
    if (start_file(s, j, &in, &m, &why) != 0) {
        s->api->log(s->host, TALLY_LOG_ERR,
                    "%s: reading its header failed: %s; trying again next cycle", j->path, why);
        rc = 1;
    } else if (j->header_ok) {
        rc = read_rows(s, j, &in, &m);
        if (rc >= 0 && j->mode != MODE_RECOMPUTE) {
            j->en->offset = csv_block_offset(&s->block);
            j->en->line = j->line;
            j->en->skip_line = j->in_discard;
        }
    }
    /* The scanner was left discarding: start the next file clean. */
    if (j->in_discard && scanner_renew(s) != 0)
        rc = -1;
    csv_input_close(&in);
    return rc;
}

/* After a read: the fingerprint covers the first min(content, 4 KiB)
 * bytes, more as a small file grows. */
static void refresh_fingerprint(csv_entry *en, csv_found *f)
{
    if (en->fp_len >= CSV_FP_BYTES)
        return;
    const char *why;
    f->prefix_read = false;
    if (csv_found_prefix(f, &why) != 0)
        return;
    /* A copy that continued another entry keeps that entry's fingerprint
     * when its own start is shorter (still being written). */
    if (f->prefix_len >= en->fp_len) {
        en->fp = csv_fingerprint(f->prefix, f->prefix_len);
        en->fp_len = (uint32_t)f->prefix_len;
    }
}

/* ---- collect: usage and candidates ---- */

/* Entries whose file is gone from the glob but still open from an earlier
 * cycle (renamed away, deleted): read them to their end, last line
 * included. The fd is closed once a cycle finds nothing left, which
 * means the checkpoint that consumed the rest was committed. */
static int finish_gone(csv_source *s, csv_entries *e, int64_t now)
{
    size_t n = e->n; /* not the entries this adds */
    for (size_t i = 0; i < n; i++) {
        if (e->v[i].retired || e->v[i].found >= 0)
            continue;
        csv_held *held = csv_held_find(&s->held, e->v[i].dev, e->v[i].ino);
        if (held == NULL)
            continue;
        struct stat st;
        char prefix[CSV_FP_BYTES];
        size_t prefix_len;
        bool complete;
        const char *why;
        if (fstat(held->fd, &st) != 0 ||
            csv_input_prefix(held->fd, held->gz, prefix, sizeof(prefix), &prefix_len, &complete,
                             &why) != 0) {
            csv_held_drop(&s->held, held);
            continue;
        }
        size_t at = i;
        if (!csv_files_same_content(&e->v[i], prefix, prefix_len, (uint64_t)st.st_size, held->gz)) {
            /* Truncated (copytruncate) before it was renamed away: what it
             * holds now is new, and a copy may continue the old content. */
            s->api->log(s->host, TALLY_LOG_INFO,
                        "%s (renamed away or deleted) no longer holds what was read from it: "
                        "reading what it holds now from its start",
                        e->v[i].path ? e->v[i].path : "a file");
            if (csv_files_restart(e, i, prefix, prefix_len, now, &at) != 0)
                return -1;
        }
        csv_entry *en = &e->v[at];
        read_job j = {
            .en = en,
            .path = en->path ? en->path : "(a file renamed away)",
            .fd = held->fd,
            .gz = held->gz,
            .limit = (uint64_t)st.st_size,
            .final = true,
            .mode = MODE_COLLECT,
            .start = en->offset,
            .stop_at = UINT64_MAX,
        };
        uint64_t before = en->offset;
        int rc = read_file(s, &j);
        if (rc < 0)
            return -1;
        /* As for the files found: the fingerprint grows with a small file,
         * so that a compressed copy of it is known for one. */
        if (en->fp_len < prefix_len && en->fp_len < CSV_FP_BYTES) {
            en->fp = csv_fingerprint(prefix, prefix_len);
            en->fp_len = (uint32_t)prefix_len;
        }
        en->seen = now;
        held->cycle = s->cycle;
        if (rc == 0 && en->offset == before && at == i)
            csv_held_drop(&s->held, held);
    }
    return 0;
}

/* The header of the most recently seen file that has one, copied: for a
 * file found without a header row (see headerless). NULL if none. */
static char *sibling_header(const csv_entries *e)
{
    const csv_entry *best = NULL;
    for (size_t i = 0; i < e->n; i++) {
        const csv_entry *en = &e->v[i];
        if (en->header != NULL && (best == NULL || en->seen > best->seen))
            best = en;
    }
    return best ? strdup(best->header) : NULL;
}

/* Read the found files as csv_files_match decided. */
static int collect_files(csv_source *s, csv_entries *e, csv_found *f, size_t nf, int64_t now,
                         const char *sibling)
{
    if (csv_files_match(s->host, s->api, e, f, nf, now) != 0 || finish_gone(s, e, now) != 0)
        return -1;
    for (size_t i = 0; i < nf; i++) {
        if (f[i].action == CSV_DO_PLACE && csv_files_place(s->host, s->api, e, f, i, now) != 0)
            return -1;
        if (f[i].action != CSV_DO_READ)
            continue;
        int rc = csv_found_open(&f[i]);
        if (rc != 0) {
            if (rc < 0)
                s->api->log(s->host, TALLY_LOG_ERR,
                            "%s: cannot open it: %s; trying again next cycle", f[i].path,
                            strerror(errno));
            continue;
        }
        csv_entry *en = &e->v[f[i].entry];
        en->gz = f[i].gz;
        read_job j = {
            .en = en,
            .path = f[i].path,
            .fd = f[i].fd,
            .gz = f[i].gz,
            .limit = f[i].size,
            .final = false,
            .mode = MODE_COLLECT,
            .start = en->offset,
            .stop_at = UINT64_MAX,
            .sibling_header = sibling,
        };
        rc = read_file(s, &j);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            /* Until it changes again, there is nothing to do with it. */
            en->size = f[i].size;
            en->mtime_ns = f[i].mtime_ns;
        }
        refresh_fingerprint(en, &f[i]);
        /* Kept open: if it is renamed away, its rest can still be read. */
        csv_held_put(&s->held, f[i].dev, f[i].ino, f[i].fd, f[i].gz, s->cycle);
        f[i].fd = -1;
    }
    return 0;
}

static int collect_incremental(csv_source *s, csv_entries *e, csv_found *f, size_t nf, int64_t now)
{
    /* Taken before the entries change in this cycle. */
    char *sibling = sibling_header(e);
    int rc = collect_files(s, e, f, nf, now, sibling);
    free(sibling);
    return rc;
}

/* ---- collect: inventories ---- */

static bool same_files(const csv_entries *e, const csv_found *f, size_t nf)
{
    if (e->n != nf)
        return false;
    for (size_t i = 0; i < nf; i++) {
        bool same = false;
        for (size_t k = 0; k < e->n && !same; k++)
            same = e->v[k].dev == f[i].dev && e->v[k].ino == f[i].ino &&
                   e->v[k].size == f[i].size && e->v[k].mtime_ns == f[i].mtime_ns;
        if (!same)
            return false;
    }
    return true;
}

static int collect_inventory(csv_source *s, csv_entries *e, csv_found *f, size_t nf, int64_t now)
{
    if (nf == 0) {
        if (e->n > 0 || !s->warned_no_files)
            s->api->log(s->host, TALLY_LOG_WARNING,
                        "no file matches %s: the %s inventory stays as it was until one does",
                        s->pattern, rec_stream_name(s->stream));
        s->warned_no_files = true;
        csv_entries_free(e);
        return 0;
    }
    s->warned_no_files = false;
    if (same_files(e, f, nf))
        return 0;
    /* The new entries, one per file; rows before an old entry's offset in
     * an unchanged start were judged (and rejected) before. */
    csv_entries next = {0};
    int rc = 0;
    bool all_ok = true;
    for (size_t i = 0; i < nf && rc == 0; i++) {
        csv_entry *en = csv_entries_add(&next);
        const char *why = NULL;
        int orc = csv_found_prefix(&f[i], &why);
        if (en == NULL || (en->path = strdup(f[i].path)) == NULL) {
            rc = -1;
            break;
        }
        en->dev = f[i].dev;
        en->ino = f[i].ino;
        en->size = f[i].size;
        en->mtime_ns = f[i].mtime_ns;
        en->seen = now;
        en->header_in_file = true;
        en->gz = f[i].gz;
        if (orc != 0) {
            s->api->log(s->host, TALLY_LOG_ERR, "%s: cannot read it: %s", f[i].path,
                        why ? why : strerror(errno));
            all_ok = false;
            continue;
        }
        en->fp = csv_fingerprint(f[i].prefix, f[i].prefix_len);
        en->fp_len = (uint32_t)f[i].prefix_len;
        /* Check every header before anything is sent, so an inventory
         * is never sent without one of its files. */
        read_job j = {.en = en,
                      .path = f[i].path,
                      .fd = f[i].fd,
                      .gz = f[i].gz,
                      .limit = f[i].size,
                      .final = true,
                      .mode = MODE_INVENTORY,
                      .stop_at = UINT64_MAX};
        csv_input in;
        rec_colmap m;
        if (csv_input_open(&in, j.fd, j.gz, j.limit, &why) != 0 ||
            start_file(s, &j, &in, &m, &why) != 0) {
            s->api->log(s->host, TALLY_LOG_ERR, "%s: cannot read it: %s", f[i].path, why);
            j.header_ok = false;
        }
        csv_input_close(&in);
        if (!j.header_ok)
            all_ok = false;
    }
    if (rc == 0 && !all_ok)
        s->api->log(s->host, TALLY_LOG_ERR,
                    "the %s inventory is not sent: a file of it cannot be read (see above); "
                    "it stays as it was until the files change",
                    rec_stream_name(s->stream));
    if (rc == 0 && all_ok) {
        if (s->api->inventory_begin(s->host, s->stream) != TALLY_HOST_OK)
            rc = -1;
        for (size_t i = 0; i < nf && rc == 0; i++) {
            csv_entry *en = &next.v[i];
            uint64_t reject_from = 0;
            for (size_t k = 0; k < e->n; k++)
                if (e->v[k].dev == en->dev && e->v[k].ino == en->ino &&
                    e->v[k].fp_len <= en->fp_len && e->v[k].fp_len > 0 &&
                    csv_fingerprint(f[i].prefix, e->v[k].fp_len) == e->v[k].fp)
                    reject_from = e->v[k].offset;
            en->offset = 0;
            free(en->header);
            en->header = NULL;
            read_job j = {.en = en,
                          .path = f[i].path,
                          .fd = f[i].fd,
                          .gz = f[i].gz,
                          .limit = f[i].size,
                          .final = true,
                          .mode = MODE_INVENTORY,
                          .stop_at = UINT64_MAX,
                          .reject_from = reject_from};
            int frc = read_file(s, &j);
            if (frc != 0) {
                /* Half an inventory must not replace a whole one: the
                 * cycle fails and is tried again. */
                rc = -1;
            }
        }
        if (rc == 0 && s->api->inventory_end(s->host, s->stream) != TALLY_HOST_OK)
            rc = -1;
    }
    csv_entries_free(e);
    *e = next;
    return rc;
}

/* ---- the plugin ---- */

static int load_entries(csv_source *s, csv_entries *e)
{
    char *text = NULL;
    int rc = s->api->state_get(s->host, CSV_STATE_KEY, &text);
    if (rc != TALLY_HOST_OK && rc != TALLY_HOST_ENOENT) {
        s->api->log(s->host, TALLY_LOG_ERR, "reading the checkpoint failed; trying again");
        return -1;
    }
    const char *why = NULL;
    rc = csv_entries_load(rc == TALLY_HOST_OK ? text : NULL, e, &why);
    free(text);
    if (rc != 0)
        s->api->log(s->host, TALLY_LOG_ERR,
                    "the checkpoint (state key '%s') cannot be read: %s; nothing is read, so "
                    "nothing is counted twice: restore the state, or remove the key to read "
                    "every file from its start",
                    CSV_STATE_KEY, why);
    return rc;
}

static int csv_collect(void *ctx)
{
    csv_source *s = ctx;
    int64_t now = s->api->now(s->host);
    csv_entries e;
    csv_found *f = NULL;
    size_t nf = 0;
    s->cycle++;
    rec_conv_reset(&s->conv);
    if (load_entries(s, &e) != 0)
        return TALLY_HOST_ERR;
    int rc = 0;
    if (csv_found_glob(s->host, s->api, s->pattern, s->reject.path, &f, &nf) != 0) {
        s->api->log(s->host, TALLY_LOG_ERR, "listing %s failed: %s", s->pattern, strerror(errno));
        rc = -1;
    }
    bool inventory = s->stream == TALLY_STREAM_USERS || s->stream == TALLY_STREAM_API_KEYS;
    if (rc == 0)
        rc = inventory ? collect_inventory(s, &e, f, nf, now)
                       : collect_incremental(s, &e, f, nf, now);
    csv_found_free(f, nf);
    if (rc == 0 && !inventory) {
        csv_entries_prune(&e, now);
        csv_held_sweep(&s->held, &e);
    }
    if (csv_reject_end_cycle(&s->reject, s->host, s->api, rc == 0) != 0)
        rc = -1;
    char *json = NULL;
    if (rc == 0 && csv_entries_dump(&e, &json) != 0) {
        s->api->log(s->host, TALLY_LOG_ERR, "writing the checkpoint failed: out of memory");
        rc = -1;
    }
    if (rc == 0 && s->api->state_put(s->host, CSV_STATE_KEY, json) != TALLY_HOST_OK)
        rc = -1;
    free(json);
    csv_entries_free(&e);
    return rc == 0 ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

static int csv_recompute(void *ctx, int64_t from_utc, int64_t to_utc)
{
    csv_source *s = ctx;
    /* Inventories are not by time: they stay as they are. */
    if (s->stream == TALLY_STREAM_USERS || s->stream == TALLY_STREAM_API_KEYS)
        return TALLY_HOST_OK;
    csv_entries e;
    csv_found *f = NULL;
    size_t nf = 0;
    rec_conv_reset(&s->conv);
    if (load_entries(s, &e) != 0)
        return TALLY_HOST_ERR;
    int rc = csv_found_glob(s->host, s->api, s->pattern, s->reject.path, &f, &nf);
    const int64_t G = 1000000000;
    int64_t from_ns = from_utc < INT64_MIN / G ? INT64_MIN : from_utc * G;
    int64_t to_ns = to_utc > INT64_MAX / G ? INT64_MAX : to_utc * G;
    for (size_t i = 0; rc == 0 && i < e.n; i++) {
        csv_entry *en = &e.v[i];
        if (en->retired || en->offset == 0)
            continue;
        int fd = -1;
        bool gz = en->gz;
        const char *path = en->path ? en->path : "(a file renamed away)";
        for (size_t k = 0; k < nf && fd < 0; k++) {
            const char *why;
            if (f[k].dev != en->dev || f[k].ino != en->ino || csv_found_prefix(&f[k], &why) != 0)
                continue;
            /* The same inode with other content is not what was read. */
            if (en->fp_len > 0 && (f[k].prefix_len < en->fp_len ||
                                   csv_fingerprint(f[k].prefix, en->fp_len) != en->fp))
                continue;
            fd = f[k].fd;
            gz = f[k].gz;
            path = f[k].path;
        }
        csv_held *held = fd < 0 ? csv_held_find(&s->held, en->dev, en->ino) : NULL;
        if (held != NULL) {
            fd = held->fd;
            gz = held->gz;
        }
        if (fd < 0) {
            s->api->log(s->host, TALLY_LOG_WARNING,
                        "%s is gone: its %" PRIu64 " bytes read before are not read again", path,
                        en->offset);
            continue;
        }
        read_job j = {.en = en,
                      .path = path,
                      .fd = fd,
                      .gz = gz,
                      .limit = en->offset,
                      .final = true,
                      .mode = MODE_RECOMPUTE,
                      .start = 0,
                      .stop_at = en->offset,
                      .from_ns = from_ns,
                      .to_ns = to_ns};
        if (read_file(s, &j) < 0)
            rc = -1;
    }
    csv_found_free(f, nf);
    csv_entries_free(&e);
    return rc == 0 ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

static void csv_stop(void *ctx)
{
    csv_source *s = ctx;
    if (s == NULL)
        return;
    csv_scanner_free(s->scanner);
    csv_block_free(&s->block);
    rec_batch_free(&s->batch);
    csv_reject_free(&s->reject);
    csv_held_free(&s->held);
    csv_conf_free(s);
}

/* The reject file's default name: the title, made safe as a file name. */
static char *default_reject_path(csv_source *s)
{
    const char *dir = s->api->state_dir(s->host);
    char *path = NULL;
    if (asprintf(&path, "%s/rejects/%s.csv", dir ? dir : ".", s->title) < 0)
        return NULL;
    char *leaf = strrchr(path, '/') + 1;
    for (char *p = leaf; *p; p++)
        if (*p == '/' || (p == leaf && *p == '.'))
            *p = '_';
    return path;
}

static int csv_init(tally_host *h, const tally_host_api *api, cfg_t *section, void **ctx)
{
    csv_source *s;
    if (csv_conf_build(h, api, section, &s) != TALLY_HOST_OK)
        return TALLY_HOST_ERR;
    /* Titles with '/' are made safe before they become a file name. */
    for (char *p = s->title; *p; p++)
        if (*p == '/')
            *p = '_';
    s->row_limit = CSV_DEFAULT_MAX_ROW_BYTES;
    if (s->row_limit < 2 * s->max_field_bytes)
        s->row_limit = 2 * s->max_field_bytes;
    s->conv.stream = s->stream;
    s->conv.time_format = s->time_format;
    s->conv.naive = s->naive;
    s->conv.naive_offset_s = s->naive_offset_s;
    s->conv.host = h;
    s->conv.api = api;
    s->reject.fd = -1;
    char *reject_path = s->reject_path ? strdup(s->reject_path) : default_reject_path(s);
    int ok = reject_path != NULL && scanner_renew(s) == 0;
    /* The scanner says how long a row may be; the buffer must hold one
     * plus a block, and over-long rows are recognised by that length. */
    if (ok)
        s->row_limit = csv_scanner_row_limit(s->scanner);
    ok = ok && csv_block_init(&s->block, s->row_limit + CSV_READ_BLOCK) == 0 &&
         rec_batch_init(&s->batch, CSV_BATCH, s->row_limit, h, api) == 0 &&
         csv_reject_init(&s->reject, reject_path, s->reject_path == NULL) == 0;
    free(reject_path);
    if (!ok) {
        api->log(h, TALLY_LOG_ERR, "starting failed: out of memory");
        csv_stop(s);
        return TALLY_HOST_ERR;
    }
    *ctx = s;
    return TALLY_HOST_OK;
}

TALLY_PLUGIN_DEFINE = {
    .abi_version = TALLY_PLUGIN_ABI_VERSION,
    .name = "csv",
    .kind = TALLY_PLUGIN_SOURCE,
    .summary = "usage, candidates, users or api_keys rows from CSV files (glob, rotation, .gz)",
    .options = csv_options,
    .option_help = csv_option_help,
    .check = csv_conf_check,
    .init = csv_init,
    .collect = csv_collect,
    .recompute = csv_recompute,
    .stop = csv_stop,
};
