/*
 * file_dir.c — the split layout's directories: <path> and <path>/days,
 * made (0750, whatever the umask) when missing and opened without
 * following a symlink, so that every file written in them lands where the
 * config says; and sweeping a directory of the day files of days no
 * longer listed and of the temporary files a crash left.
 */
#include "file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "civil/civil.h"

#define DIR_MODE 0750
#define DAY_FILE_LEN 15 /* "YYYY-MM-DD.json" */

int file_dir_open(const file_ctx *ctx, int parent, const char *name, const char *path, int *out)
{
    *out = -1;
    int created = mkdirat(parent, name, DIR_MODE) == 0;
    if (!created && errno != EEXIST) {
        file_report(ctx, path, "creating the directory", errno);
        return TALLY_HOST_ERR;
    }
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
        const char *kind = file_kind_at(parent, name);
        ctx->api->log(ctx->host, TALLY_LOG_ERR,
                      "cannot write in %s: it is %s, not a directory; tally writes no file "
                      "through a symlink: remove it or change option 'path'; nothing was changed",
                      path, kind != NULL ? kind : "not a directory");
        return TALLY_HOST_ERR;
    }
    if (fd < 0) {
        file_report(ctx, path, "opening the directory", errno);
        return TALLY_HOST_ERR;
    }
    /* mkdir's mode went through the umask; the one asked for is explicit. */
    if (created && fchmod(fd, DIR_MODE) != 0) {
        file_report(ctx, path, "setting the directory's mode", errno);
        close(fd);
        return TALLY_HOST_ERR;
    }
    *out = fd;
    return 0;
}

/* Whether name[0..n) is "YYYY-MM-DD.json" for a day that exists. */
static int day_file_name(const char *name, size_t n)
{
    civil_date d;
    return n == DAY_FILE_LEN && memcmp(name + 10, ".json", 5) == 0 &&
           civil_parse_date(name, 10, &d) == 0;
}

/* Whether name goes: a temporary file of leaf (leaf NULL: of a day
 * file), or a day file dated before oldest. */
static int swept(const char *name, const char *leaf, const char *oldest)
{
    size_t base;
    if (file_temp_name(name, &base))
        return leaf != NULL ? strlen(leaf) == base && memcmp(name, leaf, base) == 0
                            : day_file_name(name, base);
    return oldest != NULL && oldest[0] != '\0' && day_file_name(name, strlen(name)) &&
           strncmp(name, oldest, 10) < 0;
}

int file_dir_sweep(const file_ctx *ctx, int dir_fd, const char *dir_path, const char *leaf,
                   const char *oldest)
{
    int fd = dup(dir_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0)
            close(fd);
        file_report(ctx, dir_path, "listing the directory", errno);
        return TALLY_HOST_ERR;
    }
    /* A dup shares its offset with dir_fd: start from the beginning. */
    rewinddir(d);
    int rc = 0, removed = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!swept(e->d_name, leaf, oldest))
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir_path, e->d_name);
        if (file_remove_at(ctx, dir_fd, path, e->d_name) != 0)
            rc = TALLY_HOST_ERR;
        else
            removed = 1;
    }
    closedir(d);
    if (removed && file_sync_dir(ctx, dir_fd, dir_path) != 0)
        rc = TALLY_HOST_ERR;
    return rc;
}
