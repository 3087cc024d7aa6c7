/*
 * tail_files.c — see tail.h: the checkpoint entries (JSON through
 * jansson), the glob, fingerprints, matching found files to entries, and
 * the held file descriptors.
 *
 * Why fingerprints and not only inodes: an inode says "same file", not
 * "same content". copytruncate keeps the inode and replaces the content;
 * compressing a rotated file moves the same content to a new inode; and
 * file systems reuse the inode numbers of deleted files at once. The
 * first bytes of the content (up to 4 KiB) tell these apart. A
 * fingerprint that covers only the header row says nothing (every file
 * of a stream starts with the same header), so it never carries an
 * offset from one file to another.
 */
#include "tail/tail.h"
#include "hash/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECKPOINT_VERSION 1

/* ---- entries ---- */

static void entry_clear(tail_entry *en)
{
    free(en->path);
    free(en->header);
    en->path = en->header = NULL;
}

void tail_entries_free(tail_entries *e)
{
    for (size_t i = 0; i < e->n; i++)
        entry_clear(&e->v[i]);
    free(e->v);
    memset(e, 0, sizeof(*e));
}

tail_entry *tail_entries_add(tail_entries *e)
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        tail_entry *v = realloc(e->v, cap * sizeof(*v));
        if (v == NULL)
            return NULL;
        e->v = v;
        e->cap = cap;
    }
    tail_entry *en = &e->v[e->n++];
    memset(en, 0, sizeof(*en));
    en->found = -1;
    return en;
}

static uint64_t get_u64(json_t *o, const char *key)
{
    return (uint64_t)json_integer_value(json_object_get(o, key));
}

static char *get_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? strndup(json_string_value(v), json_string_length(v)) : NULL;
}

/* "marks": the cut marks as [length, "hex hash"], shortest first. A
 * checkpoint written before them has none; marks that are not what this
 * writes are taken as none (they only ever make a cut known). */
static void load_marks(json_t *o, tail_entry *en)
{
    json_t *a = json_object_get(o, "marks");
    en->marks = 0;
    if (!json_is_array(a) || json_array_size(a) > TAIL_MARKS)
        return;
    uint64_t last = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *m = json_array_get(a, i);
        uint64_t len = (uint64_t)json_integer_value(json_array_get(m, 0));
        const char *hex = json_string_value(json_array_get(m, 1));
        if (hex == NULL || len <= last || len > en->fp_len)
            return;
        en->mark[i] = (tail_mark){(uint32_t)len, strtoull(hex, NULL, 16)};
        last = len;
    }
    en->marks = (uint8_t)json_array_size(a);
}

static int dump_marks(json_t *o, const tail_entry *en)
{
    if (en->marks == 0)
        return 0;
    json_t *a = json_array();
    for (size_t i = 0; a != NULL && i < en->marks; i++) {
        char hex[17];
        snprintf(hex, sizeof(hex), "%016" PRIx64, en->mark[i].hash);
        if (json_array_append_new(a, json_pack("[I, s]", (json_int_t)en->mark[i].len, hex)) != 0) {
            json_decref(a);
            return -1;
        }
    }
    return json_object_set_new(o, "marks", a);
}

int tail_entries_load(const char *text, tail_entries *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    if (text == NULL)
        return 0;
    json_error_t jerr;
    json_t *root = json_loads(text, 0, &jerr);
    json_t *files = root ? json_object_get(root, "files") : NULL;
    if (root == NULL || !json_is_array(files) ||
        json_integer_value(json_object_get(root, "version")) != CHECKPOINT_VERSION) {
        json_decref(root);
        *why = "it is not JSON of checkpoint version 1";
        return -1;
    }
    size_t i;
    json_t *o;
    json_array_foreach(files, i, o)
    {
        tail_entry *en = tail_entries_add(out);
        const char *fp = json_string_value(json_object_get(o, "fp"));
        if (en == NULL || !json_is_object(o) || fp == NULL) {
            json_decref(root);
            tail_entries_free(out);
            *why = en == NULL ? "out of memory" : "an entry of its files is incomplete";
            return -1;
        }
        en->path = get_str(o, "path");
        en->dev = get_u64(o, "dev");
        en->ino = get_u64(o, "ino");
        en->offset = get_u64(o, "offset");
        en->line = get_u64(o, "line");
        en->fp = strtoull(fp, NULL, 16);
        en->fp_len = (uint32_t)get_u64(o, "fp_len");
        en->data_start = (uint32_t)get_u64(o, "data_start");
        en->size = get_u64(o, "size");
        en->mtime_ns = (int64_t)get_u64(o, "mtime_ns");
        en->seen = (int64_t)get_u64(o, "seen");
        en->header = get_str(o, "header");
        en->header_in_file = !json_is_false(json_object_get(o, "header_in_file"));
        en->gz = json_is_true(json_object_get(o, "gz"));
        en->retired = json_is_true(json_object_get(o, "retired"));
        en->skip_line = json_is_true(json_object_get(o, "skip_line"));
        load_marks(o, en);
    }
    json_decref(root);
    return 0;
}

/* Paths are bytes; JSON strings are UTF-8. The path is only for messages
 * (files are recognised by inode and content), so bytes that are not
 * UTF-8 become '?'. */
static json_t *path_json(const char *path)
{
    json_t *s = json_string(path ? path : "");
    if (s != NULL)
        return s;
    char *copy = strdup(path);
    if (copy == NULL)
        return NULL;
    for (unsigned char *p = (unsigned char *)copy; *p; p++)
        if (*p >= 0x80)
            *p = '?';
    s = json_string(copy);
    free(copy);
    return s;
}

int tail_entries_dump(const tail_entries *e, char **out)
{
    json_t *files = json_array();
    json_t *root = json_pack("{s:i, s:o}", "version", CHECKPOINT_VERSION, "files", files);
    if (root == NULL)
        return -1;
    for (size_t i = 0; i < e->n; i++) {
        const tail_entry *en = &e->v[i];
        char fp[17];
        snprintf(fp, sizeof(fp), "%016" PRIx64, en->fp);
        json_t *o = json_pack("{s:o, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:b, "
                              "s:b, s:b, s:b}",
                              "path", path_json(en->path), "dev", (json_int_t)en->dev, "ino",
                              (json_int_t)en->ino, "offset", (json_int_t)en->offset, "line",
                              (json_int_t)en->line, "fp", fp, "fp_len", (json_int_t)en->fp_len,
                              "data_start", (json_int_t)en->data_start, "size",
                              (json_int_t)en->size, "mtime_ns", (json_int_t)en->mtime_ns, "seen",
                              (json_int_t)en->seen, "header_in_file", en->header_in_file, "gz",
                              en->gz, "retired", en->retired, "skip_line", en->skip_line);
        /* Kept but for a file gone whose header is in it: a copy of it (the
         * only way it is read again) starts with that header. A retired
         * entry keeps it in case its copy has none. */
        bool keep_header =
            en->header != NULL &&
            (en->found >= 0 || en->retired || en->offset <= en->data_start || !en->header_in_file);
        if (o == NULL ||
            (keep_header && json_object_set_new(o, "header", json_string(en->header)) != 0) ||
            dump_marks(o, en) != 0) {
            json_decref(o);
            json_decref(root);
            return -1;
        }
        /* append_new takes o whether it succeeds or not. */
        if (json_array_append_new(files, o) != 0) {
            json_decref(root);
            return -1;
        }
    }
    *out = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return *out != NULL ? 0 : -1;
}

static int by_seen_desc(const void *a, const void *b)
{
    const tail_entry *x = a, *y = b;
    /* Files still there first, then the most recently seen. */
    if ((x->found >= 0) != (y->found >= 0))
        return x->found >= 0 ? -1 : 1;
    return x->seen > y->seen ? -1 : x->seen < y->seen ? 1 : 0;
}

void tail_entries_prune(tail_entries *e, int64_t now)
{
    size_t kept = 0;
    for (size_t i = 0; i < e->n; i++) {
        tail_entry *en = &e->v[i];
        bool gone = en->found < 0;
        if (gone && en->seen < now - TAIL_KEEP_SECONDS)
            entry_clear(en);
        else
            e->v[kept++] = *en;
    }
    e->n = kept;
    if (e->n <= TAIL_KEEP_MAX)
        return;
    /* found indexes are per cycle and no longer needed: order freely. */
    qsort(e->v, e->n, sizeof(*e->v), by_seen_desc);
    size_t keep = TAIL_KEEP_MAX;
    while (keep < e->n && e->v[keep].found >= 0)
        keep++;
    for (size_t i = keep; i < e->n; i++)
        entry_clear(&e->v[i]);
    e->n = keep;
}

/* FNV-1a, 64 bits: a few KiB per file and cycle, no need for speed. */
uint64_t tail_fingerprint(const char *p, size_t n)
{
    return hash_fnv1a(HASH_FNV1A_SEED, p, n);
}

/* Add a mark of the first len bytes, keeping them ordered and unique. */
static void add_mark(tail_entry *en, const char *prefix, size_t len)
{
    size_t at = 0;
    while (at < en->marks && en->mark[at].len < len)
        at++;
    if ((at < en->marks && en->mark[at].len == len) || en->marks >= TAIL_MARKS)
        return;
    memmove(&en->mark[at + 1], &en->mark[at], (en->marks - at) * sizeof(*en->mark));
    en->mark[at] = (tail_mark){(uint32_t)len, tail_fingerprint(prefix, len)};
    en->marks++;
}

void tail_entry_fingerprint(tail_entry *en, const char *prefix, size_t len)
{
    if (len > TAIL_FP_BYTES)
        len = TAIL_FP_BYTES;
    en->fp = tail_fingerprint(prefix, len);
    en->fp_len = (uint32_t)len;
    en->marks = 0;
    /* The ends of the first two lines: a header and the first row, or
     * the first rows; a cut right after them is then known for one. */
    const char *lf = memchr(prefix, '\n', len);
    for (int k = 0; k < 2 && lf != NULL; k++) {
        size_t end = (size_t)(lf - prefix) + 1;
        add_mark(en, prefix, end);
        lf = end < len ? memchr(prefix + end, '\n', len - end) : NULL;
    }
    for (size_t m = TAIL_MARK_MIN; m <= len; m *= 2)
        add_mark(en, prefix, m);
}

/* ---- found files ---- */

void tail_found_free(tail_found *f, size_t n)
{
    for (size_t i = 0; f != NULL && i < n; i++) {
        free(f[i].path);
        free(f[i].prefix);
        free(f[i].old_header);
        if (f[i].fd >= 0)
            close(f[i].fd);
    }
    free(f);
}

static int by_age(const void *a, const void *b)
{
    const tail_found *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns < y->mtime_ns ? -1 : 1;
    return strcmp(x->path, y->path);
}

static int64_t mtime_ns_of(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static int glob_error(const char *path, int err)
{
    (void)path;
    (void)err;
    return 0; /* go on with the directories that can be read */
}

int tail_found_glob(tally_host *h, const tally_host_api *api, const char *pattern,
                    const char *skip_path, tail_found **out, size_t *n)
{
    glob_t g;
    memset(&g, 0, sizeof(g));
    *out = NULL;
    *n = 0;
    int rc = glob(pattern, GLOB_NOSORT, glob_error, &g);
    if (rc == GLOB_NOMATCH)
        return 0;
    if (rc == GLOB_NOSPACE) {
        globfree(&g);
        errno = ENOMEM;
        return -1;
    }
    if (rc == GLOB_ABORTED)
        api->log(h, TALLY_LOG_WARNING, "reading the directories of %s failed; check permissions",
                 pattern);
    struct stat skip;
    bool have_skip = skip_path != NULL && stat(skip_path, &skip) == 0;
    tail_found *f = calloc(g.gl_pathc ? g.gl_pathc : 1, sizeof(*f));
    if (f == NULL) {
        globfree(&g);
        errno = ENOMEM;
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        struct stat st;
        if (stat(g.gl_pathv[i], &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (have_skip && st.st_dev == skip.st_dev && st.st_ino == skip.st_ino)
            continue;
        bool dup = false;
        for (size_t j = 0; j < k && !dup; j++)
            dup = f[j].dev == (uint64_t)st.st_dev && f[j].ino == (uint64_t)st.st_ino;
        if (dup)
            continue;
        tail_found *x = &f[k];
        x->path = strdup(g.gl_pathv[i]);
        if (x->path == NULL) {
            tail_found_free(f, k);
            globfree(&g);
            errno = ENOMEM;
            return -1;
        }
        x->dev = (uint64_t)st.st_dev;
        x->ino = (uint64_t)st.st_ino;
        x->size = (uint64_t)st.st_size;
        x->mtime_ns = mtime_ns_of(&st);
        x->fd = -1;
        x->entry = -1;
        x->weak = -1;
        k++;
    }
    globfree(&g);
    qsort(f, k, sizeof(*f), by_age);
    *out = f;
    *n = k;
    return 0;
}

int tail_found_open(tail_found *f)
{
    if (f->fd >= 0)
        return 0;
    /* O_NONBLOCK: if a FIFO took the file's place since stat, open must
     * not wait for a writer. */
    int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return errno == ENOENT ? 1 : -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != f->dev || (uint64_t)st.st_ino != f->ino ||
        !S_ISREG(st.st_mode)) {
        close(fd);
        return 1;
    }
    /* The size and mtime the read will stop at and record. */
    f->size = (uint64_t)st.st_size;
    f->mtime_ns = mtime_ns_of(&st);
    f->gz = tail_input_is_gz(fd, f->path);
    f->fd = fd;
    return 0;
}

int tail_found_prefix(tail_found *f, const char **why)
{
    if (f->prefix_read)
        return 0;
    int rc = tail_found_open(f);
    if (rc != 0) {
        *why = rc > 0 ? "it changed while being looked at" : strerror(errno);
        return rc;
    }
    if (f->prefix == NULL && (f->prefix = malloc(TAIL_FP_BYTES)) == NULL) {
        *why = "out of memory";
        return -1;
    }
    if (tail_input_prefix(f->fd, f->gz, f->prefix, TAIL_FP_BYTES, &f->prefix_len,
                          &f->prefix_complete, why) != 0)
        return -1;
    f->prefix_read = true;
    return 0;
}

/* ---- matching ---- */

/* Does f's content start with the bytes en's fingerprint covers, and
 * does that say more than the header row? */
bool tail_files_continues(tail_found *f, const tail_entry *en)
{
    if (en->fp_len <= en->data_start || f->prefix_len < en->fp_len)
        return false;
    /* A plain file shorter than what was consumed is not that content. */
    if (!f->gz && f->size < en->offset)
        return false;
    return tail_fingerprint(f->prefix, en->fp_len) == en->fp;
}

bool tail_files_same_content(const tail_entry *en, const char *prefix, size_t prefix_len,
                             uint64_t size, bool gz)
{
    if (!gz && size < en->offset)
        return false;
    if (en->fp_len == 0)
        return true;
    return prefix_len >= en->fp_len && tail_fingerprint(prefix, en->fp_len) == en->fp;
}

/* The longest start of en's content that a hash was kept of and that
 * fits in `size` bytes: its length (0: none) and hash. The cut marks and
 * the fingerprint itself (which after a cut covers the bytes left). */
static size_t longest_kept(const tail_entry *en, uint64_t size, uint64_t *hash)
{
    size_t len = 0;
    for (size_t i = 0; i < en->marks && en->mark[i].len <= size; i++) {
        len = en->mark[i].len;
        *hash = en->mark[i].hash;
    }
    if (en->fp_len > len && en->fp_len <= size) {
        len = en->fp_len;
        *hash = en->fp;
    }
    return len;
}

/*
 * Was en's plain content (same inode as f) cut in place below what was
 * read, its start unchanged? Then its rows were counted and must not be
 * read again. copytruncate looks alike at first (same inode, smaller),
 * but it empties the file: what a writer puts there next is new rows, so
 * the file no longer starts as it did. The test: the longest start of
 * the old content that a hash was kept of and that fits in the file now
 * (p bytes) must be the file's first p bytes.
 *
 * The header row is the same after copytruncate, so p bytes that end
 * within it prove nothing; nor do a few bytes of the first data row (rows
 * of one day share their timestamp's start). So p must hold the header
 * and the whole first data row, whose id and time tell a new writer's
 * first row from the old one (marks end with the first two lines, so a
 * file left with a whole row or more always has such a p). A cut that
 * leaves less — right after the header, or within the first row — cannot
 * be told from copytruncate followed by a header: it reads as new
 * content, which then holds no row read before. The whole 4 KiB is
 * enough whatever its rows, as for a rotated copy (tail_files_continues).
 */
static bool cut_in_place(tail_found *f, const tail_entry *en)
{
    const char *why = NULL;
    uint64_t hash = 0;
    if (en->gz || f->size >= en->offset || tail_found_prefix(f, &why) != 0)
        return false;
    size_t p = longest_kept(en, f->size, &hash);
    if (p <= en->data_start || f->prefix_len < p || tail_fingerprint(f->prefix, p) != hash)
        return false;
    return p >= TAIL_FP_BYTES ||
           memchr(f->prefix + en->data_start, '\n', p - en->data_start) != NULL;
}

/* Was en's content (same inode as f) truncated or replaced? */
static bool rewritten(tail_found *f, const tail_entry *en)
{
    if (!en->gz && f->size < en->offset)
        return true;
    if (en->fp_len == 0)
        return false;
    const char *why = NULL;
    if (tail_found_prefix(f, &why) != 0) {
        /* Unreadable now: the read will report it; keep the entry. */
        return false;
    }
    return !tail_files_same_content(en, f->prefix, f->prefix_len, f->size, en->gz);
}

/* Fill a new entry (path, identity, start of content) read from the start
 * of its file. header: the header of the content a copytruncate replaced
 * (taken over), or NULL. Fingerprinted at once, so that a copy of it
 * found in the same cycle (a copytruncate of a file not seen before) is
 * known for one. Until the header row is read, the first line counts as
 * one (a fingerprint must cover more than it), unless it differs from
 * the header the old content had: then the writer went on without one. */
static int fill_entry(tail_entry *en, const char *path, uint64_t dev, uint64_t ino, bool gz,
                      const char *prefix, size_t prefix_len, int64_t now, char *header)
{
    en->header = header;
    if ((en->path = strdup(path)) == NULL)
        return -1;
    en->dev = dev;
    en->ino = ino;
    en->gz = gz;
    en->header_in_file = true;
    en->seen = now;
    const char *lf = prefix ? memchr(prefix, '\n', prefix_len) : NULL;
    if (lf != NULL) {
        size_t line = (size_t)(lf - prefix), n = line;
        if (n > 0 && prefix[n - 1] == '\r')
            n--;
        bool is_old_header =
            header == NULL || (strlen(header) == n && memcmp(header, prefix, n) == 0);
        tail_entry_fingerprint(en, prefix, prefix_len);
        en->data_start = is_old_header ? (uint32_t)(line + 1) : 0;
    }
    return 0;
}

/* A new entry for f, read from its start; header as for fill_entry. */
static int start_entry(tail_entries *e, tail_found *f, size_t fi, int64_t now, char *header)
{
    tail_entry *en = tail_entries_add(e);
    if (en == NULL) {
        free(header);
        return -1;
    }
    const char *why;
    bool have = tail_found_prefix(f, &why) == 0;
    if (fill_entry(en, f->path, f->dev, f->ino, f->gz, have ? f->prefix : NULL,
                   have ? f->prefix_len : 0, now, header) != 0)
        return -1;
    en->found = (long)fi;
    f->entry = (long)(e->n - 1);
    f->action = TAIL_DO_READ;
    return 0;
}

int tail_files_restart(tail_entries *e, size_t i, const char *prefix, size_t prefix_len,
                       int64_t now, size_t *out)
{
    tail_entry *old = &e->v[i];
    char *header = old->header ? strdup(old->header) : NULL;
    char *path = old->path ? strdup(old->path) : strdup("");
    uint64_t dev = old->dev, ino = old->ino;
    bool gz = old->gz;
    if ((old->header != NULL && header == NULL) || path == NULL) {
        free(header);
        free(path);
        return -1;
    }
    old->retired = true;
    old->dev = old->ino = 0;
    old->seen = now;
    tail_entry *en = tail_entries_add(e); /* old is stale from here */
    int rc = en == NULL ? -1 : fill_entry(en, path, dev, ino, gz, prefix, prefix_len, now, header);
    if (en == NULL)
        free(header);
    free(path);
    *out = e->n - 1;
    return rc;
}

/* Point en at f's path (for messages). */
static int move_path(tail_entry *en, const char *path)
{
    if (en->path != NULL && strcmp(en->path, path) == 0)
        return 0;
    char *p = strdup(path);
    if (p == NULL)
        return -1;
    free(en->path);
    en->path = p;
    return 0;
}

int tail_files_match(tally_host *h, const tally_host_api *api, tail_entries *e, tail_found *f,
                     size_t nf, int64_t now)
{
    for (size_t i = 0; i < e->n; i++)
        e->v[i].found = -1;
    /* Same inode first: it decides which entries are gone or retired,
     * and only those may continue in another file. */
    for (size_t fi = 0; fi < nf; fi++) {
        long match = -1;
        for (size_t i = 0; i < e->n && match < 0; i++)
            if (!e->v[i].retired && e->v[i].dev == f[fi].dev && e->v[i].ino == f[fi].ino)
                match = (long)i;
        if (match < 0)
            continue;
        tail_entry *en = &e->v[match];
        if (en->size == f[fi].size && en->mtime_ns == f[fi].mtime_ns) {
            f[fi].action = TAIL_DO_UNCHANGED;
        } else if (cut_in_place(&f[fi], en)) {
            /* Its rows were counted: reading them again would count them
             * twice. Said once per cut: the entry takes the new size, so a
             * writer appending below the old end is no new cut. */
            if (f[fi].size < en->size)
                api->log(h, TALLY_LOG_WARNING,
                         "%s shrank to %" PRIu64 " bytes below the %" PRIu64
                         " already read, but starts as it did: it was cut in place, not rotated; "
                         "its rows are not read again, and reading goes on when it grows beyond "
                         "byte %" PRIu64 " (to start it afresh, move it away and write a new file)",
                         f[fi].path, f[fi].size, en->offset, en->offset);
            /* What is kept of its start is what is left: bytes a writer
             * appends below the old end are new, not the old content's. */
            if (f[fi].prefix_len < en->fp_len)
                tail_entry_fingerprint(en, f[fi].prefix, f[fi].prefix_len);
            en->size = f[fi].size;
            en->mtime_ns = f[fi].mtime_ns;
            f[fi].action = TAIL_DO_UNCHANGED;
        } else if (rewritten(&f[fi], en)) {
            api->log(h, TALLY_LOG_INFO,
                     "%s no longer holds what was read from it (truncated by copytruncate, or "
                     "replaced): a copy of the old content is read on from byte %" PRIu64,
                     f[fi].path, en->offset);
            /* The writer may go on without a header row (a header format reads such a file with
             * this header). */
            if (en->header != NULL && (f[fi].old_header = strdup(en->header)) == NULL)
                return -1;
            en->retired = true;
            en->dev = en->ino = 0;
            en->seen = now;
            continue;
        } else if (en->fp_len <= en->data_start && f[fi].size > en->fp_len) {
            /* It starts as it did, but only a header was ever seen of it:
             * see tail_found.weak. Marked found, so that it is not taken for
             * a file renamed away. */
            en->found = (long)fi;
            en->seen = now;
            f[fi].weak = match;
            continue;
        } else {
            f[fi].action = TAIL_DO_READ;
        }
        if (move_path(en, f[fi].path) != 0)
            return -1;
        en->found = (long)fi;
        en->seen = now;
        f[fi].entry = match;
    }
    for (size_t fi = 0; fi < nf; fi++)
        if (f[fi].entry < 0)
            f[fi].action = TAIL_DO_PLACE;
    return 0;
}

int tail_files_place(tally_host *h, const tally_host_api *api, tail_entries *e, tail_found *f,
                     size_t fi, int64_t now)
{
    tail_found *x = &f[fi];
    const char *why = NULL;
    int rc = tail_found_prefix(x, &why);
    if (rc != 0) {
        if (rc < 0)
            api->log(h, TALLY_LOG_ERR, "%s: cannot read it: %s; trying again next cycle", x->path,
                     why);
        x->action = TAIL_DO_WAIT;
        return 0;
    }
    /* A gzip file still being written (the compression of a rotated
     * file): its first bytes may not yet show whose copy it is. */
    if (x->gz && !x->prefix_complete && x->prefix_len < TAIL_FP_BYTES) {
        x->action = TAIL_DO_WAIT;
        return 0;
    }
    long best = -1, twin = -1;
    for (size_t i = 0; i < e->n; i++) {
        tail_entry *en = &e->v[i];
        if ((long)i == x->weak || !tail_files_continues(x, en))
            continue;
        if (en->retired || en->found < 0) {
            if (best < 0 || en->seen > e->v[best].seen ||
                (en->seen == e->v[best].seen && en->offset > e->v[best].offset))
                best = (long)i;
        } else {
            twin = (long)i;
        }
    }
    if (best >= 0 && x->weak >= 0) {
        /* The inode belongs to the content continued now. */
        tail_entry *old = &e->v[x->weak];
        old->retired = true;
        old->dev = old->ino = 0;
        old->found = -1;
    }
    if (best >= 0) {
        tail_entry *en = &e->v[best];
        api->log(h, TALLY_LOG_INFO,
                 "%s continues %s (rotated, compressed or copied): reading on from byte %" PRIu64
                 ", line %" PRIu64,
                 x->path, en->path ? en->path : "an earlier file", en->offset, en->line + 1);
        if (move_path(en, x->path) != 0)
            return -1;
        en->dev = x->dev;
        en->ino = x->ino;
        en->gz = x->gz;
        en->retired = false;
        en->seen = now;
        en->found = (long)fi;
        /* Another file's size and mtime say nothing about this one. */
        en->size = UINT64_MAX;
        en->mtime_ns = 0;
        x->entry = best;
        x->action = TAIL_DO_READ;
        return 0;
    }
    if (twin >= 0) {
        /* Reading it would count rows twice; when the original goes
         * (rotated away, truncated), this one continues it. */
        api->log(h, TALLY_LOG_DEBUG,
                 "%s starts like %s, which is still there: taken for a copy, not read", x->path,
                 e->v[twin].path ? e->v[twin].path : "another file");
        x->action = TAIL_DO_WAIT;
        return 0;
    }
    if (x->weak >= 0) {
        /* Its own entry after all; only a header was consumed of it. */
        tail_entry *en = &e->v[x->weak];
        if (move_path(en, x->path) != 0)
            return -1;
        x->entry = x->weak;
        x->action = TAIL_DO_READ;
        return 0;
    }
    char *header = x->old_header;
    x->old_header = NULL;
    return start_entry(e, x, fi, now, header);
}

/* ---- held file descriptors ---- */

tail_held *tail_held_find(tail_held_set *s, uint64_t dev, uint64_t ino)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].dev == dev && s->v[i].ino == ino)
            return &s->v[i];
    return NULL;
}

void tail_held_drop(tail_held_set *s, tail_held *held)
{
    close(held->fd);
    *held = s->v[--s->n];
}

void tail_held_put(tail_held_set *s, uint64_t dev, uint64_t ino, int fd, bool gz, uint64_t cycle)
{
    tail_held *old = tail_held_find(s, dev, ino);
    if (old != NULL) {
        if (old->fd != fd)
            close(old->fd);
        old->fd = fd;
        old->gz = gz;
        old->cycle = cycle;
        return;
    }
    if (s->n >= TAIL_HELD_MAX) {
        size_t lru = 0;
        for (size_t i = 1; i < s->n; i++)
            if (s->v[i].cycle < s->v[lru].cycle)
                lru = i;
        tail_held_drop(s, &s->v[lru]);
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        tail_held *v = realloc(s->v, cap * sizeof(*v));
        if (v == NULL) {
            close(fd); /* only a renamed-away file's tail depends on it */
            return;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (tail_held){dev, ino, fd, gz, cycle};
}

void tail_held_sweep(tail_held_set *s, const tail_entries *e)
{
    for (size_t i = 0; i < s->n;) {
        bool known = false;
        for (size_t j = 0; j < e->n && !known; j++)
            known = !e->v[j].retired && e->v[j].dev == s->v[i].dev && e->v[j].ino == s->v[i].ino;
        if (known)
            i++;
        else
            tail_held_drop(s, &s->v[i]);
    }
}

void tail_held_free(tail_held_set *s)
{
    while (s->n > 0)
        tail_held_drop(s, &s->v[0]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}
