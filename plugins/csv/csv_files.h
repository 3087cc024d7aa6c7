/*
 * csv_files.h — which files the csv source reads and where it stands in
 * each: the files its glob matches, their identity (device, inode) and
 * content fingerprint, the checkpoint entry that says how far each was
 * consumed, how rotation (rename, copytruncate, compression) carries an
 * entry over to another file, and the file descriptors kept open between
 * cycles so that a file renamed away can still be read to its end.
 *
 * Nothing here trusts memory about positions: the entries are loaded
 * from the checkpoint at the start of every cycle, because the agent may
 * have rolled the previous cycle back after collect returned.
 */
#ifndef TALLY_CSV_FILES_H
#define TALLY_CSV_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tally/plugin.h"

/* Content bytes a fingerprint covers, at most. */
#define CSV_FP_BYTES 4096u
/* Entries of files gone that long are forgotten, and beyond this many
 * the oldest gone ones (files still there are never forgotten). */
#define CSV_KEEP_SECONDS (7 * 86400)
#define CSV_KEEP_MAX 4096u
/* File descriptors kept open between cycles, at most. */
#define CSV_HELD_MAX 256u
/* The longest header row a checkpoint keeps. */
#define CSV_HEADER_MAX (64u * 1024u)

/* One file, as the checkpoint knows it. */
typedef struct csv_entry {
    char *path; /* where it was last seen, for messages */
    uint64_t dev, ino;
    uint64_t offset;     /* content bytes consumed (uncompressed for gzip) */
    uint64_t line;       /* lines consumed: the next row starts on line + 1 */
    uint64_t fp;         /* fingerprint of the first fp_len content bytes */
    uint32_t fp_len;     /* min(content, CSV_FP_BYTES) when last read */
    uint32_t data_start; /* content bytes before the first data row */
    uint64_t size;       /* bytes on disk and mtime when last read */
    int64_t mtime_ns;
    int64_t seen; /* the agent's clock when it was last there */
    /* The header row (no line end), or NULL. At offset 0 it may be the
     * header of the content a copytruncate replaced: if the new content's
     * first row is no header, the file goes on without one
     * (header_in_file false) and this header describes its rows. */
    char *header;
    bool header_in_file; /* false: the file has no header row (copytruncate) */
    bool gz;
    bool retired;   /* content replaced in place: kept only for a copy of it */
    bool skip_line; /* offset is inside an over-long row: skip to its end */
    /* This cycle only: the index of the file found for it, or -1. */
    long found;
} csv_entry;

typedef struct csv_entries {
    csv_entry *v;
    size_t n, cap;
} csv_entries;

/* Parse a checkpoint value (NULL: none yet). 0, or -1 with *why. */
int csv_entries_load(const char *json, csv_entries *out, const char **why);
/* The checkpoint value, malloc'd. 0 or -1 (out of memory). */
int csv_entries_dump(const csv_entries *e, char **json);
void csv_entries_free(csv_entries *e);
/* A new zeroed entry at the end (pointers into e->v become stale). */
csv_entry *csv_entries_add(csv_entries *e);
/* Forget gone and retired entries unseen for CSV_KEEP_SECONDS, and the
 * oldest of them beyond CSV_KEEP_MAX entries in all. */
void csv_entries_prune(csv_entries *e, int64_t now);

uint64_t csv_fingerprint(const char *p, size_t n);

enum csv_action {
    CSV_DO_READ,      /* read it (new content, or a new file) */
    CSV_DO_UNCHANGED, /* same size and mtime as last read: nothing to do */
    CSV_DO_WAIT,      /* not now: a copy of a file being read, a gzip being written */
    CSV_DO_PLACE,     /* no entry has its inode: csv_files_place decides */
};

/* A file the glob matched this cycle. */
typedef struct csv_found {
    char *path;
    uint64_t dev, ino, size;
    int64_t mtime_ns;
    int fd; /* opened on demand; -1 before */
    bool gz;
    char *prefix; /* the first content bytes, read on demand */
    size_t prefix_len;
    bool prefix_read, prefix_complete;
    long entry; /* its entry, or -1 */
    enum csv_action action;
    /* Its inode's old entry was retired (content replaced): that content's
     * header, for a writer going on without one after copytruncate. */
    char *old_header;
    /* An entry with its inode whose fingerprint covers no more than a
     * header, which proves nothing (the inode number may have been reused
     * by a copy of another file): csv_files_place decides, and falls back
     * on it. -1 if none. */
    long weak;
} csv_found;

/* The regular files matching pattern, oldest first (mtime, then name),
 * each inode once, leaving out skip_path (the reject file). 0, or -1
 * with errno (a GLOB_ABORTED directory is logged and skipped). */
int csv_found_glob(tally_host *h, const tally_host_api *api, const char *pattern,
                   const char *skip_path, csv_found **out, size_t *n);
void csv_found_free(csv_found *f, size_t n);
/* Open f (if not yet) and check it is still the inode the glob saw.
 * 0; 1 when it changed or vanished meanwhile; -1 with errno. */
int csv_found_open(csv_found *f);
/* Read f's first CSV_FP_BYTES content bytes (once). 0, 1 as above, -1
 * with *why. */
int csv_found_prefix(csv_found *f, const char **why);

/* Incremental streams, first: for each found file whose inode an entry
 * has, that entry (f->entry) and what to do (f->action). It continues
 * its entry unless its content is not what was read (truncated by
 * copytruncate, or another file in a reused inode number): then the old
 * entry is retired and the file is placed like any other. Every other
 * file gets CSV_DO_PLACE. Sets entries' `found`; logs what it decides.
 * 0, or -1 (out of memory). */
int csv_files_match(tally_host *h, const tally_host_api *api, csv_entries *e, csv_found *f,
                    size_t nf, int64_t now);
/* Then, for f[fi] (CSV_DO_PLACE), just before it would be read — after
 * the older files of the cycle were, so their entries say what their
 * first line is and their fingerprints are fresh: a file whose first
 * bytes are those of a gone or retired entry continues that entry
 * (rotated, compressed, or copied before a truncation); one whose first
 * bytes are those of a file still there is a copy and waits; any other
 * is new and read from its start. 0, or -1 (out of memory). */
int csv_files_place(tally_host *h, const tally_host_api *api, csv_entries *e, csv_found *f,
                    size_t fi, int64_t now);

/* Does a file (its first content bytes, size on disk, gzip or not) still
 * hold what en read from it? */
bool csv_files_same_content(const csv_entry *en, const char *prefix, size_t prefix_len,
                            uint64_t size, bool gz);
/* Entry i's inode no longer holds what was read from it: retire entry i
 * (a copy of its content may continue it) and add a new entry for the
 * inode, to be read from its start; prefix: its first content bytes. The
 * new entry's index in *out. 0 or -1 (out of memory). */
int csv_files_restart(csv_entries *e, size_t i, const char *prefix, size_t prefix_len, int64_t now,
                      size_t *out);

/* File descriptors kept open between cycles, by inode. */
typedef struct csv_held {
    uint64_t dev, ino;
    int fd;
    bool gz;
    uint64_t cycle; /* the last cycle it was read in */
} csv_held;

typedef struct csv_held_set {
    csv_held *v;
    size_t n, cap;
} csv_held_set;

csv_held *csv_held_find(csv_held_set *s, uint64_t dev, uint64_t ino);
/* Keep fd (which is the inode dev/ino) open, closing an earlier fd of it
 * and, beyond CSV_HELD_MAX, the one read longest ago. Takes fd; closes
 * it when out of memory. */
void csv_held_put(csv_held_set *s, uint64_t dev, uint64_t ino, int fd, bool gz, uint64_t cycle);
void csv_held_drop(csv_held_set *s, csv_held *held);
/* Close the fds of inodes no entry has any more. */
void csv_held_sweep(csv_held_set *s, const csv_entries *e);
void csv_held_free(csv_held_set *s);

#endif
