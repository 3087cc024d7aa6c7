/*
 * startcheck.c — see startcheck.h.
 */
#include "startcheck.h"

#include "log.h"
#include "spool.h"
#include "state.h"

#include <errno.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Each owner the agent migrates at start, with the version it knows. The
 * collector checks its own tables when it starts. */
static int check_database(const conf *c)
{
    sqlite3 *db = NULL;
    if (state_peek(c->state_dir, c->state_dir_at, &db) != 0)
        return -1;
    if (db == NULL)
        return 0;
    int bad = state_check_owner(db, STATE_OWNER, STATE_SCHEMA_VERSION) != 0;
    bad |= state_check_owner(db, SPOOL_OWNER, SPOOL_SCHEMA_VERSION) != 0;
    sqlite3_close(db);
    return bad ? -1 : 0;
}

/* The pidfile is (re)written at start: it, or its directory, must take it,
 * and it must be what runlock will open (no symlink, a regular file of
 * this user). */
static int check_pidfile(const char *pidfile)
{
    char copy[4096];
    struct stat st;
    const char *why = NULL;
    snprintf(copy, sizeof(copy), "%s", pidfile);
    if (lstat(pidfile, &st) == 0) {
        if (S_ISLNK(st.st_mode))
            why = "it is a symlink, and tally writes no file through one; remove it";
        else if (!S_ISREG(st.st_mode))
            why = "it is not a regular file; move it away";
        else if (st.st_uid != geteuid())
            why = "it is owned by another user; remove it or chown it";
        else if (access(pidfile, W_OK) != 0)
            why = strerror(errno);
    } else if (access(dirname(copy), W_OK | X_OK) != 0) {
        why = strerror(errno);
    }
    if (why == NULL)
        return 0;
    log_msg(TALLY_LOG_ERR,
            "pidfile %s cannot be written by uid %d: %s; give -p a file in a writable directory",
            pidfile, (int)geteuid(), why);
    return -1;
}

int startcheck_run(const conf *c, const char *pidfile)
{
    int bad = 0;
    if (state_check_dir(c->state_dir, c->state_dir_at) != 0)
        bad = 1;
    else if (check_database(c) != 0)
        bad = 1;
    if (pidfile != NULL && check_pidfile(pidfile) != 0)
        bad = 1;
    return bad ? -1 : 0;
}
