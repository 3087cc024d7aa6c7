/*
 * test_shm_api.c — libtally's API contract, one process: creating and
 * attaching, names, values, reset, foreach, a full region, file modes,
 * bad arguments, and finishing a registration a dead process left claimed.
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
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static tally_region *open_new(const char *leaf, uint32_t capacity)
{
    char path[256];
    tally_region *r = NULL;
    tally_open_opts o = {.capacity = capacity};
    assert_int_equal(tally_open(&r, tu_path(path, sizeof(path), leaf), &o), 0);
    return r;
}

static void test_create_then_attach(void **state)
{
    char path[256];
    tu_path(path, sizeof(path), "attach");
    tally_region *r = NULL;
    tally_open_opts nocreate = {.flags = TALLY_OPEN_NOCREATE};
    assert_int_equal(tally_open(&r, path, &nocreate), TALLY_ENOREGION);
    assert_int_equal(access(path, F_OK), -1);

    tally_region *a = NULL, *b = NULL;
    assert_int_equal(tally_open(&a, path, NULL), 0);
    assert_int_equal(tally_open(&b, path, &nocreate), 0);
    tally_info ia, ib;
    assert_int_equal(tally_info_get(a, &ia), 0);
    assert_int_equal(tally_info_get(b, &ib), 0);
    assert_int_equal(ia.created, 1);
    assert_int_equal(ib.created, 0);
    assert_int_equal(ia.capacity, TALLY_DEFAULT_CAPACITY);
    assert_string_equal(ia.path, path);

    /* Two mappings, one counter. */
    assert_int_equal(tally_add_name(a, "requests", 5), 0);
    tally_counter *cb = NULL;
    assert_int_equal(tally_counter_find(b, "requests", &cb), 0);
    assert_int_equal(tally_value(cb), 5);
    tally_add(cb, 2);
    tally_counter *ca = NULL;
    assert_int_equal(tally_counter_get(a, "requests", &ca), 0);
    assert_int_equal(tally_value(ca), 7);
    tally_close(a);
    tally_close(b);
}

/* Every process sees one identity; a region recreated at the same path
 * has another, and the old mapping learns that its path moved on. */
static void test_identity(void **state)
{
    char path[256];
    tu_path(path, sizeof(path), "identity");
    tally_region *a = NULL, *b = NULL, *c = NULL;
    assert_int_equal(tally_open(&a, path, NULL), 0);
    assert_int_equal(tally_open(&b, path, NULL), 0);
    tally_identity ia, ib, ic;
    assert_int_equal(tally_identity_get(a, &ia), 0);
    assert_int_equal(tally_identity_get(b, &ib), 0);
    assert_true(ia.id != 0);
    assert_true(ia.id == ib.id);
    assert_int_equal(ia.created_utc, ib.created_utc);
    assert_true(ia.created_utc > 1700000000); /* set at creation: after 2023 */
    assert_int_equal(tally_check_path(a), 0);

    assert_int_equal(unlink(path), 0);
    assert_int_equal(tally_check_path(a), TALLY_EREPLACED);
    assert_int_equal(tally_open(&c, path, NULL), 0);
    assert_int_equal(tally_identity_get(c, &ic), 0);
    assert_true(ic.id != 0 && ic.id != ia.id);
    assert_int_equal(tally_check_path(a), TALLY_EREPLACED);
    assert_int_equal(tally_check_path(b), TALLY_EREPLACED);
    assert_int_equal(tally_check_path(c), 0);
    assert_int_equal(tally_identity_get(NULL, &ic), TALLY_EINVAL);
    assert_int_equal(tally_check_path(NULL), TALLY_EINVAL);
    tally_close(a);
    tally_close(b);
    tally_close(c);
}

/* A file system may give a new file the inode number of one just removed:
 * a path whose device and inode match but whose header carries another
 * identity (here written in place) names another region. */
static void test_check_path_reads_identity(void **state)
{
    (void)state;
    char path[256];
    tu_path(path, sizeof(path), "reused");
    tally_region *a = NULL;
    assert_int_equal(tally_open(&a, path, NULL), 0);
    assert_int_equal(tally_check_path(a), 0);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint64_t other = 0x5eed5eed5eed5eedull;
    assert_int_equal(pwrite(fd, &other, sizeof(other), offsetof(struct tally_header, id)), 8);
    assert_int_equal(tally_check_path(a), TALLY_EREPLACED);
    close(fd);
    tally_close(a);
    unlink(path);
}

/* A region written before identities has zeros where they go: it still
 * opens, gets one id that every later opener agrees on, and an unknown
 * creation time. */
static void test_identity_of_older_region(void **state)
{
    char path[256];
    tu_path(path, sizeof(path), "older");
    tally_region *a = NULL, *b = NULL;
    assert_int_equal(tally_open(&a, path, NULL), 0);
    assert_int_equal(tally_add_name(a, "kept", 3), 0);
    tally_close(a);
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    char zeros[16] = {0};
    assert_int_equal(pwrite(fd, zeros, sizeof(zeros), offsetof(struct tally_header, id)), 16);
    close(fd);

    assert_int_equal(tally_open(&a, path, NULL), 0);
    assert_int_equal(tally_open(&b, path, NULL), 0);
    tally_identity ia, ib;
    assert_int_equal(tally_identity_get(a, &ia), 0);
    assert_int_equal(tally_identity_get(b, &ib), 0);
    assert_true(ia.id != 0 && ia.id == ib.id);
    assert_int_equal(ia.created_utc, 0);
    tally_counter *c = NULL;
    assert_int_equal(tally_counter_find(b, "kept", &c), 0);
    assert_int_equal(tally_value(c), 3);
    tally_info info;
    assert_int_equal(tally_info_get(a, &info), 0);
    assert_int_equal(info.version, 1);
    tally_close(a);
    tally_close(b);
}

static void test_same_name_same_handle(void **state)
{
    tally_region *r = open_new("handle", 64);
    tally_counter *c1 = NULL, *c2 = NULL, *other = NULL;
    assert_int_equal(tally_counter_get(r, "api.requests", &c1), 0);
    assert_int_equal(tally_counter_get(r, "api.requests", &c2), 0);
    assert_int_equal(tally_counter_get(r, "api.requests.total", &other), 0);
    assert_ptr_equal(c1, c2);
    assert_ptr_not_equal(c1, other);
    tally_add(c1, 40);
    tally_add(c2, 2);
    assert_int_equal(tally_value(c1), 42);
    assert_int_equal(tally_value(other), 0);
    tally_info info;
    tally_info_get(r, &info);
    assert_int_equal(info.used, 2);
    tally_close(r);
}

static void test_values_are_int64(void **state)
{
    tally_region *r = open_new("int64", 16);
    tally_counter *c = NULL;
    assert_int_equal(tally_counter_get(r, "tokens", &c), 0);
    tally_add(c, (int64_t)1 << 40);
    tally_add(c, (int64_t)1 << 40);
    assert_int_equal(tally_value(c), (int64_t)1 << 41);
    tally_add(c, -((int64_t)1 << 41) - 5);
    assert_int_equal(tally_value(c), -5);
    /* Adds wrap like the hardware does; no undefined behaviour. */
    tally_reset(c);
    tally_add(c, INT64_MAX);
    tally_add(c, 1);
    assert_true(tally_value(c) == INT64_MIN);
    tally_close(r);
}

static void test_reset_returns_old_value(void **state)
{
    tally_region *r = open_new("reset", 16);
    tally_counter *c = NULL;
    assert_int_equal(tally_counter_get(r, "day", &c), 0);
    tally_add(c, 10);
    assert_int_equal(tally_add_name(r, "day", 5), 0);
    assert_int_equal(tally_reset(c), 15);
    assert_int_equal(tally_value(c), 0);
    assert_int_equal(tally_reset(c), 0);
    tally_add(c, 1);
    assert_int_equal(tally_value(c), 1);
    tally_close(r);
}

static void test_name_rules(void **state)
{
    tally_region *r = open_new("names", 64);
    char n64[65], n65[66];
    memset(n64, 'a', 64);
    n64[64] = '\0';
    memset(n65, 'b', 65);
    n65[65] = '\0';
    const char *good[] = {"a", n64, "z\xc3\xa4hler.\xe2\x82\xac.\xf0\x9d\x84\x9e", "with space",
                          "a/b:c-d_e.f"};
    const char *bad[] = {
        "",                    /* empty */
        n65,                   /* 65 bytes */
        "tab\there",           /* C0 control */
        "nl\n",                /* C0 control */
        "del\x7f",             /* DEL */
        "c1\xc2\x85",          /* C1 control U+0085 */
        "bad\xff",             /* not UTF-8 */
        "over\xc0\xaf",        /* overlong '/' */
        "over\xe0\x80\xaf",    /* overlong, 3 bytes */
        "sur\xed\xa0\x80",     /* UTF-16 surrogate */
        "cut\xe2\x82",         /* truncated sequence */
        "big\xf4\x90\x80\x80", /* past U+10FFFF */
        "cont\x80",            /* lone continuation byte */
    };
    tally_counter *c = NULL;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(tally_name_valid(good[i]), 0);
        assert_int_equal(tally_counter_get(r, good[i], &c), 0);
        assert_int_equal(tally_add_name(r, good[i], 1), 0);
        assert_int_equal(tally_value(c), 1);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(tally_name_valid(bad[i]), TALLY_ENAME);
        assert_int_equal(tally_counter_get(r, bad[i], &c), TALLY_ENAME);
        assert_int_equal(tally_add_name(r, bad[i], 1), TALLY_ENAME);
        assert_int_equal(tally_counter_find(r, bad[i], &c), TALLY_ENAME);
    }
    assert_int_equal(tally_name_valid(NULL), TALLY_ENAME);
    tally_info info;
    tally_info_get(r, &info);
    assert_int_equal(info.used, sizeof(good) / sizeof(good[0]));
    tally_close(r);
}

static void test_unknown_counter(void **state)
{
    tally_region *r = open_new("unknown", 16);
    tally_counter *c = NULL;
    assert_int_equal(tally_counter_find(r, "nope", &c), TALLY_ENOCOUNTER);
    assert_null(c);
    tally_close(r);
}

static void test_full_region(void **state)
{
    tally_region *r = open_new("full", 8);
    char name[32];
    tally_counter *c = NULL;
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "c%d", i);
        assert_int_equal(tally_counter_get(r, name, &c), 0);
        tally_add(c, i);
    }
    assert_int_equal(tally_counter_get(r, "one.too.many", &c), TALLY_EFULL);
    assert_int_equal(tally_add_name(r, "another", 1), TALLY_EFULL);
    tally_info info;
    tally_info_get(r, &info);
    assert_int_equal(info.used, 8);
    assert_int_equal(info.overflow, 2);
    /* Existing counters keep working in a full region. */
    assert_int_equal(tally_add_name(r, "c7", 1), 0);
    assert_int_equal(tally_counter_get(r, "c7", &c), 0);
    assert_int_equal(tally_value(c), 8);
    tally_close(r);
}

struct seen {
    int count;
    int64_t sum;
    char last[TALLY_NAME_MAX + 1];
};

static int collect(const char *name, int64_t value, void *arg)
{
    struct seen *s = arg;
    s->count++;
    s->sum += value;
    snprintf(s->last, sizeof(s->last), "%s", name);
    return 0;
}

static int stop_at_first(const char *name, int64_t value, void *arg)
{
    (*(int *)arg)++;
    return 77;
}

static void test_foreach(void **state)
{
    tally_region *r = open_new("foreach", 64);
    assert_int_equal(tally_add_name(r, "api.get", 1), 0);
    assert_int_equal(tally_add_name(r, "api.post", 2), 0);
    assert_int_equal(tally_add_name(r, "db.query", 4), 0);
    char n64[65];
    memset(n64, 'x', 64);
    n64[64] = '\0';
    assert_int_equal(tally_add_name(r, n64, 8), 0);

    struct seen all = {0}, api = {0}, none = {0}, full_name = {0};
    assert_int_equal(tally_foreach(r, NULL, collect, &all), 0);
    assert_int_equal(all.count, 4);
    assert_int_equal(all.sum, 15);
    assert_int_equal(tally_foreach(r, "api.", collect, &api), 0);
    assert_int_equal(api.count, 2);
    assert_int_equal(api.sum, 3);
    assert_int_equal(tally_foreach(r, "zzz", collect, &none), 0);
    assert_int_equal(none.count, 0);
    assert_int_equal(tally_foreach(r, n64, collect, &full_name), 0);
    assert_int_equal(full_name.count, 1);
    assert_string_equal(full_name.last, n64);

    int calls = 0;
    assert_int_equal(tally_foreach(r, NULL, stop_at_first, &calls), 77);
    assert_int_equal(calls, 1);
    assert_int_equal(tally_foreach(r, NULL, NULL, NULL), TALLY_EINVAL);
    tally_close(r);
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static void test_mode_ignores_umask(void **state)
{
    mode_t old = umask(077);
    char p1[256], p2[256];
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, tu_path(p1, sizeof(p1), "mode-default"), NULL), 0);
    tally_close(r);
    assert_int_equal(mode_of(p1), 0660);
    tally_open_opts o = {.mode = 0644};
    assert_int_equal(tally_open(&r, tu_path(p2, sizeof(p2), "mode-0644"), &o), 0);
    tally_close(r);
    assert_int_equal(mode_of(p2), 0644);

    /* A POSIX shm name is /dev/shm/NAME. */
    char name[64], path[128];
    snprintf(name, sizeof(name), "tally-test-mode-%d", (int)getpid());
    snprintf(path, sizeof(path), "/dev/shm/%s", name);
    tally_open_opts o2 = {.mode = 0600};
    assert_int_equal(tally_open(&r, name, &o2), 0);
    tally_info info;
    tally_info_get(r, &info);
    assert_string_equal(info.path, path);
    tally_close(r);
    assert_int_equal(mode_of(path), 0600);
    unlink(path);
    umask(old);
}

static void test_bad_arguments(void **state)
{
    tally_region *r = NULL;
    char longname[400];
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_equal(tally_open(NULL, "x", NULL), TALLY_EINVAL);
    assert_int_equal(tally_open(&r, NULL, NULL), TALLY_EINVAL);
    assert_int_equal(tally_open(&r, "", NULL), TALLY_EINVAL);
    assert_int_equal(tally_open(&r, ".", NULL), TALLY_EINVAL);
    assert_int_equal(tally_open(&r, "..", NULL), TALLY_EINVAL);
    assert_int_equal(tally_open(&r, longname, NULL), -ENAMETOOLONG);
    tally_open_opts big = {.capacity = TALLY_MAX_CAPACITY + 1};
    assert_int_equal(tally_open(&r, "tally-test-too-big", &big), TALLY_EINVAL);
    tally_open_opts badmode = {.mode = 010000};
    assert_int_equal(tally_open(&r, "tally-test-bad-mode", &badmode), TALLY_EINVAL);
    assert_null(r);
    /* A directory that does not exist is the system's error, as -errno. */
    assert_int_equal(tally_open(&r, "/nonexistent-dir-for-tally/r", NULL), -ENOENT);
    assert_int_equal(tally_counter_get(NULL, "x", NULL), TALLY_EINVAL);
    assert_int_equal(tally_add_name(NULL, "x", 1), TALLY_EINVAL);
    assert_int_equal(tally_info_get(NULL, NULL), TALLY_EINVAL);
    tally_close(NULL);
}

static void test_strerror_distinct(void **state)
{
    int codes[] = {TALLY_EFULL,      TALLY_ENAME,    TALLY_EEMPTY,   TALLY_ETRUNC,
                   TALLY_EMAGIC,     TALLY_EVERSION, TALLY_ECORRUPT, TALLY_ESIZE,
                   TALLY_ENOCOUNTER, TALLY_EINVAL,   TALLY_ENOREGION, TALLY_EREPLACED,
                   TALLY_ESYMLINK,   TALLY_EDANGLING, TALLY_EISDIR,  TALLY_ESPECIAL};
    size_t n = sizeof(codes) / sizeof(codes[0]);
    for (size_t i = 0; i < n; i++) {
        assert_string_not_equal(tally_strerror(codes[i]), "unknown libtally error");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(tally_strerror(codes[i]), tally_strerror(codes[j]));
    }
    assert_string_equal(tally_strerror(-ENOENT), strerror(ENOENT));
    assert_string_equal(tally_strerror(-99999), "unknown libtally error");
}

/* The slot and key where a name's registration starts, as counters.c
 * places it: tests below leave a claim there the way a killed process would. */
static void claim_like_a_dead_process(tally_region *r, const char *name, const char *written,
                                      size_t words_written)
{
    size_t len = strlen(name);
    uint64_t hash = tally_name_hash(name, len);
    uint32_t slot = (uint32_t)(hash >> 32) & r->table_mask;
    atomic_store(tally_slot_tag(r, slot), TAG_CLAIMED | TAG_KEY(hash, len));
    uint64_t words[RECORD_WORDS] = {0};
    memcpy(words, written, strlen(written));
    for (size_t k = 0; k < words_written; k++)
        atomic_store(tally_name_word(r, slot, k), words[k]);
}

static void test_finish_claim_of_dead_process(void **state)
{
    tally_region *r = open_new("dead-claim", 64);
    const char *name = "in.flight.when.killed.name";
    claim_like_a_dead_process(r, name, name, 2);
    tally_counter *c = NULL;
    /* Not published yet: not found, and not listed. */
    assert_int_equal(tally_counter_find(r, name, &c), TALLY_ENOCOUNTER);
    struct seen s = {0};
    tally_foreach(r, NULL, collect, &s);
    assert_int_equal(s.count, 0);
    /* The next registrant finishes the claim instead of waiting on it. */
    assert_int_equal(tally_counter_get(r, name, &c), 0);
    tally_add(c, 3);
    tally_foreach(r, NULL, collect, &s);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.last, name);
    assert_int_equal(s.sum, 3);
    tally_counter *again = NULL;
    assert_int_equal(tally_counter_find(r, name, &again), 0);
    assert_ptr_equal(again, c);
    tally_close(r);
}

static void test_claim_by_other_name_of_same_key(void **state)
{
    tally_region *r = open_new("same-key", 64);
    /* A claim with our key whose record holds other bytes of our length:
     * registration must move on, not take that slot. */
    const char *name = "abcdefgh.ijklmn";
    claim_like_a_dead_process(r, name, "abcdefgh.XXXXXX", 2);
    tally_counter *c = NULL;
    assert_int_equal(tally_counter_get(r, name, &c), 0);
    tally_add(c, 9);
    struct seen s = {0};
    tally_foreach(r, NULL, collect, &s);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.last, name);
    assert_int_equal(tally_add_name(r, name, 1), 0);
    assert_int_equal(tally_value(c), 10);
    tally_close(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_then_attach),
        cmocka_unit_test(test_identity),
        cmocka_unit_test(test_check_path_reads_identity),
        cmocka_unit_test(test_identity_of_older_region),
        cmocka_unit_test(test_same_name_same_handle),
        cmocka_unit_test(test_values_are_int64),
        cmocka_unit_test(test_reset_returns_old_value),
        cmocka_unit_test(test_name_rules),
        cmocka_unit_test(test_unknown_counter),
        cmocka_unit_test(test_full_region),
        cmocka_unit_test(test_foreach),
        cmocka_unit_test(test_mode_ignores_umask),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_strerror_distinct),
        cmocka_unit_test(test_finish_claim_of_dead_process),
        cmocka_unit_test(test_claim_by_other_name_of_same_key),
    };
    return cmocka_run_group_tests(tests, NULL, tu_teardown);
}
