/*
 * region.c — creating, validating, mapping and closing a tally region.
 *
 * Creation is race-free without any lock: a creator builds the whole region
 * in an anonymous file (O_TMPFILE, or a uniquely named temporary where the
 * file system lacks it) and publishes it with link(), which fails with EEXIST
 * for every creator but one. A region is therefore never visible half made,
 * and a creator killed half way leaves nothing others could wait on.
 * An existing file is read only after its header proves it is a region of
 * this layout and its size covers what the header claims.
 */
#include "layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "libtally needs lock-free 64-bit atomics");
_Static_assert(sizeof(struct tally_header) <= TALLY_HEADER_SIZE, "header fits its page");
_Static_assert(sizeof(struct tally_slot) == TALLY_SLOT_SIZE, "a slot is one cache line");

/* POSIX shm objects live in this tmpfs on Linux (glibc's shm_open uses it);
 * creation needs a path for link(), so names are resolved here directly. */
#define SHM_DIR "/dev/shm/"

static uint32_t pow2_at_least(uint64_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static uint32_t log2_u64(uint64_t p)
{
    uint32_t s = 0;
    while ((1ull << s) < p)
        s++;
    return s;
}

void tally_geometry_of(uint32_t capacity, uint32_t stripes, struct tally_geometry *g)
{
    /* A table at most half full keeps linear probes to one or two lines. */
    g->table_slots = pow2_at_least((uint64_t)capacity * 2);
    /* Stripes start on a page and are a power of two apart, so a cell's
     * address is cell0 + (cpu << shift): no multiply on the hot path. */
    uint64_t stripe_bytes = (uint64_t)g->table_slots * sizeof(int64_t);
    if (stripe_bytes < 4096)
        stripe_bytes = 4096;
    g->stripe_shift = log2_u64(stripe_bytes);
    g->slots_off = TALLY_HEADER_SIZE;
    g->tails_off = g->slots_off + (uint64_t)g->table_slots * TALLY_SLOT_SIZE;
    g->values_off = (g->tails_off + (uint64_t)g->table_slots * sizeof(uint64_t) + 4095) & ~4095ull;
    g->total_size = g->values_off + ((uint64_t)stripes << g->stripe_shift);
}

uint64_t tally_header_checksum(const struct tally_header *h)
{
    return tally_name_hash((const char *)h, offsetof(struct tally_header, checksum));
}

static int resolve_path(const char *name, char *path, size_t cap)
{
    if (name == NULL || name[0] == '\0')
        return TALLY_EINVAL;
    int n;
    if (strchr(name, '/') != NULL) {
        n = snprintf(path, cap, "%s", name);
    } else {
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            return TALLY_EINVAL;
        n = snprintf(path, cap, SHM_DIR "%s", name);
    }
    return (n < 0 || (size_t)n >= cap) ? -ENAMETOOLONG : 0;
}

static uint32_t default_stripes(void)
{
    int cpus = get_nprocs_conf();
    uint32_t s = pow2_at_least(cpus > 0 ? (uint64_t)cpus : 1);
    return s > TALLY_MAX_STRIPES ? TALLY_MAX_STRIPES : s;
}

/* Check a header read from a file of file_size bytes. */
static int validate_header(const struct tally_header *h, uint64_t file_size)
{
    if (file_size == 0)
        return TALLY_EEMPTY;
    /* The magic first: a short file that is not a region is foreign, and
     * must not be called a truncated region (an invitation to remove it). */
    if (file_size < sizeof(h->magic) || memcmp(h->magic, TALLY_MAGIC, 8) != 0)
        return TALLY_EMAGIC;
    if (file_size < offsetof(struct tally_header, used))
        return TALLY_ETRUNC;
    if (h->version != TALLY_LAYOUT_VERSION)
        return TALLY_EVERSION;
    if (h->checksum != tally_header_checksum(h))
        return TALLY_ECORRUPT;
    if (file_size < TALLY_HEADER_SIZE)
        return TALLY_ETRUNC;
    struct tally_geometry g;
    if (h->header_size != TALLY_HEADER_SIZE || h->slot_size != TALLY_SLOT_SIZE ||
        h->capacity == 0 || h->capacity > TALLY_MAX_CAPACITY || h->stripes == 0 ||
        h->stripes > TALLY_MAX_STRIPES || (h->stripes & (h->stripes - 1)) != 0)
        return TALLY_ECORRUPT;
    tally_geometry_of(h->capacity, h->stripes, &g);
    if (h->table_slots != g.table_slots || h->stripe_shift != g.stripe_shift ||
        h->total_size != g.total_size)
        return TALLY_ECORRUPT;
    if (file_size < h->total_size)
        return TALLY_ESIZE;
    return 0;
}

/* A random identity, never 0. Without the kernel's generator (a seccomp
 * filter, an old kernel), the time, the pid and an address mixed: still
 * different for every region a machine makes. */
static uint64_t new_identity(void)
{
    uint64_t id = 0;
    if (getrandom(&id, sizeof(id), GRND_NONBLOCK) != (ssize_t)sizeof(id)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        id = tally_fold_mul((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec,
                            0x9e3779b97f4a7c15ull ^ (uint64_t)getpid() ^ (uint64_t)(uintptr_t)&ts);
    }
    return id != 0 ? id : 1;
}

static void header_init(struct tally_header *h, uint32_t capacity, uint32_t stripes)
{
    struct tally_geometry g;
    tally_geometry_of(capacity, stripes, &g);
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, TALLY_MAGIC, 8);
    h->version = TALLY_LAYOUT_VERSION;
    h->header_size = TALLY_HEADER_SIZE;
    h->capacity = capacity;
    h->slot_size = TALLY_SLOT_SIZE;
    h->stripes = stripes;
    h->table_slots = g.table_slots;
    h->stripe_shift = g.stripe_shift;
    h->total_size = g.total_size;
    h->checksum = tally_header_checksum(h);
    atomic_init(&h->id, new_identity());
    h->created_utc = (int64_t)time(NULL);
}

/* Open an unnamed file in path's directory to build the region in. On file
 * systems without O_TMPFILE, a uniquely named temporary stands in; *tmp_name
 * then holds its name for the caller to unlink. */
static int open_unpublished(const char *path, char *tmp_name, size_t cap)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = '\0';
    else if (slash != NULL)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    tmp_name[0] = '\0';
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return -errno;
    if (snprintf(tmp_name, cap, "%s.tmp.XXXXXX", path) >= (int)cap)
        return TALLY_EINVAL;
    fd = mkostemp(tmp_name, O_CLOEXEC);
    if (fd < 0) {
        tmp_name[0] = '\0';
        return -errno;
    }
    return fd;
}

static int publish(int fd, const char *tmp_name, const char *path)
{
    int rc;
    if (tmp_name[0] != '\0') {
        rc = link(tmp_name, path);
        int e = errno;
        unlink(tmp_name);
        return rc == 0 ? 0 : -e;
    }
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    rc = linkat(AT_FDCWD, proc, AT_FDCWD, path, AT_SYMLINK_FOLLOW);
    return rc == 0 ? 0 : -errno;
}

/* The new region's group and mode, set on the unpublished file, so no
 * process ever sees it with others: fchmod, not the open mode, so the mode
 * does not depend on the umask; fchown first, since it may clear the
 * set-group-id bit a mode asks for. */
static int set_access(int fd, const tally_open_opts *o)
{
    if ((o->flags & TALLY_OPEN_GROUP) && fchown(fd, (uid_t)-1, o->group) != 0)
        return errno == EPERM || errno == EINVAL ? TALLY_EGROUP : -errno;
    return fchmod(fd, o->mode) == 0 ? 0 : -errno;
}

/* Build a complete region and link it at path. Returns its fd, or -EEXIST
 * when another process published first. */
static int create_region(const char *path, const tally_open_opts *o)
{
    char tmp_name[300];
    int fd = open_unpublished(path, tmp_name, sizeof(tmp_name));
    if (fd < 0)
        return fd;
    struct tally_header h;
    header_init(&h, o->capacity, default_stripes());
    int rc = set_access(fd, o);
    if (rc == 0 && (ftruncate(fd, (off_t)h.total_size) != 0 ||
                    pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h)))
        rc = errno ? -errno : -EIO;
    if (rc == 0)
        rc = publish(fd, tmp_name, path);
    else if (tmp_name[0] != '\0')
        unlink(tmp_name);
    if (rc != 0) {
        close(fd);
        return rc;
    }
    return fd;
}

/* The first accesses to the mapping, so guarded: the file may have shrunk
 * since its size was checked (guard.c). A region made before identities
 * gets one now, unless attached read-only (then its identity reads 0
 * until a writer stamps it); every opener that races here agrees on the
 * first one stored. The identity is kept, so that tally_identity_get
 * never touches the mapping. */
static int read_identity(void *arg)
{
    tally_region *r = arg;
    struct tally_header *h = r->hdr;
    uint64_t none = 0;
    if (!r->readonly && atomic_load_explicit(&h->id, memory_order_acquire) == 0)
        atomic_compare_exchange_strong_explicit(&h->id, &none, new_identity(),
                                                memory_order_acq_rel, memory_order_acquire);
    r->id = atomic_load_explicit(&h->id, memory_order_acquire);
    r->created_utc = h->created_utc;
    return 0;
}

static size_t handle_chunk_count(const tally_region *r)
{
    return ((size_t)r->table_mask + HANDLE_CHUNK) / HANDLE_CHUNK;
}

/* A region is a regular file; anything else gets a code saying what it is. */
static int kind_of(mode_t mode)
{
    if (S_ISREG(mode))
        return 0;
    return S_ISDIR(mode) ? TALLY_EISDIR : TALLY_ESPECIAL;
}

/* What the path names, looked at before anything opens it: opening a FIFO
 * could block and a device could act on the open. 0 when it is a regular
 * file or nothing at all (a region can be created there). */
static int path_kind(const char *path, int by_name)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (S_ISLNK(st.st_mode)) {
        if (by_name)
            return TALLY_ESYMLINK;
        if (stat(path, &st) != 0)
            return errno == ENOENT ? TALLY_EDANGLING : -errno;
    }
    return kind_of(st.st_mode);
}

/* Whom an existing region is trusted from (tally.h): whoever owns it, or
 * may write it while not in its group, can truncate it under every
 * process that maps it; the group is the deployment's choice. Checked on
 * the descriptor, before anything is read from the file. */
static int trust_check(const struct stat *st, const tally_open_opts *o)
{
    int trusted = st->st_uid == geteuid() || st->st_uid == 0 ||
                  ((o->flags & TALLY_OPEN_OWNER) && st->st_uid == o->owner);
    if (!trusted)
        return TALLY_EOWNER;
    return (st->st_mode & S_IWOTH) ? TALLY_EMODE : 0;
}

static int map_region(int fd, tally_region *r, const tally_open_opts *o)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return -errno;
    int rc = kind_of(st.st_mode);
    if (rc == 0)
        rc = trust_check(&st, o);
    if (rc != 0)
        return rc;
    r->dev = st.st_dev;
    r->ino = st.st_ino;
    struct tally_header h;
    memset(&h, 0, sizeof(h));
    ssize_t got = pread(fd, &h, sizeof(h), 0);
    if (got < 0)
        return -errno;
    rc = validate_header(&h, (uint64_t)st.st_size);
    if (rc != 0)
        return rc;
    int prot = r->readonly ? PROT_READ : PROT_READ | PROT_WRITE;
    void *base = mmap(NULL, h.total_size, prot, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return -errno;
    struct tally_geometry g;
    tally_geometry_of(h.capacity, h.stripes, &g);
    r->base = base;
    r->size = h.total_size;
    r->hdr = base;
    r->slots = (struct tally_slot *)(r->base + g.slots_off);
    r->tails = (_Atomic uint64_t *)(r->base + g.tails_off);
    r->values = r->base + g.values_off;
    r->capacity = h.capacity;
    r->table_mask = h.table_slots - 1;
    r->stripes = h.stripes;
    r->stripe_shift = h.stripe_shift;
    r->handle_chunks = calloc(handle_chunk_count(r), sizeof(*r->handle_chunks));
    if (r->handle_chunks == NULL) {
        munmap(base, h.total_size);
        return -ENOMEM;
    }
    rc = tally_guard_run(r->base, r->size, read_identity, r);
    if (rc != 0) {
        munmap(base, h.total_size);
        free(r->handle_chunks);
        return rc;
    }
    return 0;
}

int tally_open(tally_region **out, const char *name, const tally_open_opts *opts)
{
    if (out == NULL)
        return TALLY_EINVAL;
    *out = NULL;
    tally_open_opts o = {0};
    if (opts != NULL)
        o = *opts;
    if (o.capacity == 0)
        o.capacity = TALLY_DEFAULT_CAPACITY;
    if (o.mode == 0)
        o.mode = 0660;
    /* A mode with o+w makes a region no one may attach (trust_check). */
    if (o.capacity > TALLY_MAX_CAPACITY || (o.mode & ~07777) != 0 || (o.mode & S_IWOTH))
        return TALLY_EINVAL;
    if (o.flags & TALLY_OPEN_RDONLY)
        o.flags |= TALLY_OPEN_NOCREATE;

    tally_region *r = calloc(1, sizeof(*r));
    if (r == NULL)
        return -ENOMEM;
    int rc = resolve_path(name, r->path, sizeof(r->path));
    int shm = rc == 0 && strchr(name, '/') == NULL;
    r->by_name = shm;
    r->readonly = (o.flags & TALLY_OPEN_RDONLY) != 0;
    int fd = -1;
    /* Another process may publish, or remove, the region between our
     * attempts to open and to create it; a few rounds settle any race. */
    for (int attempt = 0; rc == 0 && fd < 0 && attempt < 8; attempt++) {
        rc = path_kind(r->path, shm);
        if (rc != 0)
            break;
        /* O_NONBLOCK: a FIFO swapped in after the check must not block
         * the open; map_region refuses it. */
        fd = open(r->path, (r->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK |
                               (shm ? O_NOFOLLOW : 0));
        if (fd >= 0)
            break;
        if (errno == ELOOP && shm)
            rc = TALLY_ESYMLINK;
        else if (errno != ENOENT)
            rc = -errno;
        else if (o.flags & TALLY_OPEN_NOCREATE)
            rc = TALLY_ENOREGION;
        else {
            fd = create_region(r->path, &o);
            if (fd >= 0)
                r->created = 1;
            else if (fd != -EEXIST)
                rc = fd;
        }
    }
    if (rc == 0 && fd < 0) {
        /* Every round found nothing to open yet could not create: say
         * what is in the way if anything is, else that it kept changing. */
        rc = path_kind(r->path, shm);
        if (rc == 0)
            rc = -EAGAIN;
    }
    if (rc == 0)
        rc = map_region(fd, r, &o);
    if (fd >= 0)
        close(fd);
    if (rc != 0) {
        free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void tally_close(tally_region *r)
{
    if (r == NULL)
        return;
    munmap(r->base, r->size);
    for (size_t i = 0; i < handle_chunk_count(r); i++)
        free(atomic_load_explicit(&r->handle_chunks[i], memory_order_relaxed));
    free(r->handle_chunks);
    free(r);
}

int tally_info_get(tally_region *r, tally_info *out)
{
    if (r == NULL || out == NULL)
        return TALLY_EINVAL;
    memset(out, 0, sizeof(*out));
    uint32_t used = 0;
    for (uint32_t i = 0; i <= r->table_mask; i++)
        used +=
            (atomic_load_explicit(tally_slot_tag(r, i), memory_order_relaxed) & TAG_PUBLISHED) != 0;
    out->capacity = r->capacity;
    out->used = used;
    out->stripes = r->stripes;
    out->version = r->hdr->version;
    out->overflow = atomic_load_explicit(&r->hdr->overflow, memory_order_relaxed);
    out->size = r->size;
    out->created = r->created;
    out->readonly = r->readonly;
    snprintf(out->path, sizeof(out->path), "%s", r->path);
    return 0;
}

int tally_identity_get(tally_region *r, tally_identity *out)
{
    if (r == NULL || out == NULL)
        return TALLY_EINVAL;
    out->id = r->id;
    out->created_utc = r->created_utc;
    return 0;
}

/* Device and inode alone are not enough: a file system may hand a new
 * file the inode number of one just removed (seen on ext4 under an overlay,
 * with the old file still mapped), so a path whose device and inode match
 * is also read for the identity in its header. The read goes through a
 * descriptor, not the mapping, so a file that shrank cannot fault here. */
int tally_check_path(tally_region *r)
{
    if (r == NULL)
        return TALLY_EINVAL;
    struct stat st;
    int rc = r->by_name ? lstat(r->path, &st) : stat(r->path, &st);
    if (rc != 0)
        return errno == ENOENT ? TALLY_EREPLACED : -errno;
    if (st.st_dev != r->dev || st.st_ino != r->ino)
        return TALLY_EREPLACED;
    int fd = open(r->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | (r->by_name ? O_NOFOLLOW : 0));
    if (fd < 0)
        return errno == ENOENT ? TALLY_EREPLACED : -errno;
    uint64_t id = 0;
    ssize_t got = pread(fd, &id, sizeof(id), (off_t)offsetof(struct tally_header, id));
    rc = got < 0 ? -errno : 0;
    close(fd);
    if (rc != 0)
        return rc;
    /* A file cut below its header is still the file mapped: the guarded
     * reads report it as TALLY_ESHRUNK, which says more than "replaced". */
    if (got < (ssize_t)sizeof(id))
        return 0;
    return id == r->id ? 0 : TALLY_EREPLACED;
}
