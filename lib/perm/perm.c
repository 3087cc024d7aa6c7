/*
 * perm.c — see perm.h.
 */
#include "perm/perm.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int perm_mode_parse(const char *text, mode_t max, mode_t *out)
{
    if (text == NULL || text[0] == '\0')
        return -1;
    unsigned long v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '7')
            return -1;
        v = v * 8 + (unsigned long)(*p - '0');
        if (v > max) /* checked per digit, so it never overflows */
            return -1;
    }
    *out = (mode_t)v;
    return 0;
}

/* All digits, and small enough to be an id: a number, not a name. */
static int id_of(const char *text, unsigned long *out)
{
    if (text == NULL || text[0] < '0' || text[0] > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (*end != '\0' || errno == ERANGE || v >= (unsigned long)(id_t)-1)
        return -1;
    *out = v;
    return 0;
}

int perm_group_parse(const char *text, gid_t *out)
{
    unsigned long id;
    if (id_of(text, &id) == 0) {
        *out = (gid_t)id;
        return 0;
    }
    struct group *g = text != NULL && text[0] != '\0' ? getgrnam(text) : NULL;
    if (g == NULL)
        return -1;
    *out = g->gr_gid;
    return 0;
}

int perm_user_parse(const char *text, uid_t *out)
{
    unsigned long id;
    if (id_of(text, &id) == 0) {
        *out = (uid_t)id;
        return 0;
    }
    struct passwd *p = text != NULL && text[0] != '\0' ? getpwnam(text) : NULL;
    if (p == NULL)
        return -1;
    *out = p->pw_uid;
    return 0;
}

static char type_letter(mode_t m)
{
    if (S_ISREG(m))
        return '-';
    if (S_ISDIR(m))
        return 'd';
    if (S_ISLNK(m))
        return 'l';
    if (S_ISFIFO(m))
        return 'p';
    if (S_ISSOCK(m))
        return 's';
    return S_ISCHR(m) ? 'c' : 'b';
}

/* "rwxr-x---" with s/S and t/T where set-id and sticky bits are. */
static void mode_letters(mode_t m, char *s)
{
    static const char rwx[] = "rwxrwxrwx";
    for (int i = 0; i < 9; i++)
        s[i] = (m & (0400u >> i)) ? rwx[i] : '-';
    if (m & S_ISUID)
        s[2] = s[2] == 'x' ? 's' : 'S';
    if (m & S_ISGID)
        s[5] = s[5] == 'x' ? 's' : 'S';
    if (m & S_ISVTX)
        s[8] = s[8] == 'x' ? 't' : 'T';
    s[9] = '\0';
}

void perm_describe(const char *path, char *buf, size_t cap)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        snprintf(buf, cap, "(cannot stat: %s)", strerror(errno));
        return;
    }
    char mode[10], user[32], group[32];
    mode_letters(st.st_mode, mode);
    struct passwd *pw = getpwuid(st.st_uid);
    struct group *gr = getgrgid(st.st_gid);
    if (pw != NULL)
        snprintf(user, sizeof(user), "%s", pw->pw_name);
    else
        snprintf(user, sizeof(user), "%lu", (unsigned long)st.st_uid);
    if (gr != NULL)
        snprintf(group, sizeof(group), "%s", gr->gr_name);
    else
        snprintf(group, sizeof(group), "%lu", (unsigned long)st.st_gid);
    snprintf(buf, cap, "%c%s %s:%s", type_letter(st.st_mode), mode, user, group);
}

void perm_region_describe(const char *region, char *buf, size_t cap)
{
    char path[512], what[128];
    snprintf(path, sizeof(path), "%s%s", strchr(region, '/') != NULL ? "" : "/dev/shm/", region);
    perm_describe(path, what, sizeof(what));
    snprintf(buf, cap, "%s %s", path, what);
}
