/*
 * source_test.c — see source_test.h.
 */
#include "source_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

const tally_plugin *plugin;
char scratch[PATH_MAX];
static void *plugin_dl;
static char scratch_prefix[64];

/* ---- scratch files ---- */

const char *spath(char *buf, const char *leaf)
{
    if (snprintf(buf, PATH_MAX, "%s/%s", scratch, leaf) >= PATH_MAX)
        fail_msg("path too long: %s", leaf);
    return buf;
}

void write_at(const char *leaf, const char *mode, const char *data, size_t len)
{
    char p[PATH_MAX];
    FILE *f = fopen(spath(p, leaf), mode);
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

void put(const char *leaf, const char *text)
{
    write_at(leaf, "wb", text, strlen(text));
}

void append(const char *leaf, const char *text)
{
    write_at(leaf, "ab", text, strlen(text));
}

void put_gz(const char *leaf, const char *text)
{
    char p[PATH_MAX];
    gzFile gz = gzopen(spath(p, leaf), "wb");
    assert_non_null(gz);
    assert_int_equal(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
    assert_int_equal(gzclose(gz), Z_OK);
}

void rename_leaf(const char *from, const char *to)
{
    char a[PATH_MAX], b[PATH_MAX];
    assert_int_equal(rename(spath(a, from), spath(b, to)), 0);
}

/* The whole file, NUL terminated (free it); NULL if it cannot be read. */
char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    int c;
    while ((c = fgetc(f)) != EOF)
        fputc(c, m);
    fclose(m);
    fclose(f);
    return buf;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* ---- the instance ---- */

/* A section body, formatted, with %S standing for the scratch dir. */
char *body(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *b = NULL;
    assert_true(vasprintf(&b, fmt, ap) >= 0);
    va_end(ap);
    return b;
}

void start_on(inst *in, tally_host *h, const char *text)
{
    if (mock_host_start(in, plugin, h, "usage", text) != 0)
        fail_msg("%s", mock_host_parse_error());
}

void start(inst *in, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    plugin_test_vstart(in, plugin, "usage", scratch, fmt, ap);
    va_end(ap);
}

void finish(inst *in)
{
    mock_host_stop(in);
    mock_host_free(in->h);
}

void collect(inst *in)
{
    assert_int_equal(plugin->source.collect(in->ctx), TALLY_HOST_OK);
}

/* ---- records ---- */

bool str_is(tally_str s, const char *want)
{
    if (want == NULL)
        return s.ptr == NULL && s.len == 0;
    return s.ptr != NULL && s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0;
}

const tally_usage *usage(const inst *in, size_t i)
{
    const tally_record *r = mock_host_record_at(in->h, i);
    assert_non_null(r);
    assert_int_equal(r->stream, TALLY_STREAM_USAGE);
    return &r->u.usage;
}

/* The ids of the records emitted since the last clear, comma separated,
 * "-" for a NULL id; then the records are cleared. */
char *take_ids(inst *in)
{
    static char buf[8192];
    size_t at = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < mock_host_record_count(in->h); i++) {
        const tally_record *r = mock_host_record_at(in->h, i);
        tally_str id = r->stream == TALLY_STREAM_USAGE        ? r->u.usage.id
                       : r->stream == TALLY_STREAM_CANDIDATES ? r->u.candidate.id
                                                              : r->u.item.id;
        int n = snprintf(buf + at, sizeof(buf) - at, "%s%.*s", i ? "," : "",
                         id.ptr ? (int)id.len : 1, id.ptr ? id.ptr : "-");
        assert_true(n > 0 && (size_t)n < sizeof(buf) - at);
        at += (size_t)n;
    }
    mock_host_records_clear(in->h);
    return buf;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids as take_ids gives them, sorted: for files whose order of
 * modification falls within one tick of the file system's clock. */
char *take_ids_sorted(inst *in)
{
    static char out[8192];
    char *ids = strdup(take_ids(in)), *v[512], *save = NULL;
    size_t n = 0;
    assert_non_null(ids);
    for (char *t = strtok_r(ids, ",", &save); t != NULL && n < 512; t = strtok_r(NULL, ",", &save))
        v[n++] = t;
    qsort(v, n, sizeof(v[0]), cmp_str);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(out, i ? "," : "");
        strcat(out, v[i]);
    }
    free(ids);
    return out;
}

char *rejects_of(const char *title)
{
    char p[PATH_MAX], leaf[256];
    snprintf(leaf, sizeof(leaf), "rejects/%s.csv", title);
    char *all = slurp(spath(p, leaf));
    assert_non_null(all);
    assert_memory_equal(all, "source_file,line,reason,row\n", 28);
    return all;
}

void copy_file(const char *from, const char *to)
{
    char a[PATH_MAX];
    char *all = slurp(spath(a, from));
    assert_non_null(all);
    put(to, all);
    free(all);
}

void truncate_leaf(const char *leaf)
{
    char p[PATH_MAX];
    assert_int_equal(truncate(spath(p, leaf), 0), 0);
}

void cut_after_lines(const char *leaf, size_t n)
{
    char p[PATH_MAX];
    char *all = slurp(spath(p, leaf));
    assert_non_null(all);
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        char *lf = strchr(all + at, '\n');
        assert_non_null(lf);
        at = (size_t)(lf - all) + 1;
    }
    free(all);
    assert_int_equal(truncate(p, (off_t)at), 0);
}

void check_fails(const char *text, int line, const char *needle)
{
    plugin_check_fails(plugin, "t", text, line, needle);
}

/* ---- setup ---- */

int source_test_load(const char *name)
{
    snprintf(scratch_prefix, sizeof(scratch_prefix), "tally-%s-XXXXXX", name);
    plugin = mock_host_load(TALLY_PLUGIN_BUILD_DIR, name, &plugin_dl);
    return plugin != NULL ? 0 : -1;
}

int group_teardown(void **state)
{
    (void)state;
    mock_host_unload(plugin_dl);
    return 0;
}

int setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(scratch, sizeof(scratch), "%s/%s", tmp, scratch_prefix);
    return mkdtemp(scratch) != NULL ? 0 : -1;
}

int teardown(void **state)
{
    (void)state;
    nftw(scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
