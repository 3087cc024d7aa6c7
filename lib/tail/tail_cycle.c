/*
 * tail_cycle.c — following files (tail.h): a cycle reads the files the
 * glob matches as the checkpoint and tail_files.c's matching say, rows
 * through the source's format, and puts the new checkpoint.
 *
 * usage and candidates are read incrementally: each file from the offset
 * its checkpoint entry has to its last complete row. users and api_keys
 * are inventories: when any of their files changes, all of them are read
 * again and sent whole.
 *
 * A cycle can be rolled back after collect returns, with the records it
 * emitted and the checkpoint it put. So a cycle starts from the committed
 * checkpoint every time and trusts no position it remembers; what it
 * keeps between cycles is buffers and open file descriptors, checked
 * against the checkpoint's inodes before use.
 *
 * A row that cannot be read goes to the reject file and is counted; it
 * never stops the file. A file that cannot be read (no header, damaged
 * gzip) is logged and left until it changes, while the other files go on.
 */
#include "tail/tail.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tail_seek(tail_job *j, uint64_t to, const char **why)
{
    tail_block *b = &j->t->block;
    if (to >= b->base && to <= b->base + b->tail) {
        b->head = (size_t)(to - b->base);
        return 0;
    }
    int rc = tail_input_skip(&j->in, to, b->buf, b->cap, why);
    tail_block_reset(b, to);
    return rc;
}

int tail_job_resume(tail_job *j, const char **why)
{
    tail_source *t = j->t;
    j->ready = false;
    tail_block_reset(&t->block, 0);
    int rc = tail_seek(j, j->start, why);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        t->api->log(t->host, TALLY_LOG_WARNING,
                    "%s: its content ends before byte %" PRIu64 " where reading stopped; "
                    "nothing read",
                    j->path, j->start);
        return 0;
    }
    j->line = j->start > 0 ? j->en->line : 0;
    j->ready = true;
    return 0;
}

/* A format without a header row: its records start at the first byte. */
static int start_plain(tail_job *j, const char **why)
{
    if (j->start == 0)
        j->en->data_start = 0;
    return tail_job_resume(j, why);
}

static int64_t created_ns(const tally_record *r)
{
    return r->stream == TALLY_STREAM_USAGE ? r->u.usage.created_ns : r->u.candidate.created_ns;
}

static int reject(tail_source *t, tail_job *j, uint64_t row_off, uint64_t row_line,
                  const char *reason, const char *raw, size_t raw_len)
{
    if (j->mode == TAIL_RECOMPUTE || (j->mode == TAIL_INVENTORY && row_off < j->reject_from))
        return 0;
    return tail_reject_add(&t->reject, t->host, t->api, j->path, row_line, reason, raw, raw_len);
}

/* Move the unscanned bytes to the front and read more behind them, no
 * further than j->stop_at. 0 with *last set when the file is done and
 * what is left is its last row; 1 when there is nothing more to read
 * now; 2 after a read error (logged); -1 when emitting failed. */
static int refill(tail_source *t, tail_job *j, bool *last)
{
    tail_block *b = &t->block;
    /* The batch points into the buffer that is about to move. */
    if (rec_batch_flush(&t->batch) != 0)
        return -1;
    size_t got, want = TAIL_READ_BLOCK;
    uint64_t have = b->base + b->tail;
    if (j->stop_at != UINT64_MAX && j->stop_at - have < want)
        want = (size_t)(j->stop_at - have);
    const char *why = NULL;
    if (want > 0 && tail_block_fill(b, &j->in, want, &got, &why) != 0) {
        t->api->log(t->host, TALLY_LOG_ERR,
                    "%s: reading at byte %" PRIu64 " failed: %s; trying again next cycle", j->path,
                    b->base + b->tail, why);
        return 2;
    }
    if (want == 0 || got == 0) {
        bool ended = want == 0 || (j->in.at_end && j->in.complete);
        if (!(ended && j->final) || b->tail == b->head)
            return 1;
        *last = true;
    }
    return 0;
}

/* Read rows from where the format's start placed the block to the last
 * complete row (or the end, for a final file). 0; 1 after a read error
 * (logged; what was read is emitted and accounted); -1 when emitting
 * failed. */
static int read_rows(tail_source *t, tail_job *j)
{
    tail_block *b = &t->block;
    rec_batch *batch = &t->batch;
    bool last = false, skipping = j->mode == TAIL_COLLECT && j->en->skip_line && j->start > 0;
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
        uint64_t row_off = tail_block_offset(b);
        const char *p = b->buf + b->head;
        size_t len = b->tail - b->head, used = 0, lines = 0;
        const char *reason = NULL;
        int rc = TAIL_NEED_MORE;
        if (len > 0 && !skipping && row_off < j->stop_at)
            rc = t->fmt->row(t->ctx, j, p, len, last, &used, &lines, &reason);
        if (rc < 0)
            return -1;
        if (rc == TAIL_NEED_MORE && used == 0) {
            if (last || row_off >= j->stop_at)
                break;
            int frc = refill(t, j, &last);
            if (frc < 0 || frc == 2)
                return frc < 0 ? -1 : 1;
            if (frc == 1)
                break;
            continue;
        }
        b->head += used;
        uint64_t row_line = j->line + 1;
        j->line += lines;
        switch (rc) {
        case TAIL_NEED_MORE:
            /* The format is discarding the rest of an over-long row. */
            if (lines > 0)
                j->in_discard = false;
            break;
        case TAIL_BAD_LONG:
            /* The format now skips the row's rest, which a restart must
             * skip too (the checkpoint's skip_line). */
            j->in_discard = true;
            /* fall through */
        case TAIL_BAD:
            if (reject(t, j, row_off, row_line, reason, p, used) != 0)
                return -1;
            break;
        case TAIL_ROW: {
            const tally_record *r = &batch->recs[batch->n];
            if (j->mode == TAIL_RECOMPUTE &&
                (created_ns(r) < j->from_ns || created_ns(r) >= j->to_ns))
                break;
            rec_batch_commit(batch);
            break;
        }
        default: /* TAIL_SKIP */
            break;
        }
    }
    if (rec_batch_flush(batch) != 0)
        return -1;
    return 0;
}

/* Read one file as j says. 0; 1 when the file could not be read (logged;
 * its entry keeps what was consumed); -1 when emitting failed. */
static int read_file(tail_source *t, tail_job *j)
{
    const char *why = NULL;
    int rc = 0;
    j->t = t;
    if (tail_input_open(&j->in, j->fd, j->gz, j->limit, &why) != 0) {
        t->api->log(t->host, TALLY_LOG_ERR, "%s: cannot read it: %s; trying again next cycle",
                    j->path, why);
        return 1;
    }
    int src = t->fmt->start ? t->fmt->start(t->ctx, j, &why) : start_plain(j, &why);
    if (src != 0) {
        t->api->log(t->host, TALLY_LOG_ERR,
                    "%s: reading its header failed: %s; trying again next cycle", j->path, why);
        rc = 1;
    } else if (j->ready) {
        rc = read_rows(t, j);
        if (rc >= 0 && j->mode != TAIL_RECOMPUTE) {
            j->en->offset = tail_block_offset(&t->block);
            j->en->line = j->line;
            j->en->skip_line = j->in_discard;
        }
    }
    /* The format was left discarding: start the next file clean. */
    if (j->in_discard && t->fmt->reset != NULL && t->fmt->reset(t->ctx) != 0)
        rc = -1;
    tail_input_close(&j->in);
    return rc;
}

/* After a read: the fingerprint covers the first min(content, 4 KiB)
 * bytes, more as a small file grows. */
static void refresh_fingerprint(tail_entry *en, tail_found *f)
{
    /* Whole, marks included (an entry from a checkpoint written before
     * the cut marks gets them here, its start checked first). */
    if (en->fp_len >= TAIL_FP_BYTES && en->marks > 0)
        return;
    const char *why;
    f->prefix_read = false;
    if (tail_found_prefix(f, &why) != 0)
        return;
    /* A copy that continued another entry keeps that entry's fingerprint
     * when its own start is shorter (still being written). */
    if (f->prefix_len >= en->fp_len &&
        (en->fp_len < TAIL_FP_BYTES || tail_fingerprint(f->prefix, en->fp_len) == en->fp))
        tail_entry_fingerprint(en, f->prefix, f->prefix_len);
}

/* ---- collect: usage and candidates ---- */

/* Entries whose file is gone from the glob but still open from an earlier
 * cycle (renamed away, deleted): read them to their end, last line
 * included. The fd is closed once a cycle finds nothing left, which
 * means the checkpoint that consumed the rest was committed. */
static int finish_gone(tail_source *t, tail_entries *e, int64_t now)
{
    size_t n = e->n; /* not the entries this adds */
    for (size_t i = 0; i < n; i++) {
        if (e->v[i].retired || e->v[i].found >= 0)
            continue;
        tail_held *held = tail_held_find(&t->held, e->v[i].dev, e->v[i].ino);
        if (held == NULL)
            continue;
        struct stat st;
        char prefix[TAIL_FP_BYTES];
        size_t prefix_len;
        bool complete;
        const char *why;
        if (fstat(held->fd, &st) != 0 ||
            tail_input_prefix(held->fd, held->gz, prefix, sizeof(prefix), &prefix_len, &complete,
                             &why) != 0) {
            tail_held_drop(&t->held, held);
            continue;
        }
        size_t at = i;
        if (!tail_files_same_content(&e->v[i], prefix, prefix_len, (uint64_t)st.st_size, held->gz)) {
            /* Truncated (copytruncate) before it was renamed away: what it
             * holds now is new, and a copy may continue the old content. */
            t->api->log(t->host, TALLY_LOG_INFO,
                        "%s (renamed away or deleted) no longer holds what was read from it: "
                        "reading what it holds now from its start",
                        e->v[i].path ? e->v[i].path : "a file");
            if (tail_files_restart(e, i, prefix, prefix_len, now, &at) != 0)
                return -1;
        }
        tail_entry *en = &e->v[at];
        tail_job j = {
            .en = en,
            .path = en->path ? en->path : "(a file renamed away)",
            .fd = held->fd,
            .gz = held->gz,
            .limit = (uint64_t)st.st_size,
            .final = true,
            .mode = TAIL_COLLECT,
            .start = en->offset,
            .stop_at = UINT64_MAX,
        };
        uint64_t before = en->offset;
        int rc = read_file(t, &j);
        if (rc < 0)
            return -1;
        /* As for the files found: the fingerprint grows with a small file,
         * so that a compressed copy of it is known for one. */
        if (en->fp_len < prefix_len && en->fp_len < TAIL_FP_BYTES)
            tail_entry_fingerprint(en, prefix, prefix_len);
        en->seen = now;
        held->cycle = t->cycle;
        if (rc == 0 && en->offset == before && at == i)
            tail_held_drop(&t->held, held);
    }
    return 0;
}

/* The header of the most recently seen file that has one, copied: for a
 * file found without a header row (a format's start uses it). NULL if
 * none. */
static char *sibling_header(const tail_entries *e)
{
    const tail_entry *best = NULL;
    for (size_t i = 0; i < e->n; i++) {
        const tail_entry *en = &e->v[i];
        if (en->header != NULL && (best == NULL || en->seen > best->seen))
            best = en;
    }
    return best ? strdup(best->header) : NULL;
}

/* Read the found files as tail_files_match decided. */
static int collect_files(tail_source *t, tail_entries *e, tail_found *f, size_t nf, int64_t now,
                         const char *sibling)
{
    if (tail_files_match(t->host, t->api, e, f, nf, now) != 0 || finish_gone(t, e, now) != 0)
        return -1;
    for (size_t i = 0; i < nf; i++) {
        if (f[i].action == TAIL_DO_PLACE && tail_files_place(t->host, t->api, e, f, i, now) != 0)
            return -1;
        if (f[i].action != TAIL_DO_READ)
            continue;
        int rc = tail_found_open(&f[i]);
        if (rc != 0) {
            if (rc < 0)
                t->api->log(t->host, TALLY_LOG_ERR,
                            "%s: cannot open it: %s; trying again next cycle", f[i].path,
                            strerror(errno));
            continue;
        }
        tail_entry *en = &e->v[f[i].entry];
        en->gz = f[i].gz;
        tail_job j = {
            .en = en,
            .path = f[i].path,
            .fd = f[i].fd,
            .gz = f[i].gz,
            .limit = f[i].size,
            .final = false,
            .mode = TAIL_COLLECT,
            .start = en->offset,
            .stop_at = UINT64_MAX,
            .sibling_header = sibling,
        };
        rc = read_file(t, &j);
        if (rc < 0)
            return -1;
        if (rc == 0) {
            /* Until it changes again, there is nothing to do with it. */
            en->size = f[i].size;
            en->mtime_ns = f[i].mtime_ns;
        }
        refresh_fingerprint(en, &f[i]);
        /* Kept open: if it is renamed away, its rest can still be read. */
        tail_held_put(&t->held, f[i].dev, f[i].ino, f[i].fd, f[i].gz, t->cycle);
        f[i].fd = -1;
    }
    return 0;
}

static int collect_incremental(tail_source *t, tail_entries *e, tail_found *f, size_t nf, int64_t now)
{
    /* Taken before the entries change in this cycle. */
    char *sibling = sibling_header(e);
    int rc = collect_files(t, e, f, nf, now, sibling);
    free(sibling);
    return rc;
}

/* ---- collect: inventories ---- */

static bool same_files(const tail_entries *e, const tail_found *f, size_t nf)
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

static int collect_inventory(tail_source *t, tail_entries *e, tail_found *f, size_t nf, int64_t now)
{
    if (nf == 0) {
        if (e->n > 0 || !t->warned_no_files)
            t->api->log(t->host, TALLY_LOG_WARNING,
                        "no file matches %s: the %s inventory stays as it was until one does",
                        t->pattern, rec_stream_name(t->stream));
        t->warned_no_files = true;
        tail_entries_free(e);
        return 0;
    }
    t->warned_no_files = false;
    if (same_files(e, f, nf))
        return 0;
    /* The new entries, one per file; rows before an old entry's offset in
     * an unchanged start were judged (and rejected) before. */
    tail_entries next = {0};
    int rc = 0;
    bool all_ok = true;
    for (size_t i = 0; i < nf && rc == 0; i++) {
        tail_entry *en = tail_entries_add(&next);
        const char *why = NULL;
        int orc = tail_found_prefix(&f[i], &why);
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
            t->api->log(t->host, TALLY_LOG_ERR, "%s: cannot read it: %s", f[i].path,
                        why ? why : strerror(errno));
            all_ok = false;
            continue;
        }
        en->fp = tail_fingerprint(f[i].prefix, f[i].prefix_len);
        en->fp_len = (uint32_t)f[i].prefix_len;
        /* Check every header before anything is sent, so an inventory
         * is never sent without one of its files. */
        tail_job j = {.t = t,
                      .en = en,
                      .path = f[i].path,
                      .fd = f[i].fd,
                      .gz = f[i].gz,
                      .limit = f[i].size,
                      .final = true,
                      .mode = TAIL_INVENTORY,
                      .stop_at = UINT64_MAX};
        if (tail_input_open(&j.in, j.fd, j.gz, j.limit, &why) != 0 ||
            (t->fmt->start ? t->fmt->start(t->ctx, &j, &why) : start_plain(&j, &why)) != 0) {
            t->api->log(t->host, TALLY_LOG_ERR, "%s: cannot read it: %s", f[i].path, why);
            j.ready = false;
        }
        tail_input_close(&j.in);
        if (!j.ready)
            all_ok = false;
    }
    if (rc == 0 && !all_ok)
        t->api->log(t->host, TALLY_LOG_ERR,
                    "the %s inventory is not sent: a file of it cannot be read (see above); "
                    "it stays as it was until the files change",
                    rec_stream_name(t->stream));
    if (rc == 0 && all_ok) {
        if (t->api->inventory_begin(t->host, t->stream) != TALLY_HOST_OK)
            rc = -1;
        for (size_t i = 0; i < nf && rc == 0; i++) {
            tail_entry *en = &next.v[i];
            uint64_t reject_from = 0;
            for (size_t k = 0; k < e->n; k++)
                if (e->v[k].dev == en->dev && e->v[k].ino == en->ino &&
                    e->v[k].fp_len <= en->fp_len && e->v[k].fp_len > 0 &&
                    tail_fingerprint(f[i].prefix, e->v[k].fp_len) == e->v[k].fp)
                    reject_from = e->v[k].offset;
            en->offset = 0;
            free(en->header);
            en->header = NULL;
            tail_job j = {.en = en,
                          .path = f[i].path,
                          .fd = f[i].fd,
                          .gz = f[i].gz,
                          .limit = f[i].size,
                          .final = true,
                          .mode = TAIL_INVENTORY,
                          .stop_at = UINT64_MAX,
                          .reject_from = reject_from};
            int frc = read_file(t, &j);
            if (frc != 0) {
                /* Half an inventory must not replace a whole one: the
                 * cycle fails and is tried again. */
                rc = -1;
            }
        }
        if (rc == 0 && t->api->inventory_end(t->host, t->stream) != TALLY_HOST_OK)
            rc = -1;
    }
    tail_entries_free(e);
    *e = next;
    return rc;
}

/* Does a live entry stand for f's inode? */
static bool has_entry(const tail_entries *e, const tail_found *f)
{
    for (size_t i = 0; i < e->n; i++)
        if (!e->v[i].retired && e->v[i].dev == f->dev && e->v[i].ino == f->ino)
            return true;
    return false;
}

static int load_entries(tail_source *t, tail_entries *e)
{
    char *text = NULL;
    int rc = t->api->state_get(t->host, TAIL_STATE_KEY, &text);
    if (rc != TALLY_HOST_OK && rc != TALLY_HOST_ENOENT) {
        t->api->log(t->host, TALLY_LOG_ERR, "reading the checkpoint failed; trying again");
        return -1;
    }
    const char *why = NULL;
    rc = tail_entries_load(rc == TALLY_HOST_OK ? text : NULL, e, &why);
    free(text);
    if (rc != 0)
        t->api->log(t->host, TALLY_LOG_ERR,
                    "the checkpoint (state key '%s') cannot be read: %s; nothing is read, so "
                    "nothing is counted twice: restore the state, or remove the key to read "
                    "every file from its start",
                    TAIL_STATE_KEY, why);
    return rc;
}

/* A file source whose glob matches nothing reads nothing, silently
 * otherwise: a typo in its path would look like a quiet day. Said once,
 * and once more each time files matched and then none do. */
static void note_matches(tail_source *t, size_t nf)
{
    if (nf > 0) {
        t->warned_no_files = false;
    } else if (!t->warned_no_files) {
        t->api->log(t->host, TALLY_LOG_WARNING,
                    "no file matches %s: nothing is read until one does; check the path if "
                    "files should be there (said once until files match again)",
                    t->pattern);
        t->warned_no_files = true;
    }
}

/* The agent's figures (plugin.h, metric): content bytes read so far, and
 * for a stream read incrementally the bytes of the files listed this
 * cycle that are not read yet (a plain file's size as listed less where
 * its entry stopped; a gzip file is a finished one, read whole or not at
 * all, and counts no lag). */
static void report_figures(tail_source *t, const tail_entries *e, const tail_found *f, size_t nf,
                           bool inventory)
{
    if (!TALLY_API_HAS(t->api, metric))
        return;
    t->api->metric(t->host, "bytes_read_total", TALLY_METRIC_COUNTER, (double)t->block.filled,
                   "Bytes of file content read (gzip files: uncompressed).");
    if (inventory)
        return;
    uint64_t lag = 0;
    for (size_t k = 0; k < nf; k++) {
        uint64_t done = f[k].entry >= 0 && (size_t)f[k].entry < e->n ? e->v[f[k].entry].offset : 0;
        if (!f[k].gz && f[k].size > done)
            lag += f[k].size - done;
    }
    t->api->metric(t->host, "lag_bytes", TALLY_METRIC_GAUGE, (double)lag,
                   "Bytes of the files followed that were not read yet, as of the last cycle.");
}

int tail_collect(tail_source *t)
{
    int64_t now = t->api->now(t->host);
    tail_entries e;
    tail_found *f = NULL;
    size_t nf = 0;
    t->cycle++;
    if (load_entries(t, &e) != 0)
        return TALLY_HOST_ERR;
    int rc = 0;
    if (tail_found_glob(t->host, t->api, t->pattern, t->reject.path, &f, &nf) != 0) {
        t->api->log(t->host, TALLY_LOG_ERR, "listing %s failed: %s", t->pattern, strerror(errno));
        rc = -1;
    }
    bool inventory = t->stream == TALLY_STREAM_USERS || t->stream == TALLY_STREAM_API_KEYS;
    if (rc == 0 && !inventory)
        note_matches(t, nf);
    if (rc == 0)
        rc = inventory ? collect_inventory(t, &e, f, nf, now)
                       : collect_incremental(t, &e, f, nf, now);
    if (rc == 0)
        report_figures(t, &e, f, nf, inventory);
    tail_found_free(f, nf);
    if (rc == 0 && !inventory) {
        tail_entries_prune(&e, now);
        tail_held_sweep(&t->held, &e);
    }
    if (tail_reject_end_cycle(&t->reject, t->host, t->api, rc == 0) != 0)
        rc = -1;
    char *json = NULL;
    if (rc == 0 && tail_entries_dump(&e, &json) != 0) {
        t->api->log(t->host, TALLY_LOG_ERR, "writing the checkpoint failed: out of memory");
        rc = -1;
    }
    if (rc == 0 && t->api->state_put(t->host, TAIL_STATE_KEY, json) != TALLY_HOST_OK)
        rc = -1;
    free(json);
    tail_entries_free(&e);
    return rc == 0 ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

int tail_recompute(tail_source *t, int64_t from_utc, int64_t to_utc)
{
    /* Inventories are not by time: they stay as they are. */
    if (t->stream == TALLY_STREAM_USERS || t->stream == TALLY_STREAM_API_KEYS)
        return TALLY_HOST_OK;
    tail_entries e;
    tail_found *f = NULL;
    size_t nf = 0;
    if (load_entries(t, &e) != 0)
        return TALLY_HOST_ERR;
    int rc = tail_found_glob(t->host, t->api, t->pattern, t->reject.path, &f, &nf);
    const int64_t G = 1000000000;
    int64_t from_ns = from_utc < INT64_MIN / G ? INT64_MIN : from_utc * G;
    int64_t to_ns = to_utc > INT64_MAX / G ? INT64_MAX : to_utc * G;
    for (size_t i = 0; rc == 0 && i < e.n; i++) {
        tail_entry *en = &e.v[i];
        if (en->retired || en->offset == 0)
            continue;
        int fd = -1;
        bool gz = en->gz;
        const char *path = en->path ? en->path : "(a file renamed away)";
        for (size_t k = 0; k < nf && fd < 0; k++) {
            const char *why;
            if (f[k].dev != en->dev || f[k].ino != en->ino || tail_found_prefix(&f[k], &why) != 0)
                continue;
            /* The same inode with other content is not what was read. */
            if (en->fp_len > 0 && (f[k].prefix_len < en->fp_len ||
                                   tail_fingerprint(f[k].prefix, en->fp_len) != en->fp))
                continue;
            fd = f[k].fd;
            gz = f[k].gz;
            path = f[k].path;
        }
        /* Renamed and compressed while the agent was stopped: a new inode
         * that no entry has yet, which the next cycle would take for this
         * one's content by its fingerprint. So does the recompute. */
        for (size_t k = 0; k < nf && fd < 0; k++) {
            const char *why;
            if (has_entry(&e, &f[k]) || tail_found_prefix(&f[k], &why) != 0 ||
                !tail_files_continues(&f[k], en))
                continue;
            fd = f[k].fd;
            gz = f[k].gz;
            path = f[k].path;
        }
        tail_held *held = fd < 0 ? tail_held_find(&t->held, en->dev, en->ino) : NULL;
        if (held != NULL) {
            fd = held->fd;
            gz = held->gz;
        }
        if (fd < 0) {
            t->api->log(t->host, TALLY_LOG_WARNING,
                        "%s is gone: its %" PRIu64 " bytes read before are not read again", path,
                        en->offset);
            continue;
        }
        tail_job j = {.en = en,
                      .path = path,
                      .fd = fd,
                      .gz = gz,
                      .limit = en->offset,
                      .final = true,
                      .mode = TAIL_RECOMPUTE,
                      .start = 0,
                      .stop_at = en->offset,
                      .from_ns = from_ns,
                      .to_ns = to_ns};
        if (read_file(t, &j) < 0)
            rc = -1;
    }
    tail_found_free(f, nf);
    tail_entries_free(&e);
    return rc == 0 ? TALLY_HOST_OK : TALLY_HOST_ERR;
}

/* The reject file's default name: the title, made safe as a file name. */
static char *default_reject_path(tally_host *h, const tally_host_api *api, const char *title)
{
    const char *dir = api->state_dir(h);
    char *path = NULL;
    if (asprintf(&path, "%s/rejects/%s.csv", dir ? dir : ".", title) < 0)
        return NULL;
    char *leaf = strrchr(path, '/') + 1;
    for (char *p = leaf; *p; p++)
        if (*p == '/' || (p == leaf && *p == '.'))
            *p = '_';
    return path;
}

int tail_init(tail_source *t, tally_host *h, const tally_host_api *api, const tail_options *o,
              const tail_format *fmt, void *ctx)
{
    memset(t, 0, sizeof(*t));
    t->host = h;
    t->api = api;
    t->stream = o->stream;
    t->fmt = fmt;
    t->ctx = ctx;
    t->reject.fd = -1;
    char *reject_path =
        o->reject_path ? strdup(o->reject_path) : default_reject_path(h, api, o->title);
    /* The buffer holds the longest row plus a block; rows are converted
     * into a batch whose arena holds one row. */
    int ok = reject_path != NULL && (t->pattern = strdup(o->pattern)) != NULL &&
             tail_block_init(&t->block, o->row_limit + TAIL_READ_BLOCK) == 0 &&
             rec_batch_init(&t->batch, o->batch, o->row_limit, h, api) == 0 &&
             tail_reject_init(&t->reject, reject_path, o->reject_path == NULL) == 0;
    free(reject_path);
    t->reject.max_bytes = o->reject_max_bytes;
    if (!ok) {
        api->log(h, TALLY_LOG_ERR, "starting failed: out of memory");
        tail_free(t);
        return -1;
    }
    return 0;
}

void tail_free(tail_source *t)
{
    tail_block_free(&t->block);
    rec_batch_free(&t->batch);
    tail_reject_free(&t->reject);
    tail_held_free(&t->held);
    free(t->pattern);
    t->pattern = NULL;
}
