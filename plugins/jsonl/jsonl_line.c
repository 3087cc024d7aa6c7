/*
 * jsonl_line.c — see jsonl_line.h: json-c parses the line into a tree,
 * and each field's key is looked up in it.
 *
 * json-c keeps the text of every number with a point or an exponent as
 * it was written (json_object_get_string returns it), so decimals are
 * handed over digit for digit. Whole numbers it converts to 64-bit
 * integers and prints back, which is exact, except that it clamps those
 * beyond 64 bits to the nearest limit: a whole number printed as a limit
 * may have been clamped, and is refused.
 */
#include "jsonl_line.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* JSON objects and arrays nested deeper than this are not read. */
#define JSONL_DEPTH 64

/* One field to look up. */
typedef struct jsonl_key {
    rec_field_id field;
    uint8_t kind; /* REC_K_* */
    bool required;
    const char *name; /* the whole key */
    char *parts;      /* the key cut at its dots: n_parts strings, one after another */
    size_t n_parts;
} jsonl_key;

struct jsonl_line {
    json_tokener *tok;
    json_object *obj; /* the last line's object */
    tally_stream stream;
    size_t max_copy;
    size_t n_keys;
    jsonl_key keys[REC_FIELD_COUNT];
    char reason[224];
};

int jsonl_line_new(tally_stream stream, const char *const keys[REC_FIELD_COUNT], size_t max_copy,
                   jsonl_line **out)
{
    jsonl_line *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -1;
    p->stream = stream;
    p->max_copy = max_copy;
    p->tok = json_tokener_new_ex(JSONL_DEPTH);
    if (p->tok == NULL) {
        free(p);
        return -1;
    }
    /* Strict: no trailing commas, comments or other extensions; and the
     * strings must be UTF-8, as records' strings are. */
    json_tokener_set_flags(p->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    for (int f = 0; f < REC_FIELD_COUNT; f++) {
        if (!rec_stream_has(stream, (rec_field_id)f))
            continue;
        jsonl_key *k = &p->keys[p->n_keys++];
        uint16_t off;
        k->field = (rec_field_id)f;
        rec_field_layout(stream, k->field, &off, &k->kind);
        k->required = rec_stream_requires(stream, k->field);
        k->name = keys[f] ? keys[f] : rec_field_name(k->field);
        if ((k->parts = strdup(k->name)) == NULL) {
            jsonl_line_free(p);
            return -1;
        }
        k->n_parts = 1;
        for (char *c = k->parts; *c; c++)
            if (*c == '.') {
                *c = '\0';
                k->n_parts++;
            }
    }
    *out = p;
    return 0;
}

void jsonl_line_free(jsonl_line *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_keys; i++)
        free(p->keys[i].parts);
    json_object_put(p->obj);
    json_tokener_free(p->tok);
    free(p);
}

/* ---- messages ---- */

static const char *type_name(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
    case json_type_int:
        return "a number";
    case json_type_string:
        return "a string";
    case json_type_array:
        return "an array";
    default:
        return "an object";
    }
}

static const char *kind_name(uint8_t kind)
{
    switch (kind) {
    case REC_K_STR:
        return "a string";
    case REC_K_TIME:
        return "a time";
    case REC_K_BOOL:
        return "true or false";
    default:
        return "a number";
    }
}

/* "model", or "model (key \"llm.model\")" when the key is not the name. */
static int refuse(jsonl_line *p, const jsonl_key *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(jsonl_line *p, const jsonl_key *k, const char *fmt, ...)
{
    const char *field = rec_field_name(k->field);
    int n = strcmp(field, k->name) == 0
                ? snprintf(p->reason, sizeof(p->reason), "%s: ", field)
                : snprintf(p->reason, sizeof(p->reason), "%s (key \"%.64s\"): ", field, k->name);
    if (n > 0 && (size_t)n < sizeof(p->reason)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->reason + n, sizeof(p->reason) - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return JSONL_BAD;
}

/* ---- values ---- */

/* k's value in obj: 0 with *v (NULL for a JSON null), 1 when absent, 2
 * when a part of a dotted key on the way is no object (*v is it). The
 * whole key is tried first: an object may have keys with dots in them. */
static int lookup(json_object *obj, const jsonl_key *k, json_object **v)
{
    if (json_object_object_get_ex(obj, k->name, v))
        return 0;
    if (k->n_parts < 2)
        return 1;
    const char *part = k->parts;
    json_object *at = obj;
    for (size_t i = 0; i < k->n_parts; i++, part += strlen(part) + 1) {
        json_object *next;
        if (!json_object_object_get_ex(at, part, &next))
            return 1;
        *v = next;
        if (i + 1 == k->n_parts || next == NULL)
            return 0; /* the value, or a null on the way: NULL */
        if (!json_object_is_type(next, json_type_object))
            return 2;
        at = next;
    }
    return 1;
}

/* The text of k's value v into *out: JSONL_ROW, or JSONL_BAD. */
static int value_text(jsonl_line *p, const jsonl_key *k, json_object *v, rec_value *out)
{
    const char *text = NULL;
    size_t len = 0;
    switch (json_object_get_type(v)) {
    case json_type_null:
        break;
    case json_type_string:
        text = json_object_get_string(v);
        len = (size_t)json_object_get_string_len(v);
        break;
    case json_type_int:
        text = json_object_get_string(v);
        len = strlen(text);
        if (strcmp(text, "18446744073709551615") == 0 || strcmp(text, "-9223372036854775808") == 0)
            return refuse(p, k,
                          "%s is at the limit of a JSON whole number, beyond which json-c "
                          "cannot read one exactly; write it as a string",
                          text);
        break;
    case json_type_double:
        /* The text as written (json-c keeps it for numbers it parsed). */
        text = json_object_get_string(v);
        len = strlen(text);
        break;
    case json_type_boolean:
        if (k->kind != REC_K_BOOL)
            return refuse(p, k, "a boolean where %s is expected", kind_name(k->kind));
        text = json_object_get_boolean(v) ? "true" : "false";
        len = strlen(text);
        break;
    default:
        return refuse(p, k, "%s where %s is expected", type_name(v), kind_name(k->kind));
    }
    out->ptr = text;
    out->len = (uint32_t)len;
    return JSONL_ROW;
}

/* ---- lines ---- */

static bool blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Parse s[0..n) into p->obj: JSONL_ROW, or JSONL_BAD with p->reason. */
static int parse_object(jsonl_line *p, const char *s, size_t n, size_t skipped)
{
    if (n > INT_MAX) {
        snprintf(p->reason, sizeof(p->reason), "not JSON: the line is too long to parse");
        return JSONL_BAD;
    }
    json_tokener_reset(p->tok);
    json_object *obj = json_tokener_parse_ex(p->tok, s, (int)n);
    enum json_tokener_error err = json_tokener_get_error(p->tok);
    size_t end = json_tokener_get_parse_end(p->tok);
    if (err == json_tokener_continue) {
        /* A value at the line's end that could go on (a number, "true"):
         * a NUL says it does not. */
        obj = json_tokener_parse_ex(p->tok, "", 1);
        err = json_tokener_get_error(p->tok);
        end = n;
    }
    p->obj = obj;
    if (err != json_tokener_success) {
        snprintf(p->reason, sizeof(p->reason), "not JSON: %s (at byte %zu)",
                 json_tokener_error_desc(err), skipped + end + 1);
        return JSONL_BAD;
    }
    if (end < n) {
        snprintf(p->reason, sizeof(p->reason),
                 "not JSON: something follows the value (at byte %zu)", skipped + end + 1);
        return JSONL_BAD;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        snprintf(p->reason, sizeof(p->reason), "not a JSON object but %s", type_name(obj));
        return JSONL_BAD;
    }
    return JSONL_ROW;
}

int jsonl_line_parse(jsonl_line *p, const char *line, size_t len, rec_value row[REC_FIELD_COUNT],
                     const char **reason)
{
    json_object_put(p->obj);
    p->obj = NULL;
    *reason = p->reason;
    const char *s = line;
    size_t n = len;
    /* A UTF-8 byte order mark, as editors save one before the first line. */
    if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    while (n > 0 && blank(*s)) {
        s++;
        n--;
    }
    while (n > 0 && blank(s[n - 1]))
        n--;
    if (n == 0)
        return JSONL_BLANK;
    if (!rec_utf8_valid((const unsigned char *)s, n)) {
        *reason = "not JSON: invalid UTF-8 (a stray, overlong or surrogate sequence)";
        return JSONL_BAD;
    }
    if (parse_object(p, s, n, (size_t)(s - line)) != JSONL_ROW)
        return JSONL_BAD;
    memset(row, 0, sizeof(rec_value) * REC_FIELD_COUNT);
    size_t copy = 0;
    for (size_t i = 0; i < p->n_keys; i++) {
        const jsonl_key *k = &p->keys[i];
        json_object *v = NULL;
        int rc = lookup(p->obj, k, &v);
        if (rc == 1) {
            if (k->required)
                return refuse(p, k, "missing; stream %s requires it", rec_stream_name(p->stream));
            continue;
        }
        if (rc == 2)
            return refuse(p, k, "%s on the way to it, where an object is expected", type_name(v));
        if (value_text(p, k, v, &row[k->field]) != JSONL_ROW)
            return JSONL_BAD;
        if (k->kind == REC_K_STR)
            copy += row[k->field].len;
    }
    /* String values are copied into an arena one row long; a key read
     * for several fields is copied for each. */
    if (copy > p->max_copy) {
        snprintf(p->reason, sizeof(p->reason),
                 "its string values take %zu bytes, more than %zu (a key read for several "
                 "fields counts for each)",
                 copy, p->max_copy);
        return JSONL_BAD;
    }
    return JSONL_ROW;
}
