/*
 * csv_rows.h — from CSV rows to tally records: the fields of each stream
 * and their header names, the column map a file's header row gives, the
 * conversion of one row (only its mapped columns are looked at), and the
 * batch records wait in until they are emitted.
 *
 * Records hold byte slices. A slice points into the caller's read buffer
 * when the field's bytes are there, or into the batch's arena when the
 * scanner had to unescape the field into its own memory, which the next
 * scan overwrites. So a batch must be emitted before the read buffer
 * changes; the arena lives as long as the batch.
 */
#ifndef TALLY_CSV_ROWS_H
#define TALLY_CSV_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csv_scan.h"
#include "csv_value.h"
#include "tally/plugin.h"

/* Every field of every stream (DESIGN.md's names). */
typedef enum csv_field_id {
    CSV_F_ID,
    CSV_F_REQUEST_ID,
    CSV_F_CREATED_AT,
    CSV_F_USER_ID,
    CSV_F_API_KEY_ID,
    CSV_F_PROVIDER,
    CSV_F_MODEL,
    CSV_F_STATUS_CODE,
    CSV_F_ERROR_MESSAGE,
    CSV_F_INPUT_TOKENS,
    CSV_F_OUTPUT_TOKENS,
    CSV_F_CACHE_CREATION_INPUT_TOKENS,
    CSV_F_CACHE_READ_INPUT_TOKENS,
    CSV_F_INPUT_COST_USD,
    CSV_F_OUTPUT_COST_USD,
    CSV_F_CACHE_CREATION_COST_USD,
    CSV_F_CACHE_READ_COST_USD,
    CSV_F_TOTAL_COST_USD,
    CSV_F_ACTUAL_TOTAL_COST_USD,
    CSV_F_RESPONSE_TIME_MS,
    CSV_F_STATUS,
    CSV_F_IS_ACTIVE,
    CSV_FIELD_COUNT
} csv_field_id;

/* "usage", "candidates", "users", "api_keys" -> the stream: 0 or -1. */
int csv_stream_from_name(const char *name, tally_stream *out);
const char *csv_stream_name(tally_stream stream);
/* A field's name, and whether it belongs to (and is required by) a stream. */
const char *csv_field_name(csv_field_id f);
bool csv_stream_has(tally_stream stream, csv_field_id f);
bool csv_stream_requires(tally_stream stream, csv_field_id f);
/* The field called name (n bytes): 0 and *out, or -1. */
int csv_field_lookup(const char *name, size_t n, csv_field_id *out);
/* The stream's fields as "a, b, c" for messages. */
const char *csv_stream_field_list(tally_stream stream);
/* Check the `columns` option of a section: each entry "field=name" names
 * a field of the stream (of any stream when stream is NULL), no field
 * twice. `name` is what the renamed thing is called in messages
 * ("header", "column"). Each problem goes to report(arg, message), the
 * message naming the option and the entry; returns how many there were. */
int csv_columns_check(cfg_t *section, const tally_stream *stream, const char *name,
                      void (*report)(void *arg, const char *message), void *arg);

/* How a field's value is read: its type, and for two fields whether a
 * value also sets a flag (NULL is told apart from 0 there). */
enum { CSV_K_STR, CSV_K_TIME, CSV_K_INT, CSV_K_STATUS, CSV_K_FIXED, CSV_K_RT, CSV_K_BOOL };
/* Where field f's value goes in a tally_record of the stream (*off, from
 * the record's start) and how it is read (*kind, CSV_K_*): also for
 * sources that fill records from other inputs (the odbc source). */
void csv_field_layout(tally_stream stream, csv_field_id f, uint16_t *off, uint8_t *kind);

/* Which header column feeds which field; only the stream's fields. */
typedef struct csv_colmap {
    size_t n_cols; /* fields in the header row: every row must have as many */
    size_t n_mapped;
    bool complete; /* the usage stream with every field mapped (csv_rows.c) */
    struct {
        uint32_t col;
        csv_field_id field;
        uint16_t off; /* where the value goes in a tally_record */
        uint8_t kind; /* how it is read (csv_rows.c) */
    } mapped[CSV_FIELD_COUNT];
} csv_colmap;

/* Build *m from a header row. names[f] is the header name that feeds
 * field f (its own name unless the `columns` option renamed it); names
 * compare without spaces around them, and one column may feed several
 * fields. A header column that names no field is ignored; when two
 * columns carry one name the first counts. 0, or -1 with *missing the
 * first required field without a column. */
int csv_colmap_build(tally_stream stream, const char *const names[CSV_FIELD_COUNT],
                     const csv_row *header, csv_colmap *m, csv_field_id *missing);

/* How instants without a zone designator are read. */
typedef enum csv_naive_kind {
    CSV_NAIVE_UTC,
    CSV_NAIVE_OFFSET,   /* a fixed offset */
    CSV_NAIVE_BUSINESS, /* the agent's zone, through api->local_to_utc */
} csv_naive_kind;

/* The naive_timezone option's text ("UTC", "business", "+08:00") to
 * *kind and, for a fixed offset, *offset_s: 0, or -1 for anything else. */
int csv_naive_parse(const char *text, csv_naive_kind *kind, int32_t *offset_s);

/* "+08:00", "-0530", "+08" -> seconds east of UTC: 0 or -1. */
int csv_conf_parse_offset(const char *text, int32_t *out);

#define CSV_HOUR_CACHE 64

/* What converting a row needs besides the row. */
typedef struct csv_conv {
    tally_stream stream;
    csv_time_format time_format;
    csv_naive_kind naive;
    int32_t naive_offset_s; /* CSV_NAIVE_OFFSET: local = UTC + this */
    tally_host *host;
    const tally_host_api *api;
    /* The business zone's UTC offset per local hour, so that a file of one
     * day costs a couple of dozen local_to_utc calls, not one per row.
     * `uniform` says the offset holds for the whole hour; an hour with a
     * transition in it (or a repeated or skipped one) asks per row. */
    struct {
        int64_t hour;
        int64_t offset_s;
        bool valid, uniform;
    } hours[CSV_HOUR_CACHE];
    char reason[192]; /* why the last row was refused */
} csv_conv;

/* Forget the hour cache (the zone may differ after a reload). */
void csv_conv_reset(csv_conv *c);
/* An instant's text, in c->time_format; a time without a zone is read
 * in the zone c->naive says. UTC nanoseconds in *ns: 0, or -1. */
int csv_conv_instant(csv_conv *c, const char *p, size_t n, int64_t *ns);
/* A wall-clock time without a zone, as nanoseconds since 1970-01-01T00:00
 * of that clock, to UTC nanoseconds as c->naive says: 0, or -1. */
int csv_conv_naive(csv_conv *c, int64_t wall_ns, int64_t *ns);

/* Records waiting to be emitted, and the arena their scanner-owned
 * strings were copied to. */
typedef struct csv_batch {
    tally_record *recs;
    size_t n, cap;
    char *arena;
    size_t used, arena_cap;
    tally_host *host;
    const tally_host_api *api;
    uint64_t emitted; /* records handed over since the counter was reset */
} csv_batch;

/* arena_cap must hold the longest row. 0 or -1 (out of memory). */
int csv_batch_init(csv_batch *b, size_t cap, size_t arena_cap, tally_host *host,
                   const tally_host_api *api);
void csv_batch_free(csv_batch *b);
/* Emit what waits (nothing to do when empty). 0 or TALLY_HOST_ERR. */
int csv_batch_flush(csv_batch *b);

/* Convert row (its fields in a buffer spanning [lo, hi): fields outside
 * it are copied to the arena) into the batch's next slot, *out, without
 * committing it: the caller commits with csv_batch_commit, or drops it
 * by doing nothing. The batch is flushed first when it has no room, so
 * the caller's buffer must still hold earlier rows' bytes.
 *   0   converted;
 *   1   refused: c->reason says which column and why;
 *   -1  emitting a full batch failed. */
int csv_conv_row(csv_conv *c, const csv_colmap *m, const csv_row *row, const char *lo,
                 const char *hi, csv_batch *b, tally_record **out);
void csv_batch_commit(csv_batch *b);

#endif
