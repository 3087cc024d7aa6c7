/*
 * log_line.c — see log_line.h.
 */
#include "log_line.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static void write_text(FILE *out, const log_entry *e)
{
    if (e->stamp != NULL)
        fprintf(out, "%s tallyd %s: ", e->stamp, e->level);
    if (e->plugin != NULL && e->instance != NULL)
        fprintf(out, "%s \"%s\": ", e->plugin, e->instance);
    else if (e->plugin != NULL)
        fprintf(out, "%s: ", e->plugin);
    fputs(e->text, out);
}

/* A logfmt value goes bare when a reader cannot mistake where it ends:
 * not empty, and no space, quote, '=', backslash or control byte. */
static int logfmt_bare(const char *v)
{
    if (*v == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p == 0x7f)
            return 0;
    return 1;
}

/* Quoted with JSON's escapes, which every logfmt reader (and a JSON
 * string parser) understands; bytes above 0x7f pass as they are. */
static void logfmt_quoted(FILE *out, const char *v)
{
    /* Each byte of `plain` is written as a backslash and the byte of
     * `named` at its place. */
    static const char plain[] = "\"\\\n\r\t", named[] = "\"\\nrt";
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        const char *at = strchr(plain, *p);
        if (at != NULL)
            fprintf(out, "\\%c", named[at - plain]);
        else if (*p < ' ' || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void logfmt_pair(FILE *out, const char *sep, const char *key, const char *v, int quote)
{
    fprintf(out, "%s%s=", sep, key);
    if (quote || !logfmt_bare(v))
        logfmt_quoted(out, v);
    else
        fputs(v, out);
}

static void write_logfmt(FILE *out, const log_entry *e)
{
    if (e->stamp != NULL)
        logfmt_pair(out, "", "ts", e->stamp, 0);
    logfmt_pair(out, e->stamp != NULL ? " " : "", "level", e->level, 0);
    logfmt_pair(out, " ", "msg", e->text, 1);
    if (e->plugin != NULL)
        logfmt_pair(out, " ", "plugin", e->plugin, 0);
    if (e->plugin != NULL && e->instance != NULL)
        logfmt_pair(out, " ", "instance", e->instance, 0);
}

/* jansson takes only UTF-8; a message with other bytes (a file name
 * read from disk, say) keeps them as '?' rather than being lost. */
static json_t *json_text(const char *v)
{
    json_t *s = json_string(v);
    if (s != NULL)
        return s;
    char *ascii = strdup(v);
    if (ascii == NULL)
        return NULL;
    for (unsigned char *p = (unsigned char *)ascii; *p; p++)
        if (*p > 0x7f)
            *p = '?';
    s = json_string(ascii);
    free(ascii);
    return s;
}

static int write_json(FILE *out, const log_entry *e)
{
    json_t *o = json_object();
    int bad = o == NULL;
    if (!bad && e->stamp != NULL)
        bad |= json_object_set_new(o, "ts", json_text(e->stamp));
    if (!bad) {
        bad |= json_object_set_new(o, "level", json_text(e->level));
        bad |= json_object_set_new(o, "msg", json_text(e->text));
    }
    if (!bad && e->plugin != NULL)
        bad |= json_object_set_new(o, "plugin", json_text(e->plugin));
    if (!bad && e->plugin != NULL && e->instance != NULL)
        bad |= json_object_set_new(o, "instance", json_text(e->instance));
    char *line = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (line == NULL)
        return -1;
    fputs(line, out);
    free(line);
    return 0;
}

int log_line_write(FILE *out, log_format format, const log_entry *e)
{
    switch (format) {
    case LOG_FORMAT_LOGFMT:
        write_logfmt(out, e);
        return 0;
    case LOG_FORMAT_JSON:
        return write_json(out, e);
    case LOG_FORMAT_TEXT:
    default:
        write_text(out, e);
        return 0;
    }
}
