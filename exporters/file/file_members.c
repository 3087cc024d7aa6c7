/*
 * file_members.c — some of the JSON document's top-level members, as the
 * text streams by: the split layout's current.json is the document less
 * its two long lists, and a day file is a date and those two lists alone.
 *
 * exporters/format writes the document one top-level member per line
 * start, indented by exactly one space (` "key": value`), and everything
 * inside a member one space deeper (json.c). A JSON string holds no raw
 * line feed, so a line that starts with a space and a quote begins a
 * member, any other line continues the one before, a line indented by
 * one space that opens nothing (`[` or `{` at its end) ends its member,
 * and the document ends with a line "}". The filter keeps or drops each
 * member whole. The separator after a kept member (",\n" or, after the
 * last, "\n") is written only once the next kept member or the end shows
 * which it is. Lines are read where they lie in format's pieces (a line
 * cut between two is put together first), and what is kept is gathered
 * into pieces of TF_BUF_PIECE bytes again, not a write per line.
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
    tf_buf_init_sink(&m->out, out, out_arg);
    tf_buf_init(&m->line);
}

void file_members_free(file_members *m)
{
    tf_buf_free(&m->out);
    tf_buf_free(&m->line);
}

static int listed(const file_members *m, const char *key, size_t n)
{
    for (const char *const *p = m->names; *p != NULL; p++)
        if (strlen(*p) == n && memcmp(*p, key, n) == 0)
            return 1;
    return 0;
}

/* The start of a member: "," before it unless it is the first. */
static void member_start(file_members *m)
{
    if (m->after_member)
        tf_buf_puts(&m->out, ",\n");
    m->after_member = 0;
}

/* A member's last line, s[0..n) without its separator. */
static void member_end(file_members *m, const char *s, size_t n)
{
    n--; /* the line feed */
    if (n > 0 && s[n - 1] == ',')
        n--;
    tf_buf_add(&m->out, s, n);
    m->after_member = 1;
}

/* One whole line, s[0..n) with its line feed. */
static void line_done(file_members *m, const char *s, size_t n)
{
    if (s[0] == '{') {
        tf_buf_add(&m->out, s, n);
        if (m->date != NULL) {
            tf_buf_printf(&m->out, " \"date\": \"%s\"", m->date);
            m->after_member = 1;
        }
        return;
    }
    if (s[0] == '}') {
        if (m->after_member)
            tf_buf_puts(&m->out, "\n");
        tf_buf_add(&m->out, s, n);
        tf_buf_flush(&m->out);
        return;
    }
    if (n > 2 && s[0] == ' ' && s[1] == '"') {
        const char *end = memchr(s + 2, '"', n - 2);
        size_t key_len = end != NULL ? (size_t)(end - (s + 2)) : 0;
        m->keeping = listed(m, s + 2, key_len) == m->keep;
        if (m->keeping)
            member_start(m);
    }
    if (!m->keeping)
        return;
    if (n > 2 && s[0] == ' ' && s[1] != ' ' && s[n - 2] != '[' && s[n - 2] != '{')
        member_end(m, s, n);
    else
        tf_buf_add(&m->out, s, n);
}

int file_members_sink(void *arg, const char *data, size_t len)
{
    file_members *m = arg;
    while (len > 0 && !m->out.failed) {
        const char *nl = memchr(data, '\n', len);
        if (nl == NULL) { /* the start of a line the next piece ends */
            tf_buf_add(&m->line, data, len);
            break;
        }
        size_t take = (size_t)(nl - data) + 1;
        if (m->line.len > 0) {
            tf_buf_add(&m->line, data, take);
            if (!m->line.failed)
                line_done(m, m->line.p, m->line.len);
            m->line.len = 0;
        } else {
            line_done(m, data, take);
        }
        data += take;
        len -= take;
    }
    return m->out.failed || m->line.failed ? -1 : 0;
}
