/*
 * csv_read.h — reading a file's content in large blocks: plain files with
 * pread from a given offset, gzip files through zlib, where offsets count
 * uncompressed bytes (a gzip stream cannot seek, so going forward means
 * decompressing). The block buffer keeps the bytes the scanner has not
 * used yet at its front and appends new ones behind them.
 */
#ifndef TALLY_CSV_READ_H
#define TALLY_CSV_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

/* Bytes asked of the kernel or zlib per read. */
#define CSV_READ_BLOCK (1024u * 1024u)

typedef struct csv_input {
    int fd;         /* borrowed: closed by whoever opened it */
    gzFile gz;      /* NULL for a plain file */
    uint64_t pos;   /* content bytes delivered so far */
    uint64_t limit; /* plain: the file's size when opened; not read beyond */
    bool at_end;    /* a read found nothing more */
    bool complete;  /* gzip: the stream ended with its trailer; plain: at_end */
} csv_input;

/* Is the file gzip? By the name's ".gz" suffix, or by its first two bytes
 * (the gzip magic), read with pread so nothing moves. */
bool csv_input_is_gz(int fd, const char *path);

/* Start reading fd's content at its beginning. For a plain file, limit is
 * the size to stop at. 0, or -1 with *why (static text). */
int csv_input_open(csv_input *in, int fd, bool gz, uint64_t limit, const char **why);
/* Go forward to content offset `to` (>= in->pos), decompressing into
 * scratch for gzip. 0; 1 when the content ends before `to`; -1 with *why. */
int csv_input_skip(csv_input *in, uint64_t to, char *scratch, size_t cap, const char **why);
/* Up to room bytes into dst: 0 with *got (0 at the end), or -1 with *why. */
int csv_input_read(csv_input *in, char *dst, size_t room, size_t *got, const char **why);
void csv_input_close(csv_input *in);

/* The first cap content bytes of fd (fewer if the content is shorter),
 * for fingerprints. *complete: the content ends within them (for gzip:
 * the stream ended properly; a gzip file still being written does not).
 * 0, or -1 with *why. */
int csv_input_prefix(int fd, bool gz, char *dst, size_t cap, size_t *got, bool *complete,
                     const char **why);

typedef struct csv_block {
    char *buf;
    size_t cap;
    size_t head, tail; /* bytes not yet scanned: buf[head..tail) */
    uint64_t base;     /* content offset of buf[0] */
} csv_block;

/* cap: the longest row the scanner takes plus CSV_READ_BLOCK. */
int csv_block_init(csv_block *b, size_t cap);
void csv_block_free(csv_block *b);
/* Empty, with the next byte read being content offset `offset`. */
void csv_block_reset(csv_block *b, uint64_t offset);
/* The content offset of the next byte to scan. */
static inline uint64_t csv_block_offset(const csv_block *b)
{
    return b->base + b->head;
}
/* Move the unscanned bytes to the front, then append up to `want` bytes
 * (at most what fits). 0 with *got (0 at the end), or -1 with *why. */
int csv_block_fill(csv_block *b, csv_input *in, size_t want, size_t *got, const char **why);

#endif
