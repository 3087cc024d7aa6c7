/*
 * file_members.c — some of the JSON document's top-level members, as the
 * text streams by: the split layout's current.json is the document less
 * its two long lists, and a day file is a date and those two lists alone.
 *
 * exporters/format writes the document one top-level member per line
 * start, indented by exactly one space (` "key": value`), and everything
 * inside a member one space deeper (json.c). A JSON string holds no raw
 * line feed, so a line that starts with a space and a quote begins a
 * member, any other line continues the one before, and the document ends
 * with a line "}". The filter reads whole lines, keeps or drops each
 * member, and holds the last kept line back until it knows whether
 * another member follows: the last kept one must lose its comma.
 */
#include "file.h"

#include <string.h>

void file_members_init(file_members *m, const char *const *names, int keep, const char *date,
                       tally_format_sink out, void *out_arg)
{
    memset(m, 0, sizeof(*m));
    m->names = names;
    m->keep = keep;
    m->date = date;
    m->out = out;
    m->out_arg = out_arg;
    tf_buf_init(&m->line);
    tf_buf_init(&m->held);
}

void file_members_free(file_members *m)
{
    tf_buf_free(&m->line);
    tf_buf_free(&m->held);
}

static int listed(const file_members *m, const char *key, size_t n)
{
    for (const char *const *p = m->names; *p != NULL; p++)
        if (strlen(*p) == n && memcmp(*p, key, n) == 0)
            return 1;
    return 0;
}

/* Hand the held line on and hold this one instead. */
static int emit(file_members *m, const char *s, size_t n)
{
    if (m->held.len > 0 && m->out(m->out_arg, m->held.p, m->held.len) != 0)
        return -1;
    m->held.len = 0;
    tf_buf_add(&m->held, s, n);
    return m->held.failed ? -1 : 0;
}

/* The end of the document: the held line without its comma, then "}". */
static int finish(file_members *m, const char *s, size_t n)
{
    size_t len = m->held.len;
    if (len >= 2 && m->held.p[len - 2] == ',' && m->held.p[len - 1] == '\n') {
        m->held.p[len - 2] = '\n';
        len--;
    }
    if (len > 0 && m->out(m->out_arg, m->held.p, len) != 0)
        return -1;
    m->held.len = 0;
    return m->out(m->out_arg, s, n);
}

static int line_done(file_members *m, const char *s, size_t n)
{
    if (n == 2 && s[0] == '{') {
        if (emit(m, s, n) != 0)
            return -1;
        if (m->date == NULL)
            return 0;
        tf_buf date;
        tf_buf_init(&date);
        tf_buf_printf(&date, " \"date\": \"%s\",\n", m->date);
        int rc = date.failed ? -1 : emit(m, date.p, date.len);
        tf_buf_free(&date);
        return rc;
    }
    if (n == 2 && s[0] == '}')
        return finish(m, s, n);
    if (n > 2 && s[0] == ' ' && s[1] == '"') {
        const char *end = memchr(s + 2, '"', n - 2);
        size_t key_len = end != NULL ? (size_t)(end - (s + 2)) : 0;
        m->keeping = listed(m, s + 2, key_len) == m->keep;
    }
    return m->keeping ? emit(m, s, n) : 0;
}

int file_members_sink(void *arg, const char *data, size_t len)
{
    file_members *m = arg;
    while (len > 0) {
        const char *nl = memchr(data, '\n', len);
        size_t take = nl != NULL ? (size_t)(nl - data) + 1 : len;
        tf_buf_add(&m->line, data, take);
        if (m->line.failed)
            return -1;
        data += take;
        len -= take;
        if (nl == NULL)
            break;
        int rc = line_done(m, m->line.p, m->line.len);
        m->line.len = 0;
        if (rc != 0)
            return -1;
    }
    return 0;
}
