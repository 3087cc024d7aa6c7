/*
 * test_shm_badregion.c — a region file is input: empty, truncated, foreign,
 * newer, corrupt or short files, directories, FIFOs, devices and symbolic
 * links are refused, each with its own error, the file left as it was; a valid header over garbage contents never makes
 * libtally read or write outside the mapping.
 */
#include "layout.h"
#include "shm_testutil.h"
#include "tally.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const tally_open_opts nocreate = {.flags = TALLY_OPEN_NOCREATE};

/* A valid region of the given capacity at leaf; returns its size. */
static off_t make_region(char *path, size_t cap, const char *leaf, uint32_t capacity)
{
    tu_path(path, cap, leaf);
    unlink(path);
    tally_region *r = NULL;
    tally_open_opts o = {.capacity = capacity};
    assert_int_equal(tally_open(&r, path, &o), 0);
    assert_int_equal(tally_add_name(r, "kept", 7), 0);
    tally_close(r);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

static void write_bytes(const char *path, const void *bytes, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
    close(fd);
}

static void patch(const char *path, off_t at, const void *bytes, size_t n)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, n, at), (ssize_t)n);
    close(fd);
}

static struct tally_header read_header(const char *path)
{
    struct tally_header h;
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
    close(fd);
    return h;
}

/* Opening must fail with want, with or without NOCREATE, and leave the
 * file exactly as it was: a refused region is never "repaired". */
static void expect_refused(const char *path, int want)
{
    struct stat before, after;
    assert_int_equal(stat(path, &before), 0);
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, path, &nocreate), want);
    assert_null(r);
    assert_int_equal(tally_open(&r, path, NULL), want);
    assert_null(r);
    assert_int_equal(stat(path, &after), 0);
    assert_int_equal(before.st_size, after.st_size);
    assert_int_equal(before.st_ino, after.st_ino);
    assert_string_not_equal(tally_strerror(want), "unknown libtally error");
}

static void test_empty_file(void **state)
{
    char path[256];
    write_bytes(tu_path(path, sizeof(path), "empty"), "", 0);
    expect_refused(path, TALLY_EEMPTY);
}

static void test_truncated_file(void **state)
{
    char path[256];
    write_bytes(tu_path(path, sizeof(path), "ten-bytes"), "TALLYRGN\1\0", 10);
    expect_refused(path, TALLY_ETRUNC);
    /* A valid header cut inside its page. */
    make_region(path, sizeof(path), "cut-header", 16);
    assert_int_equal(truncate(path, 200), 0);
    expect_refused(path, TALLY_ETRUNC);
}

static void test_wrong_magic(void **state)
{
    char path[256];
    make_region(path, sizeof(path), "magic", 16);
    patch(path, 0, "NOTTALLY", 8);
    expect_refused(path, TALLY_EMAGIC);
}

static void test_newer_version(void **state)
{
    char path[256];
    make_region(path, sizeof(path), "version", 16);
    uint32_t v = TALLY_LAYOUT_VERSION + 1;
    patch(path, offsetof(struct tally_header, version), &v, sizeof(v));
    expect_refused(path, TALLY_EVERSION);
}

static void test_random_bytes(void **state)
{
    char path[256];
    unsigned char junk[3 * 4096];
    srand(12345);
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (unsigned char)rand();
    write_bytes(tu_path(path, sizeof(path), "random"), junk, sizeof(junk));
    expect_refused(path, TALLY_EMAGIC);
}

static void test_smaller_than_header_claims(void **state)
{
    char path[256];
    off_t size = make_region(path, sizeof(path), "short", 64);
    assert_int_equal(truncate(path, size - 4096), 0);
    expect_refused(path, TALLY_ESIZE);
}

static void test_corrupt_header(void **state)
{
    char path[256];
    /* A changed field without a matching checksum. */
    make_region(path, sizeof(path), "bitflip", 16);
    uint32_t cap = 1u << 20;
    patch(path, offsetof(struct tally_header, capacity), &cap, sizeof(cap));
    expect_refused(path, TALLY_ECORRUPT);

    /* A checksum that matches fields that do not fit together. */
    make_region(path, sizeof(path), "inconsistent", 16);
    struct tally_header h = read_header(path);
    h.table_slots *= 4;
    h.checksum = tally_header_checksum(&h);
    patch(path, 0, &h, offsetof(struct tally_header, used));
    expect_refused(path, TALLY_ECORRUPT);

    make_region(path, sizeof(path), "stripes", 16);
    h = read_header(path);
    h.stripes = 3;
    h.checksum = tally_header_checksum(&h);
    patch(path, 0, &h, offsetof(struct tally_header, used));
    expect_refused(path, TALLY_ECORRUPT);
}

/* Opening fails with want, with or without NOCREATE, and nothing is
 * created at path or beside it. */
static void expect_not_region(const char *path, int want)
{
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, path, &nocreate), want);
    assert_null(r);
    assert_int_equal(tally_open(&r, path, NULL), want);
    assert_null(r);
}

static void test_not_a_file(void **state)
{
    char path[256];
    tu_path(path, sizeof(path), "a-directory");
    assert_int_equal(mkdir(path, 0700), 0);
    expect_not_region(path, TALLY_EISDIR);
}

/* A FIFO is refused without blocking, a device without being opened. */
static void test_fifo_and_device(void **state)
{
    char path[256];
    tu_path(path, sizeof(path), "a-fifo");
    assert_int_equal(mkfifo(path, 0600), 0);
    expect_not_region(path, TALLY_ESPECIAL);
    expect_not_region("/dev/null", TALLY_ESPECIAL);
    tu_path(path, sizeof(path), "to-null");
    assert_int_equal(symlink("/dev/null", path), 0);
    expect_not_region(path, TALLY_ESPECIAL);
}

/* A link to nothing: not "Resource temporarily unavailable" after eight
 * rounds of failing to create over it. */
static void test_dangling_symlink(void **state)
{
    char path[256], target[256];
    tu_path(path, sizeof(path), "dangling");
    assert_int_equal(symlink(tu_path(target, sizeof(target), "nowhere"), path), 0);
    expect_not_region(path, TALLY_EDANGLING);
    assert_int_equal(access(target, F_OK), -1);
}

/* A region name in /dev/shm is never followed, dangling or not. */
static void test_shm_name_symlink(void **state)
{
    char name[64], link[128], target[256];
    snprintf(name, sizeof(name), "tally-test-link-%d", (int)getpid());
    snprintf(link, sizeof(link), "/dev/shm/%s", name);
    make_region(target, sizeof(target), "link-target", 16);
    assert_int_equal(symlink(target, link), 0);
    expect_not_region(name, TALLY_ESYMLINK);
    unlink(link);
    assert_int_equal(symlink("/dev/shm/tally-test-nowhere", link), 0);
    expect_not_region(name, TALLY_ESYMLINK);
    unlink(link);
}

/* A short file that is not a region is foreign, not "truncated". */
static void test_short_foreign_file(void **state)
{
    char path[256];
    write_bytes(tu_path(path, sizeof(path), "short-text"), "hello\n", 6);
    expect_refused(path, TALLY_EMAGIC);
    write_bytes(path, "TALL", 4);
    expect_refused(path, TALLY_EMAGIC);
}

static int count_names(const char *name, int64_t value, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

/* Garbage behind a valid header: tags, records and cells are shared bytes
 * any process could have scribbled on; nothing may read past the mapping. */
static void test_garbage_contents(void **state)
{
    char path[256];
    off_t size = make_region(path, sizeof(path), "garbage", 32);
    size_t body = (size_t)size - TALLY_HEADER_SIZE;
    unsigned char *junk = malloc(body);
    srand(777);
    for (size_t i = 0; i < body; i++)
        junk[i] = (unsigned char)rand();
    patch(path, TALLY_HEADER_SIZE, junk, body);
    free(junk);

    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, path, &nocreate), 0);
    int n = 0;
    assert_int_equal(tally_foreach(r, NULL, count_names, &n), 0);
    tally_counter *c = NULL;
    int rc = tally_counter_get(r, "after.garbage", &c);
    assert_true(rc == 0 || rc == TALLY_EFULL);
    if (rc == 0) {
        tally_add(c, 1);
        tally_value(c);
    }
    tally_info info;
    assert_int_equal(tally_info_get(r, &info), 0);
    tally_close(r);

    /* Every tag claimed by someone else: a bounded probe, a clear error. */
    make_region(path, sizeof(path), "all-claimed", 32);
    struct tally_header h = read_header(path);
    struct tally_geometry g;
    tally_geometry_of(h.capacity, h.stripes, &g);
    for (uint32_t i = 0; i < h.table_slots; i++) {
        uint64_t tag = TAG_CLAIMED | (0x1234500ull + i);
        patch(path, (off_t)(g.slots_off + (uint64_t)i * TALLY_SLOT_SIZE), &tag, sizeof(tag));
    }
    assert_int_equal(tally_open(&r, path, &nocreate), 0);
    assert_int_equal(tally_counter_get(r, "no.room", &c), TALLY_EFULL);
    assert_int_equal(tally_counter_find(r, "no.room", &c), TALLY_ENOCOUNTER);
    tally_close(r);
}

/* Publish a record at the byte level, as a hostile writer could: any name
 * bytes (NUL padded to 64) under any tag. */
static void publish_raw(const char *path, uint32_t slot, const char *name, size_t len,
                        uint64_t tag)
{
    struct tally_header h = read_header(path);
    struct tally_geometry g;
    tally_geometry_of(h.capacity, h.stripes, &g);
    unsigned char rec[TALLY_NAME_MAX] = {0};
    memcpy(rec, name, len);
    patch(path, (off_t)(g.slots_off + (uint64_t)slot * TALLY_SLOT_SIZE + 8), rec, 56);
    patch(path, (off_t)(g.tails_off + (uint64_t)slot * 8), rec + 56, 8);
    patch(path, (off_t)(g.slots_off + (uint64_t)slot * TALLY_SLOT_SIZE), &tag, sizeof(tag));
}

static uint64_t tag_of(const char *name, size_t len)
{
    return TAG_PUBLISHED | TAG_KEY(tally_name_hash(name, len), len);
}

struct seen {
    int n;
    char names[8][TALLY_NAME_MAX + 1];
};

static int collect(const char *name, int64_t value, void *arg)
{
    struct seen *s = arg;
    if (s->n < 8)
        snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
    s->n++;
    return 0;
}

/* Records libtally never writes are skipped by every reader, and counted:
 * a terminal escape, bytes that are not UTF-8 (two that would repair to
 * the same text), a valid name twice, a valid name under a wrong key. */
static void test_hostile_names(void **state)
{
    char path[256];
    make_region(path, sizeof(path), "hostile", 16); /* holds "kept" = 7 */
    struct tally_header h = read_header(path);
    uint32_t last = h.table_slots - 1;
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, path, &nocreate), 0);
    tally_counter *kept;
    assert_int_equal(tally_counter_find(r, "kept", &kept), 0);
    uint32_t kept_slot = (uint32_t)(kept->cell0 - (int64_t *)r->values);
    tally_close(r);
    const char *raw[] = {"\033[2Jwipe", "a\xff", "a\xfe", "kept", "fine"};
    for (uint32_t i = 0, slot = last; i < 5; i++, slot--) {
        if (slot == kept_slot)
            slot--;
        uint64_t tag = tag_of(raw[i], strlen(raw[i]));
        if (i == 4)
            tag ^= 0x100; /* a valid name where a lookup never finds it */
        publish_raw(path, slot, raw[i], strlen(raw[i]), tag);
    }

    assert_int_equal(tally_open(&r, path, &nocreate), 0);
    struct seen seen = {0};
    uint32_t skipped = 99;
    assert_int_equal(tally_foreach_checked(r, NULL, collect, &seen, &skipped), 0);
    assert_int_equal(seen.n, 1);
    assert_string_equal(seen.names[0], "kept");
    assert_int_equal(skipped, 5);
    seen.n = 0;
    assert_int_equal(tally_foreach(r, NULL, collect, &seen), 0);
    assert_int_equal(seen.n, 1);
    /* The prefix does not hide them from the count. */
    assert_int_equal(tally_foreach_checked(r, "zzz", collect, &seen, &skipped), 0);
    assert_int_equal(skipped, 5);
    tally_close(r);
}

struct guarded_read {
    tally_region *r;
    int64_t value;
};

static int read_kept(void *arg)
{
    struct guarded_read *g = arg;
    tally_counter *c;
    int rc = tally_counter_find(g->r, "kept", &c);
    if (rc == 0)
        g->value = tally_value(c);
    return rc;
}

/* A region truncated while attached: a guarded reader gets TALLY_ESHRUNK,
 * not SIGBUS, and can go on; so can a reader after removing the guard. */
static void test_shrunk_under_reader(void **state)
{
    char path[256];
    make_region(path, sizeof(path), "shrinks", 64);
    assert_int_equal(tally_guard_install(), 0);
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, path, &nocreate), 0);
    struct guarded_read g = {r, 0};
    assert_int_equal(tally_guarded(r, read_kept, &g), 0);
    assert_int_equal(g.value, 7);
    assert_int_equal(truncate(path, 0), 0);
    assert_int_equal(tally_guarded(r, read_kept, &g), TALLY_ESHRUNK);
    /* Twice: the handler stays, the mask is restored. */
    assert_int_equal(tally_guarded(r, read_kept, &g), TALLY_ESHRUNK);
    tally_close(r);
    assert_string_not_equal(tally_strerror(TALLY_ESHRUNK), "unknown libtally error");
    tally_guard_remove();
}

/* A SIGBUS outside any guarded region still ends the process: the guard
 * hides nothing but the region's own. */
static int fault_elsewhere(void *arg, int index)
{
    const char *path = arg;
    signal(SIGBUS, SIG_DFL); /* not cmocka's handler: the default's death */
    if (tally_guard_install() != 0)
        return 10;
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, 8192) != 0)
        return 11;
    volatile char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED || ftruncate(fd, 0) != 0)
        return 12;
    return p[4096]; /* SIGBUS */
}

static void test_other_sigbus_kills(void **state)
{
    static char path[256];
    tu_path(path, sizeof(path), "not-a-region");
    pid_t child = tu_fork(fault_elsewhere, path, 0);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGBUS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_file),       cmocka_unit_test(test_truncated_file),
        cmocka_unit_test(test_wrong_magic),      cmocka_unit_test(test_newer_version),
        cmocka_unit_test(test_random_bytes),     cmocka_unit_test(test_smaller_than_header_claims),
        cmocka_unit_test(test_corrupt_header),   cmocka_unit_test(test_not_a_file),
        cmocka_unit_test(test_garbage_contents), cmocka_unit_test(test_fifo_and_device),
        cmocka_unit_test(test_dangling_symlink), cmocka_unit_test(test_shm_name_symlink),
        cmocka_unit_test(test_short_foreign_file), cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_shrunk_under_reader), cmocka_unit_test(test_other_sigbus_kills),
    };
    return cmocka_run_group_tests(tests, NULL, tu_teardown);
}
