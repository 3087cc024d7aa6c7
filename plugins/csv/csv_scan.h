/*
 * csv_scan.h — the RFC 4180 row scanner of the csv source: splits a buffer
 * of a growing file into rows and fields without copying, and names what is
 * wrong with a row it cannot accept.
 *
 * Rows. A row ends at an LF outside quotes; a CR right before that LF is
 * dropped. A quoted field may hold commas, LFs and doubled quotes. An empty
 * line is a row of one empty field (the caller sees *used of 1, or 2 with
 * CRLF, and may skip it). Every row must be valid UTF-8 (RFC 3629) without
 * NUL bytes. A CR anywhere else in an unquoted field is data.
 *
 * Fields. ptr points into buf, except for a quoted field with doubled
 * quotes, which is unescaped into memory the scanner owns. The field array
 * and that memory stay valid until the next call on the same scanner.
 *
 * Results, for both scan functions. Every call consumes *used bytes and sets
 * row->lines to the LFs among them, so a caller advances by *used and adds
 * row->lines to its line count after every call, whatever the result:
 *
 *   CSV_ROW        a row; *used runs through its LF (or, for the last
 *                  row of csv_scan_last_row, to the end of buf).
 *   CSV_BAD        a row that is set aside; *reason is a static English
 *                  phrase, row->n_fields is 0, and *used runs through the
 *                  bad row's LF, so the next call starts on the next row.
 *                  After a quote out of place the row ends at the next LF,
 *                  quotes no longer counted; after other faults (NUL,
 *                  UTF-8, limits) quoting still decides where the row ends.
 *   CSV_NEED_MORE  no complete row in buf: *used is 0, and the caller calls
 *                  again with the same bytes and more after them. *used is
 *                  more than 0 only while the rest of an over-long row is
 *                  discarded (below); then the caller calls again at once.
 *
 * So a caller's loop is: call; advance; if CSV_NEED_MORE with *used 0, read
 * more; otherwise call again.
 *
 * Over-long rows. A row may be max_row_bytes long, its LF included. When
 * buf holds more than max_row_bytes bytes and no row has ended within the
 * first max_row_bytes, the call returns CSV_BAD with *used = max_row_bytes
 * (the row's head, for a reject file) without waiting for the row's end.
 * From then on the scanner discards bytes through the next LF, quotes not
 * counted: each call that discards returns CSV_NEED_MORE with *used = bytes
 * discarded (all of buf until that LF arrives, through the LF when it
 * does), after which scanning is back to normal. So a reader's buffer must
 * be able to hold max_row_bytes + 1 bytes (see csv_scanner_row_limit), or
 * grow when it is full and the result is CSV_NEED_MORE with *used 0.
 *
 * Errors take the first fault in the row in byte order (a field's length
 * and the field count are checked where the field ends); invalid UTF-8 is
 * named only for a row without another fault.
 */
#ifndef TALLY_CSV_SCAN_H
#define TALLY_CSV_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record/record.h"

/* A field; quotes removed; len 0 is an empty field (also "" quoted). It
 * is lib/record's value, so a row goes to rec_conv_row as it is. */
typedef rec_value csv_field;

/* 0 picks the default: 512 fields, 64 KiB a field, 1 MiB a row. */
typedef struct csv_limits {
    size_t max_fields;
    size_t max_field_bytes;
    size_t max_row_bytes;
} csv_limits;

#define CSV_DEFAULT_MAX_FIELDS 512
#define CSV_DEFAULT_MAX_FIELD_BYTES (64u * 1024u)
#define CSV_DEFAULT_MAX_ROW_BYTES (1024u * 1024u)

typedef struct csv_scanner csv_scanner;

enum { CSV_ROW = 0, CSV_NEED_MORE = 1, CSV_BAD = 2 };

typedef struct csv_row {
    const csv_field *fields;
    size_t n_fields;
    size_t lines; /* LFs consumed: 1 for a row, more with quoted newlines */
} csv_row;

/* A scanner with the limits in lim (NULL: all defaults). 0, or -1 when
 * out of memory. */
int csv_scanner_new(const csv_limits *lim, csv_scanner **out);
void csv_scanner_free(csv_scanner *s);

/* The longest row the scanner accepts, LF included. A caller's buffer
 * must be able to hold one byte more. */
size_t csv_scanner_row_limit(const csv_scanner *s);

/* Whether the scanner is discarding the rest of an over-long row; and,
 * for a reader that resumes inside one (after a restart, say), a way to
 * put a new scanner into that state. */
bool csv_scanner_discarding(const csv_scanner *s);
void csv_scanner_discard_rest(csv_scanner *s);

/* Scan one row at buf[0..len). See above for the results. */
int csv_scan_row(csv_scanner *s, const char *buf, size_t len, csv_row *row, size_t *used,
                 const char **reason);

/* As csv_scan_row, for a file that will not grow (rotated away, or read to
 * its end for the last time): the end of buf also ends a row, so a last
 * line without LF is a row, and a quote still open there makes it bad. An
 * empty buf gives CSV_NEED_MORE with *used 0. */
int csv_scan_last_row(csv_scanner *s, const char *buf, size_t len, csv_row *row, size_t *used,
                      const char **reason);

#endif
