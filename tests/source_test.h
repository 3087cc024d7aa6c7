/*
 * source_test.h — what the tests of file sources (csv, jsonl) share: a
 * scratch directory per test, files written into it (whole, appended,
 * gzip, renamed, copied, truncated), an instance of the plugin started
 * from a section body through the mock host, the ids of the records it
 * emitted, its reject file, and check() failures with their file:line.
 *
 * One plugin per test program: source_test_load names it (a group setup
 * calls it); setup and teardown make and remove the scratch directory.
 */
#ifndef TALLY_TESTS_SOURCE_TEST_H
#define TALLY_TESTS_SOURCE_TEST_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mock_host.h"
#include "plugin_test.h"

#ifndef TALLY_PLUGIN_BUILD_DIR
#error "build with -DTALLY_PLUGIN_BUILD_DIR=<the build tree's plugin dir>"
#endif

extern const tally_plugin *plugin;
extern char scratch[PATH_MAX];

/* Load the plugin called name (0 or -1); unload it. */
int source_test_load(const char *name);
int group_teardown(void **state);
/* A fresh scratch directory per test, removed afterwards. */
int setup(void **state);
int teardown(void **state);

/* ---- scratch files (leaf: a name in the scratch directory) ---- */

const char *spath(char *buf, const char *leaf);
void write_at(const char *leaf, const char *mode, const char *data, size_t len);
void put(const char *leaf, const char *text);
void append(const char *leaf, const char *text);
void put_gz(const char *leaf, const char *text);
void rename_leaf(const char *from, const char *to);
void copy_file(const char *from, const char *to);
void truncate_leaf(const char *leaf);
/* Cut the file in place after its first n lines (same inode). */
void cut_after_lines(const char *leaf, size_t n);
/* The whole file, NUL terminated (free it); NULL if it cannot be read. */
char *slurp(const char *path);
/* <scratch>/rejects/<title>.csv, checked for its header line (free it). */
char *rejects_of(const char *title);

/* ---- the instance ---- */

typedef mock_host_instance inst;

/* A section body, formatted (free it). */
char *body(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Start the plugin as "usage" on h (a restart when h ran it before), or
 * on a new host whose state_dir is the scratch directory. */
void start_on(inst *in, tally_host *h, const char *text);
void start(inst *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void finish(inst *in);
void collect(inst *in);
/* The plugin's checks refuse text (a section body titled "t" on line
 * `line`): plugin_check_fails. */
void check_fails(const char *text, int line, const char *needle);

/* ---- records ---- */

bool str_is(tally_str s, const char *want);
const tally_usage *usage(const inst *in, size_t i);
/* The ids of the records emitted since the last clear, comma separated,
 * "-" for a NULL id; then the records are cleared. sorted: in order of
 * id, for files whose order of modification falls within one tick of
 * the file system's clock. */
char *take_ids(inst *in);
char *take_ids_sorted(inst *in);
#define assert_ids(in, want) assert_string_equal(take_ids(in), want)
#define assert_id_set(in, want) assert_string_equal(take_ids_sorted(in), want)

#endif
