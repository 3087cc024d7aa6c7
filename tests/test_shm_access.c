/*
 * test_shm_access.c — who may create, attach and write a region: a group
 * and mode whatever the umask, the trust rule (owner, o+w), and read-only
 * attach, also for real as an unprivileged user (nobody). Runs as root:
 * children drop to nobody to be refused what root is allowed.
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
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static uid_t nobody_uid;
static gid_t nogroup_gid;

static int setup(void **state)
{
    struct passwd *pw = getpwnam("nobody");
    if (geteuid() != 0 || pw == NULL) {
        fprintf(stderr, "test_shm_access: needs root and the user nobody\n");
        return -1;
    }
    nobody_uid = pw->pw_uid;
    nogroup_gid = pw->pw_gid;
    /* nobody must reach the regions in the scratch directory. */
    return chmod(tu_scratch(), 0755);
}

static struct stat stat_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st;
}

static const char *make_region(char *path, size_t cap, const char *leaf)
{
    tally_region *r = NULL;
    tu_path(path, cap, leaf);
    assert_int_equal(tally_open(&r, path, NULL), 0);
    assert_int_equal(tally_add_name(r, "a.x", 5), 0);
    assert_int_equal(tally_add_name(r, "a.y", 7), 0);
    tally_close(r);
    return path;
}

/* The file's bytes, to show a read-only session wrote nothing. */
static char *bytes_of(const char *path, size_t *len)
{
    struct stat st = stat_of(path);
    char *buf = malloc((size_t)st.st_size);
    int fd = open(path, O_RDONLY);
    assert_true(buf != NULL && fd >= 0);
    assert_int_equal(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return buf;
}

static void test_group_and_mode_whatever_the_umask(void **state)
{
    mode_t old = umask(077);
    char path[256];
    tally_region *r = NULL;
    tally_open_opts o = {.flags = TALLY_OPEN_GROUP, .group = nogroup_gid};
    assert_int_equal(tally_open(&r, tu_path(path, sizeof(path), "grouped"), &o), 0);
    tally_close(r);
    struct stat st = stat_of(path);
    assert_int_equal(st.st_mode & 07777, 0660);
    assert_int_equal(st.st_gid, nogroup_gid);
    /* Group set, mode given: 0640 in that group. */
    tally_open_opts o2 = {.mode = 0640, .flags = TALLY_OPEN_GROUP, .group = nogroup_gid};
    assert_int_equal(tally_open(&r, tu_path(path, sizeof(path), "grouped-0640"), &o2), 0);
    tally_close(r);
    st = stat_of(path);
    assert_int_equal(st.st_mode & 07777, 0640);
    assert_int_equal(st.st_gid, nogroup_gid);
    /* An existing region keeps its group: the options only shape a new one. */
    tally_open_opts other = {.flags = TALLY_OPEN_GROUP, .group = 0};
    assert_int_equal(tally_open(&r, path, &other), 0);
    tally_close(r);
    assert_int_equal(stat_of(path).st_gid, nogroup_gid);
    umask(old);
}

/* A mode that gives every user write access would make a region nobody
 * may attach: refused as an argument. */
static void test_world_writable_mode_refused(void **state)
{
    char path[256];
    tally_region *r = NULL;
    tally_open_opts o = {.mode = 0666};
    assert_int_equal(tally_open(&r, tu_path(path, sizeof(path), "o+w"), &o), TALLY_EINVAL);
    assert_null(r);
    assert_int_equal(access(path, F_OK), -1);
}

static int drop_to_nobody(void)
{
    return setgroups(0, NULL) == 0 && setgid(nogroup_gid) == 0 && setuid(nobody_uid) == 0 ? 0
                                                                                         : -1;
}

/* As nobody, in a directory nobody may write: creating a region in root's
 * group fails with TALLY_EGROUP, and leaves nothing at the path. */
static int create_in_foreign_group(void *arg, int index)
{
    const char *dir = arg;
    if (drop_to_nobody() != 0)
        return 10;
    char path[300];
    snprintf(path, sizeof(path), "%s/r", dir);
    tally_region *r = NULL;
    tally_open_opts o = {.flags = TALLY_OPEN_GROUP, .group = 0};
    if (tally_open(&r, path, &o) != TALLY_EGROUP)
        return 11;
    if (access(path, F_OK) == 0)
        return 12;
    /* Its own group is fine. */
    o.group = nogroup_gid;
    if (tally_open(&r, path, &o) != 0)
        return 13;
    tally_close(r);
    return 0;
}

static void test_group_refused(void **state)
{
    static char dir[256];
    tu_path(dir, sizeof(dir), "nobodys");
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(chown(dir, nobody_uid, nogroup_gid), 0);
    pid_t child = tu_fork(create_in_foreign_group, dir, 0);
    assert_int_equal(tu_wait_all(&child, 1), 0);
    assert_string_not_equal(tally_strerror(TALLY_EGROUP), "unknown libtally error");
}

static void test_untrusted_owner(void **state)
{
    char path[256];
    make_region(path, sizeof(path), "planted");
    assert_int_equal(chown(path, nobody_uid, nogroup_gid), 0);
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, path, NULL), TALLY_EOWNER);
    tally_open_opts ro = {.flags = TALLY_OPEN_RDONLY};
    assert_int_equal(tally_open(&r, path, &ro), TALLY_EOWNER);
    assert_null(r);
    /* Trusted once named as the owner. */
    tally_open_opts o = {.flags = TALLY_OPEN_OWNER, .owner = nobody_uid};
    assert_int_equal(tally_open(&r, path, &o), 0);
    tally_close(r);
    /* Another configured owner does not make nobody trusted. */
    tally_open_opts wrong = {.flags = TALLY_OPEN_OWNER, .owner = nobody_uid - 1};
    assert_int_equal(tally_open(&r, path, &wrong), TALLY_EOWNER);

    /* The same for a /dev/shm name. */
    char name[64], shm[128];
    snprintf(name, sizeof(name), "tally-test-planted-%d", (int)getpid());
    snprintf(shm, sizeof(shm), "/dev/shm/%s", name);
    int fd = open(shm, O_RDWR | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(fchown(fd, nobody_uid, nogroup_gid), 0);
    close(fd);
    assert_int_equal(tally_open(&r, name, NULL), TALLY_EOWNER);
    unlink(shm);
    assert_string_not_equal(tally_strerror(TALLY_EOWNER), "unknown libtally error");
}

static void test_world_writable_region(void **state)
{
    char path[256];
    make_region(path, sizeof(path), "everyones");
    assert_int_equal(chmod(path, 0666), 0);
    tally_region *r = NULL;
    assert_int_equal(tally_open(&r, path, NULL), TALLY_EMODE);
    tally_open_opts ro = {.flags = TALLY_OPEN_RDONLY};
    assert_int_equal(tally_open(&r, path, &ro), TALLY_EMODE);
    assert_null(r);
    assert_int_equal(chmod(path, 0664), 0);
    assert_int_equal(tally_open(&r, path, &ro), 0);
    tally_close(r);
    assert_string_not_equal(tally_strerror(TALLY_EMODE), "unknown libtally error");
}

static int sum_values(const char *name, int64_t value, void *arg)
{
    *(int64_t *)arg += value;
    return 0;
}

static void test_readonly_reads_and_refuses_writes(void **state)
{
    char path[256];
    make_region(path, sizeof(path), "ro");
    tally_region *rw = NULL, *r = NULL;
    tally_open_opts nocreate = {.flags = TALLY_OPEN_NOCREATE};
    assert_int_equal(tally_open(&rw, path, &nocreate), 0);
    size_t len0, len1;
    char *before = bytes_of(path, &len0);

    tally_open_opts ro = {.flags = TALLY_OPEN_RDONLY};
    assert_int_equal(tally_open(&r, path, &ro), 0);
    tally_info info;
    assert_int_equal(tally_info_get(r, &info), 0);
    assert_int_equal(info.readonly, 1);
    assert_int_equal(info.used, 2);
    assert_int_equal(info.created, 0);
    int64_t sum = 0;
    assert_int_equal(tally_foreach(r, "a.", sum_values, &sum), 0);
    assert_int_equal(sum, 12);
    tally_counter *c = NULL;
    assert_int_equal(tally_counter_find(r, "a.x", &c), 0);
    assert_int_equal(tally_value(c), 5);
    assert_int_equal(c->flags & TALLY__COUNTER_RDONLY, TALLY__COUNTER_RDONLY);
    assert_int_equal(tally_counter_get(r, "a.y", &c), 0);
    assert_int_equal(tally_value(c), 7);
    /* Writes: refused, and nothing of them reaches the file. */
    assert_int_equal(tally_counter_get(r, "a.new", &c), TALLY_ERDONLY);
    assert_int_equal(tally_counter_get(r, "bad\nname", &c), TALLY_ENAME);
    assert_int_equal(tally_add_name(r, "a.x", 1), TALLY_ERDONLY);
    assert_int_equal(tally_add_name(r, "a.new", 1), TALLY_ERDONLY);
    assert_int_equal(tally_counter_find(r, "a.new", &c), TALLY_ENOCOUNTER);
    tally_identity ia, ib;
    assert_int_equal(tally_identity_get(r, &ia), 0);
    assert_int_equal(tally_identity_get(rw, &ib), 0);
    assert_true(ia.id == ib.id && ia.id != 0);
    assert_int_equal(tally_check_path(r), 0);
    /* The writer's adds show through the read-only mapping. */
    assert_int_equal(tally_add_name(rw, "a.x", 10), 0);
    assert_int_equal(tally_counter_find(r, "a.x", &c), 0);
    assert_int_equal(tally_value(c), 15);
    assert_int_equal(tally_add_name(rw, "a.x", -10), 0);
    char *after = bytes_of(path, &len1);
    assert_int_equal(len0, len1);
    assert_memory_equal(before, after, len0);
    free(before);
    free(after);
    tally_close(r);
    tally_close(rw);

    /* Read-only never creates. */
    assert_int_equal(tally_open(&r, tu_path(path, sizeof(path), "ro-missing"), &ro),
                     TALLY_ENOREGION);
    assert_int_equal(access(path, F_OK), -1);
    assert_string_not_equal(tally_strerror(TALLY_ERDONLY), "unknown libtally error");
}

/* A region made before identities is not stamped by a read-only opener:
 * its identity reads 0 there, and the header stays as it was. */
static void test_readonly_does_not_stamp(void **state)
{
    char path[256];
    make_region(path, sizeof(path), "ro-legacy");
    uint64_t zero = 0, id = 1;
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    off_t at = (off_t)offsetof(struct tally_header, id);
    assert_int_equal(pwrite(fd, &zero, sizeof(zero), at), sizeof(zero));
    tally_region *r = NULL;
    tally_open_opts ro = {.flags = TALLY_OPEN_RDONLY};
    assert_int_equal(tally_open(&r, path, &ro), 0);
    tally_identity ident;
    assert_int_equal(tally_identity_get(r, &ident), 0);
    assert_int_equal(ident.id, 0);
    tally_close(r);
    assert_int_equal(pread(fd, &id, sizeof(id), at), sizeof(id));
    assert_int_equal(id, 0);
    /* A read-write opener stamps it. */
    assert_int_equal(tally_open(&r, path, NULL), 0);
    tally_close(r);
    assert_int_equal(pread(fd, &id, sizeof(id), at), sizeof(id));
    assert_true(id != 0);
    close(fd);
}

/* As nobody, on root's region of mode 0644: read-write is the system's
 * EACCES; read-only reads; writes are TALLY_ERDONLY, not a fault. */
static int read_only_for_real(void *arg, int index)
{
    const char *path = arg;
    if (drop_to_nobody() != 0)
        return 10;
    tally_region *r = NULL;
    if (tally_open(&r, path, NULL) != -EACCES)
        return 11;
    tally_open_opts ro = {.flags = TALLY_OPEN_RDONLY};
    if (tally_open(&r, path, &ro) != 0)
        return 12;
    tally_counter *c = NULL;
    if (tally_counter_find(r, "a.y", &c) != 0 || tally_value(c) != 7)
        return 13;
    if (tally_add_name(r, "a.y", 1) != TALLY_ERDONLY ||
        tally_counter_get(r, "a.z", &c) != TALLY_ERDONLY)
        return 14;
    int64_t sum = 0;
    if (tally_foreach(r, NULL, sum_values, &sum) != 0 || sum != 12)
        return 15;
    tally_close(r);
    return 0;
}

static void test_readonly_as_another_user(void **state)
{
    static char path[256];
    make_region(path, sizeof(path), "ro-real");
    assert_int_equal(chmod(path, 0644), 0);
    pid_t child = tu_fork(read_only_for_real, path, 0);
    assert_int_equal(tu_wait_all(&child, 1), 0);
}

static int read_all(void *arg)
{
    int64_t sum = 0;
    return tally_foreach(arg, NULL, sum_values, &sum);
}

/* A read-only reader survives its region shrinking, like any other. */
static void test_readonly_shrunk(void **state)
{
    char path[256];
    make_region(path, sizeof(path), "ro-shrinks");
    assert_int_equal(tally_guard_install(), 0);
    tally_region *r = NULL;
    tally_open_opts ro = {.flags = TALLY_OPEN_RDONLY};
    assert_int_equal(tally_open(&r, path, &ro), 0);
    assert_int_equal(tally_guarded(r, read_all, r), 0);
    assert_int_equal(truncate(path, 4096), 0);
    assert_int_equal(tally_guarded(r, read_all, r), TALLY_ESHRUNK);
    tally_close(r);
    assert_int_equal(tally_open(&r, path, &ro), TALLY_ESIZE);
    tally_guard_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_and_mode_whatever_the_umask),
        cmocka_unit_test(test_world_writable_mode_refused),
        cmocka_unit_test(test_group_refused),
        cmocka_unit_test(test_untrusted_owner),
        cmocka_unit_test(test_world_writable_region),
        cmocka_unit_test(test_readonly_reads_and_refuses_writes),
        cmocka_unit_test(test_readonly_does_not_stamp),
        cmocka_unit_test(test_readonly_as_another_user),
        cmocka_unit_test(test_readonly_shrunk),
    };
    return cmocka_run_group_tests(tests, setup, tu_teardown);
}
