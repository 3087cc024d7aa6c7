/*
 * runlock.h — one agent per state_dir, and a pidfile that is a lock.
 *
 * A running tallyd holds flock on STATE_DIR/tallyd.lock (which holds its
 * pid) for its whole life, so a second agent on the same state_dir is
 * refused with the first one's pid instead of both writing one state
 * database; `tallyd -t` takes no lock (checking a config while the agent
 * runs is normal). The pidfile (-p) is flock'd the same way: a second
 * process never takes it over, and at exit the agent removes only the
 * pidfile it still holds. Both are opened through ownfile (no symlinks,
 * only regular files of the agent's user). Neither lock file is ever
 * removed: a lock file unlinked while another process waits on it would
 * let two processes hold "the" lock.
 */
#ifndef TALLY_AGENT_RUNLOCK_H
#define TALLY_AGENT_RUNLOCK_H

typedef struct runlock runlock;

#define RUNLOCK_FILE "tallyd.lock"

/* Lock state_dir, and pidfile if not NULL. 0 with *out, or -1 with the
 * reason logged (another agent's pid, a symlink, ...). */
int runlock_take(const char *state_dir, const char *pidfile, runlock **out);

/* Lock a new state_dir for a reload that moves it (the pidfile stays):
 * 0, or -1 logged with the old lock kept. */
int runlock_move(runlock *l, const char *state_dir);

/* Write this process's pid into both files: after daemonizing, whose
 * forks change the pid (the locks pass to the child with the files). */
int runlock_write_pid(runlock *l);

/* Remove the pidfile (if it is still ours) and drop both locks. */
void runlock_release(runlock *l);

#endif
