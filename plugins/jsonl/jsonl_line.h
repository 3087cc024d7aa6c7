/*
 * jsonl_line.h — one line of a JSON-lines file to one row of values: the
 * line must hold one JSON object; each field of the stream is looked up
 * by its key (the field's name, or its `columns` rename), a dotted key
 * such as "usage.input_tokens" going down into nested objects when the
 * object has no key with the dots in it. The values keep their text as
 * written, numbers included, for lib/record's exact parsers: a cost never
 * passes through a double.
 *
 * Rules (test_jsonl_line.c tests each): a key that is absent, and a JSON
 * null, are NULL; a key a stream requires must be there (null allowed, as
 * an empty CSV field is). Strings give their text (unescaped), numbers
 * their text as written, booleans "true"/"false". A number given as a
 * string ("0.001") reads as the number does. An object or an array where
 * a value is expected, and a boolean for a field that is not one, are of
 * the wrong type. A whole number beyond 64 bits (json-c keeps no text of
 * those, it clamps them) is refused rather than read wrong; written with
 * a point or an exponent ("1e30", "12345678901234567890123.0") it keeps
 * its text. A line of blanks is no row.
 */
#ifndef TALLY_PLUGIN_JSONL_LINE_H
#define TALLY_PLUGIN_JSONL_LINE_H

#include <stddef.h>

#include "record/record.h"

typedef struct jsonl_line jsonl_line;

/* What jsonl_line_parse found. */
enum { JSONL_ROW = 0, JSONL_BLANK = 1, JSONL_BAD = 2 };

/* A parser for rows of stream; keys[f] is the key of field f (NULL: the
 * field's own name). max_copy bounds the bytes of the string fields' values
 * of a row (lib/record copies them into an arena of that size). 0, or -1
 * when out of memory. */
int jsonl_line_new(tally_stream stream, const char *const keys[REC_FIELD_COUNT], size_t max_copy,
                   jsonl_line **out);
void jsonl_line_free(jsonl_line *p);

/* Parse line (len bytes, no line end; it need not end in NUL) into
 * row[REC_FIELD_COUNT], indexed by rec_field_id (rec_colmap_fields' map).
 * The values point into p's memory until the next parse or free.
 * JSONL_ROW; JSONL_BLANK; JSONL_BAD with *reason (p's memory, as above). */
int jsonl_line_parse(jsonl_line *p, const char *line, size_t len, rec_value row[REC_FIELD_COUNT],
                     const char **reason);

#endif
