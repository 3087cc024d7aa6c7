/*
 * metricmap_parse.c — globs into parts and label templates into pieces,
 * each refusal saying what to write instead.
 */
#include "metricmap_priv.h"

#include <stdio.h>
#include <string.h>

static int has_control(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

int mm_split_glob(const char *glob, mm_piece *parts, size_t *n, size_t *stars, char *why,
                  size_t cap)
{
    *n = *stars = 0;
    if (glob == NULL || glob[0] == '\0') {
        snprintf(why, cap, "the glob is empty: give dotted parts such as \"llm.*.tokens\"");
        return -1;
    }
    if (strlen(glob) > METRICMAP_MAX_TEXT) {
        snprintf(why, cap, "the glob is longer than %d bytes: no counter name is that long",
                 METRICMAP_MAX_TEXT);
        return -1;
    }
    if (has_control(glob)) {
        snprintf(why, cap, "the glob holds a control character, which no counter name has");
        return -1;
    }
    for (const char *p = glob;;) {
        size_t len = strcspn(p, ".");
        if (len == 0) {
            snprintf(why, cap,
                     "the glob has an empty part (a leading, trailing or doubled '.'): each "
                     "part between dots is text or '*'");
            return -1;
        }
        int star = len == 1 && p[0] == '*';
        if (!star && memchr(p, '*', len) != NULL) {
            snprintf(why, cap,
                     "the glob part \"%.*s\" mixes '*' with text: '*' stands for one whole "
                     "part (\"llm.*.tokens\"), never for part of one",
                     (int)len, p);
            return -1;
        }
        if (star && *stars == METRICMAP_MAX_STARS) {
            snprintf(why, cap, "the glob has more than %d '*'", METRICMAP_MAX_STARS);
            return -1;
        }
        parts[(*n)++] = (mm_piece){p, len, star ? (int)(*stars)++ : -1};
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

static int label_name_char(char c, int first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (!first && c >= '0' && c <= '9');
}

static int check_label_name(const char *label, size_t len, char *why, size_t cap)
{
    if (len == 0) {
        snprintf(why, cap, "label \"%s\" has no name before '=': write name=value", label);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (!label_name_char(label[i], i == 0)) {
            snprintf(why, cap,
                     "label name \"%.*s\" is not [a-zA-Z_][a-zA-Z0-9_]* (no spaces around "
                     "'='): write e.g. \"model=$1\"",
                     (int)len, label);
            return -1;
        }
    }
    if (len >= 2 && label[0] == '_' && label[1] == '_') {
        snprintf(why, cap,
                 "label name \"%.*s\" starts with __, which Prometheus reserves: rename it",
                 (int)len, label);
        return -1;
    }
    return 0;
}

/* The template after '=' into pieces. */
static int split_template(const char *label, const char *t, size_t stars, mm_piece *pieces,
                          size_t *n, char *why, size_t cap)
{
    while (*t != '\0') {
        if (*t != '$') {
            size_t len = strcspn(t, "$");
            pieces[(*n)++] = (mm_piece){t, len, -1};
            t += len;
        } else if (t[1] == '$') {
            pieces[(*n)++] = (mm_piece){t + 1, 1, -1};
            t += 2;
        } else if (t[1] >= '0' && t[1] <= '9') {
            unsigned long k = 0;
            const char *d = t + 1;
            for (; *d >= '0' && *d <= '9'; d++)
                if (k <= METRICMAP_MAX_STARS) /* past it, k only needs to stay too big */
                    k = k * 10 + (unsigned long)(*d - '0');
            if (k == 0 || k > stars) {
                if (stars == 0)
                    snprintf(why, cap,
                             "label \"%s\" uses $%.*s, but the glob has no '*' to take it from",
                             label, (int)(d - t - 1), t + 1);
                else
                    snprintf(why, cap, "label \"%s\" uses $%.*s, but the glob's '*' are $1..$%zu",
                             label, (int)(d - t - 1), t + 1, stars);
                return -1;
            }
            pieces[(*n)++] = (mm_piece){t, (size_t)(d - t), (int)k - 1};
            t = d;
        } else {
            snprintf(why, cap,
                     "label \"%s\" has a '$' without a number: write $N for the N-th '*' of "
                     "the glob, or $$ for a '$'",
                     label);
            return -1;
        }
    }
    return 0;
}

int mm_split_label(const char *label, size_t stars, size_t *name_len, mm_piece *pieces, size_t *n,
                   char *why, size_t cap)
{
    *n = *name_len = 0;
    if (label == NULL || strlen(label) > METRICMAP_MAX_TEXT) {
        snprintf(why, cap, "a label is longer than %d bytes: shorten it", METRICMAP_MAX_TEXT);
        return -1;
    }
    const char *eq = strchr(label, '=');
    if (eq == NULL) {
        snprintf(why, cap, "label \"%s\" has no '=': write name=value, e.g. \"model=$1\"", label);
        return -1;
    }
    *name_len = (size_t)(eq - label);
    if (check_label_name(label, *name_len, why, cap) != 0)
        return -1;
    if (eq[1] == '\0') {
        snprintf(why, cap,
                 "label \"%s\" has an empty value, which Prometheus takes for no label: give "
                 "text or $N",
                 label);
        return -1;
    }
    if (has_control(eq + 1)) {
        snprintf(why, cap, "label \"%.*s\" holds a control character: remove it", (int)*name_len,
                 label);
        return -1;
    }
    return split_template(label, eq + 1, stars, pieces, n, why, cap);
}
