/*
 * tail.h — following files of records, for any line-oriented source: the
 * files a glob matches, their identity (device, inode) and content
 * fingerprint, rotation by rename and by copytruncate, compressed (.gz)
 * files, the checkpoint that says how far each file was consumed (JSON in
 * the source's state), the file descriptors kept open so a file renamed
 * away is still read to its end, and the reject file for rows set aside.
 *
 * A source supplies a tail_format — how to turn the bytes of a file into
 * records (and, for a format with a header row, how to read it) — and
 * calls tail_collect each cycle and tail_recompute for --recompute. The
 * rest is here: which file, from where, what to do when it was rotated,
 * reading in blocks, line counts, over-long rows, rejects, the batch of
 * records and the checkpoint.
 *
 * Nothing here trusts memory about positions: the entries are loaded from
 * the checkpoint at the start of every cycle, because the agent may have
 * rolled the previous cycle back after collect returned.
 */
#ifndef TALLY_LIB_TAIL_H
#define TALLY_LIB_TAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "record/record.h"
#include "tally/plugin.h"

/* ---- entries, found files, rotation (tail_files.c) ---- */

/* Content bytes a fingerprint covers, at most. */
#define TAIL_FP_BYTES 4096u
/* Cut marks: hashes of a file's first bytes up to the end of its first
 * and second lines, and up to 64 B, 128 B .. 4 KiB, so that a file cut in
 * place within its first 4 KiB can be told from one emptied and written
 * anew (tail_files.c, cut_in_place). */
#define TAIL_MARK_MIN 64u
#define TAIL_MARKS 9u

typedef struct tail_mark {
    uint32_t len; /* content bytes hashed */
    uint64_t hash;
} tail_mark;

/* Entries of files gone that long are forgotten, and beyond this many
 * the oldest gone ones (files still there are never forgotten). */
#define TAIL_KEEP_SECONDS (7 * 86400)
#define TAIL_KEEP_MAX 4096u
/* File descriptors kept open between cycles, at most. */
#define TAIL_HELD_MAX 256u
/* The longest header row a checkpoint keeps. */
#define TAIL_HEADER_MAX (64u * 1024u)

/* One file, as the checkpoint knows it. */
typedef struct tail_entry {
    char *path; /* where it was last seen, for messages */
    uint64_t dev, ino;
    uint64_t offset;     /* content bytes consumed (uncompressed for gzip) */
    uint64_t line;       /* lines consumed: the next row starts on line + 1 */
    uint64_t fp;         /* fingerprint of the first fp_len content bytes */
    uint32_t fp_len;     /* min(content, TAIL_FP_BYTES) when last read */
    uint32_t data_start; /* content bytes before the first data row */
    /* Cut marks of the content fingerprinted, shortest first, none longer
     * than fp_len. 0 marks: a checkpoint written before them (only a cut
     * beyond the first 4 KiB is told from a rewrite). */
    tail_mark mark[TAIL_MARKS];
    uint8_t marks;
    uint64_t size;       /* bytes on disk and mtime when last read */
    int64_t mtime_ns;
    int64_t seen; /* the agent's clock when it was last there */
    /* The header row (no line end), or NULL. At offset 0 it may be the
     * header of the content a copytruncate replaced: if the new content's
     * first row is no header, the file goes on without one
     * (header_in_file false) and this header describes its rows. */
    char *header;
    bool header_in_file; /* false: the file has no header row (copytruncate) */
    bool gz;
    bool retired;   /* content replaced in place: kept only for a copy of it */
    bool skip_line; /* offset is inside an over-long row: skip to its end */
    /* This cycle only: the index of the file found for it, or -1. */
    long found;
} tail_entry;

typedef struct tail_entries {
    tail_entry *v;
    size_t n, cap;
} tail_entries;

/* Parse a checkpoint value (NULL: none yet). 0, or -1 with *why. */
int tail_entries_load(const char *json, tail_entries *out, const char **why);
/* The checkpoint value, malloc'd. 0 or -1 (out of memory). */
int tail_entries_dump(const tail_entries *e, char **json);
void tail_entries_free(tail_entries *e);
/* A new zeroed entry at the end (pointers into e->v become stale). */
tail_entry *tail_entries_add(tail_entries *e);
/* Forget gone and retired entries unseen for TAIL_KEEP_SECONDS, and the
 * oldest of them beyond TAIL_KEEP_MAX entries in all. */
void tail_entries_prune(tail_entries *e, int64_t now);

uint64_t tail_fingerprint(const char *p, size_t n);
/* Fingerprint en's content by its first len bytes (at most TAIL_FP_BYTES
 * are taken), cut marks included: for a new entry, or one whose content
 * prefix is known to start as en's did. */
void tail_entry_fingerprint(tail_entry *en, const char *prefix, size_t len);

enum tail_action {
    TAIL_DO_READ,      /* read it (new content, or a new file) */
    TAIL_DO_UNCHANGED, /* same size and mtime as last read: nothing to do */
    TAIL_DO_WAIT,      /* not now: a copy of a file being read, a gzip being written */
    TAIL_DO_PLACE,     /* no entry has its inode: tail_files_place decides */
};

/* A file the glob matched this cycle. */
typedef struct tail_found {
    char *path;
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    int fd; /* opened on demand; -1 before */
    bool gz;
    char *prefix; /* the first content bytes, read on demand */
    size_t prefix_len;
    bool prefix_read, prefix_complete;
    long entry; /* its entry, or -1 */
    enum tail_action action;
    /* Its inode's old entry was retired (content replaced): that content's
     * header, for a writer going on without one after copytruncate. */
    char *old_header;
    /* An entry with its inode whose fingerprint covers no more than a
     * header, which proves nothing (the inode number may have been reused
     * by a copy of another file): tail_files_place decides, and falls back
     * on it. -1 if none. */
    long weak;
} tail_found;

/* The regular files matching pattern, oldest first (mtime, then name),
 * each inode once, leaving out skip_path (the reject file). 0, or -1
 * with errno (a GLOB_ABORTED directory is logged and skipped). */
int tail_found_glob(tally_host *h, const tally_host_api *api, const char *pattern,
                   const char *skip_path, tail_found **out, size_t *n);
void tail_found_free(tail_found *f, size_t n);
/* Open f (if not yet) and check it is still the inode the glob saw.
 * 0; 1 when it changed or vanished meanwhile; -1 with errno. */
int tail_found_open(tail_found *f);
/* Read f's first TAIL_FP_BYTES content bytes (once). 0, 1 as above, -1
 * with *why. */
int tail_found_prefix(tail_found *f, const char **why);

/* Incremental streams, first: for each found file whose inode an entry
 * has, that entry (f->entry) and what to do (f->action). It continues
 * its entry unless its content is not what was read (truncated by
 * copytruncate, or another file in a reused inode number): then the old
 * entry is retired and the file is placed like any other. Every other
 * file gets TAIL_DO_PLACE. Sets entries' `found`; logs what it decides.
 * 0, or -1 (out of memory). */
int tail_files_match(tally_host *h, const tally_host_api *api, tail_entries *e, tail_found *f,
                    size_t nf, int64_t now);
/* Then, for f[fi] (TAIL_DO_PLACE), just before it would be read — after
 * the older files of the cycle were, so their entries say what their
 * first line is and their fingerprints are fresh: a file whose first
 * bytes are those of a gone or retired entry continues that entry
 * (rotated, compressed, or copied before a truncation); one whose first
 * bytes are those of a file still there is a copy and waits; any other
 * is new and read from its start. 0, or -1 (out of memory). */
int tail_files_place(tally_host *h, const tally_host_api *api, tail_entries *e, tail_found *f,
                    size_t fi, int64_t now);

/* Does f (its prefix read: tail_found_prefix) start with the bytes en's
 * fingerprint covers, a fingerprint that says more than the header row?
 * How a renamed or compressed copy of en's content is recognised. */
bool tail_files_continues(tail_found *f, const tail_entry *en);
/* Does a file (its first content bytes, size on disk, gzip or not) still
 * hold what en read from it? */
bool tail_files_same_content(const tail_entry *en, const char *prefix, size_t prefix_len,
                            uint64_t size, bool gz);
/* Entry i's inode no longer holds what was read from it: retire entry i
 * (a copy of its content may continue it) and add a new entry for the
 * inode, to be read from its start; prefix: its first content bytes. The
 * new entry's index in *out. 0 or -1 (out of memory). */
int tail_files_restart(tail_entries *e, size_t i, const char *prefix, size_t prefix_len, int64_t now,
                      size_t *out);

/* File descriptors kept open between cycles, by inode. */
typedef struct tail_held {
    uint64_t dev, ino;
    int fd;
    bool gz;
    uint64_t cycle; /* the last cycle it was read in */
} tail_held;

typedef struct tail_held_set {
    tail_held *v;
    size_t n, cap;
} tail_held_set;

tail_held *tail_held_find(tail_held_set *s, uint64_t dev, uint64_t ino);
/* Keep fd (which is the inode dev/ino) open, closing an earlier fd of it
 * and, beyond TAIL_HELD_MAX, the one read longest ago. Takes fd; closes
 * it when out of memory. */
void tail_held_put(tail_held_set *s, uint64_t dev, uint64_t ino, int fd, bool gz, uint64_t cycle);
void tail_held_drop(tail_held_set *s, tail_held *held);
/* Close the fds of inodes no entry has any more. */
void tail_held_sweep(tail_held_set *s, const tail_entries *e);
void tail_held_free(tail_held_set *s);

/* ---- reading content (tail_read.c) ----
 *
 * A file's content is read in large blocks: plain files with pread from
 * a given offset, gzip files through zlib, where offsets count
 * uncompressed bytes (a gzip stream cannot seek, so going forward means
 * decompressing). The block buffer keeps the bytes the format has not
 * used yet at its front and appends new ones behind them.
 */

/* Bytes asked of the kernel or zlib per read. */
#define TAIL_READ_BLOCK (1024u * 1024u)

typedef struct tail_input {
    int fd;         /* borrowed: closed by whoever opened it */
    gzFile gz;      /* NULL for a plain file */
    uint64_t pos;   /* content bytes delivered so far */
    uint64_t limit; /* plain: the file's size when opened; not read beyond */
    bool at_end;    /* a read found nothing more */
    bool complete;  /* gzip: the stream ended with its trailer; plain: at_end */
} tail_input;

/* Is the file gzip? By the name's ".gz" suffix, or by its first two bytes
 * (the gzip magic), read with pread so nothing moves. */
bool tail_input_is_gz(int fd, const char *path);

/* Start reading fd's content at its beginning. For a plain file, limit is
 * the size to stop at. 0, or -1 with *why (static text). */
int tail_input_open(tail_input *in, int fd, bool gz, uint64_t limit, const char **why);
/* Go forward to content offset `to` (>= in->pos), decompressing into
 * scratch for gzip. 0; 1 when the content ends before `to`; -1 with *why. */
int tail_input_skip(tail_input *in, uint64_t to, char *scratch, size_t cap, const char **why);
/* Up to room bytes into dst: 0 with *got (0 at the end), or -1 with *why. */
int tail_input_read(tail_input *in, char *dst, size_t room, size_t *got, const char **why);
void tail_input_close(tail_input *in);

/* The first cap content bytes of fd (fewer if the content is shorter),
 * for fingerprints. *complete: the content ends within them (for gzip:
 * the stream ended properly; a gzip file still being written does not).
 * 0, or -1 with *why. */
int tail_input_prefix(int fd, bool gz, char *dst, size_t cap, size_t *got, bool *complete,
                     const char **why);

typedef struct tail_block {
    char *buf;
    size_t cap;
    size_t head, tail; /* bytes not yet scanned: buf[head..tail) */
    uint64_t base;     /* content offset of buf[0] */
    uint64_t filled;   /* content bytes read into it since init (the agent's figures) */
} tail_block;

/* cap: the longest row the format takes plus TAIL_READ_BLOCK. */
int tail_block_init(tail_block *b, size_t cap);
void tail_block_free(tail_block *b);
/* Empty, with the next byte read being content offset `offset`. */
void tail_block_reset(tail_block *b, uint64_t offset);
/* The content offset of the next byte to scan. */
static inline uint64_t tail_block_offset(const tail_block *b)
{
    return b->base + b->head;
}
/* Move the unscanned bytes to the front, then append up to `want` bytes
 * (at most what fits). 0 with *got (0 at the end), or -1 with *why. */
int tail_block_fill(tail_block *b, tail_input *in, size_t want, size_t *got, const char **why);

/* ---- the reject file (tail_reject.c) ----
 *
 * Every row a source sets aside, as one CSV line
 * `source_file,line,reason,row` (row: the raw bytes, quoted), so nobody
 * has to guess what was dropped and why. Warnings in the log are limited
 * per cycle, with a count at the end of the cycle.
 */

/* Warnings logged per cycle, one per rejected row; the rest are counted. */
#define TAIL_REJECT_LOG_MAX 10

typedef struct tail_reject {
    char *path;
    bool default_dir; /* path is in <state_dir>/rejects/, created on demand */
    int fd;           /* -1 outside a cycle's first reject .. its end */
    bool write_failed;
    int64_t count; /* rows set aside this cycle */
    /* The file's size limit (reject_max_bytes): rows that would take it
     * beyond are counted, not written, and said once a cycle. */
    uint64_t max_bytes;
    uint64_t size;     /* the file's size while open */
    bool full;         /* a row did not fit this cycle: write no more */
    int64_t unwritten; /* rows counted but not written for the limit */
    char *line;    /* the line being written, reused */
    size_t cap;
} tail_reject;

/* path: the reject file; default_dir: create its directory (0700). */
int tail_reject_init(tail_reject *r, const char *path, bool default_dir);
void tail_reject_free(tail_reject *r);

/* Set aside one row of `file`, which starts on line `line`. A row that
 * cannot be written, or would take the file beyond r->max_bytes, is still
 * counted; either is logged once a cycle.
 * 0, or -1 when out of memory. */
int tail_reject_add(tail_reject *r, tally_host *h, const tally_host_api *api, const char *file,
                   uint64_t line, const char *reason, const char *raw, size_t raw_len);

/* The end of a cycle: close the file, log how many rows went beyond the
 * logged ones, and hand over the count (api->count_rejected) unless
 * `report` is false. 0, or TALLY_HOST_ERR when the count was not taken. */
int tail_reject_end_cycle(tail_reject *r, tally_host *h, const tally_host_api *api, bool report);

/* ---- following files (tail_cycle.c) ---- */

typedef struct tail_source tail_source;

enum tail_mode {
    TAIL_COLLECT,   /* new rows: emit, reject bad ones */
    TAIL_INVENTORY, /* a whole file for an inventory */
    TAIL_RECOMPUTE, /* consumed rows again: emit those in range, reject nothing */
};

/* One read of one file, as the format sees it. */
typedef struct tail_job {
    tail_source *t;
    tail_entry *en;
    const char *path; /* its name now, for messages */
    int fd;
    bool gz;
    uint64_t limit; /* plain: the size to stop at */
    bool final;     /* it will not grow: a last line without LF is a row */
    enum tail_mode mode;
    uint64_t start;       /* content offset to start at (en->offset, or 0) */
    uint64_t stop_at;     /* do not read beyond (recompute) */
    uint64_t reject_from; /* inventory: rows before it were judged before */
    int64_t from_ns, to_ns;
    /* For a file without a header row: the header of the files before it. */
    const char *sibling_header;
    tail_input in;
    /* Results. */
    uint64_t line;   /* lines consumed */
    bool ready;      /* rows can be read (a header format: a column map was made) */
    bool in_discard; /* stopped inside an over-long row */
} tail_job;

/* What the format's row callback found at the front of the block. */
enum {
    TAIL_ROW = 0,       /* a record, converted into the batch, not committed */
    TAIL_NEED_MORE = 1, /* no whole row: *used 0; or bytes of an over-long row discarded */
    TAIL_BAD = 2,       /* a row set aside with *reason */
    TAIL_BAD_LONG = 3,  /* TAIL_BAD for an over-long row, whose rest the format now discards */
    TAIL_SKIP = 4,      /* a row that is no record and no fault (a blank line) */
};

/*
 * A format: what a source supplies. ctx is the source's own.
 *
 * row: the next row at buf[0..len) (last: the file ends there, so a last
 * line without LF is a row). Consume *used bytes and say how many LFs
 * they hold (*lines), whatever the result; TAIL_NEED_MORE with *used 0
 * asks for more bytes. TAIL_ROW: the record was converted into
 * tail_batch(j->t) with rec_conv_row (its slices may point into the block:
 * tail_block_bounds), not committed. TAIL_BAD/TAIL_BAD_LONG: *reason (the
 * caller rejects buf[0..*used)). -1: emitting a full batch failed.
 *
 * start: may be NULL. Before rows are read: read a header row if the
 * format has one (at content offset 0, with tail_block_fill), and place
 * the block where rows start (tail_job_resume does that for a format
 * without a header). Set j->ready and j->line. 0, or -1 with *why when
 * reading failed.
 *
 * reset: may be NULL. A read stopped inside an over-long row that the
 * format was discarding: start the next file clean.
 */
typedef struct tail_format {
    int (*row)(void *ctx, tail_job *j, const char *buf, size_t len, bool last, size_t *used,
               size_t *lines, const char **reason);
    int (*start)(void *ctx, tail_job *j, const char **why);
    int (*reset)(void *ctx);
} tail_format;

typedef struct tail_options {
    const char *title;       /* the section's title: messages, the default reject file */
    const char *pattern;     /* the glob */
    tally_stream stream;     /* users and api_keys are read as whole inventories */
    const char *reject_path; /* NULL: <state_dir>/rejects/<title>.csv */
    uint64_t reject_max_bytes; /* the reject file's size limit */
    size_t row_limit;        /* the longest row the format takes, its LF included */
    size_t batch;            /* records per emit_records call */
} tail_options;

struct tail_source {
    tally_host *host;
    const tally_host_api *api;
    char *pattern;
    tally_stream stream;
    const tail_format *fmt;
    void *ctx;
    tail_block block;
    rec_batch batch;
    tail_reject reject;
    tail_held_set held;
    uint64_t cycle;
    bool warned_no_files; /* "no file matches" said, until files match again */
};

/* The state key of the checkpoint. */
#define TAIL_STATE_KEY "files"

/* Set up *t; fmt and ctx outlive it. 0, or -1 (out of memory: logged). */
int tail_init(tail_source *t, tally_host *h, const tally_host_api *api, const tail_options *o,
              const tail_format *fmt, void *ctx);
void tail_free(tail_source *t);
/* A cycle: read what is new (usage, candidates) or, when a file changed,
 * the whole inventory (users, api_keys), and put the checkpoint.
 * TALLY_HOST_OK or TALLY_HOST_ERR, as collect returns. */
int tail_collect(tail_source *t);
/* Emit again the records consumed before, created in [from_utc, to_utc).
 * TALLY_HOST_OK or TALLY_HOST_ERR, as recompute returns. */
int tail_recompute(tail_source *t, int64_t from_utc, int64_t to_utc);

/* For formats. The batch rows are converted into, and the range of the
 * block, which rec_conv_row needs (values outside it go to the arena). */
static inline rec_batch *tail_batch(tail_source *t)
{
    return &t->batch;
}
static inline void tail_block_bounds(const tail_source *t, const char **lo, const char **hi)
{
    *lo = t->block.buf;
    *hi = t->block.buf + t->block.cap;
}
/* Place the block at content offset `to`, for a read that goes on from
 * there: 0; 1 when the content ends before it; -1 with *why. */
int tail_seek(tail_job *j, uint64_t to, const char **why);
/* Go on where the entry stopped (or at the start): seek to j->start and
 * take the entry's line count; logs a content that ends before it. Sets
 * j->ready. 0, or -1 with *why. */
int tail_job_resume(tail_job *j, const char **why);

#endif
