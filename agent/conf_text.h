/*
 * conf_text.h — a config file's text, read only if it is safe to parse.
 *
 * The main config (-c) and every include() go through here, at start, at
 * -t and at every HUP reload. A FIFO would block the reader forever (and
 * a reload would freeze the running agent), a device such as /dev/zero
 * never ends: only a regular file is read (a symlink to one is fine: it
 * is only read, and /etc often links its configs). A file is at most
 * CONF_MAX_BYTES, and no line longer than CONF_MAX_LINE, because
 * libconfuse takes time quadratic in the length of one line (an 8 MB
 * comment line took 25 s); over-long lines are refused with their line
 * number before libconfuse sees them.
 */
#ifndef TALLY_AGENT_CONF_TEXT_H
#define TALLY_AGENT_CONF_TEXT_H

#include <stddef.h>

#define CONF_MAX_BYTES (1024 * 1024)
#define CONF_MAX_LINE (64 * 1024)

enum {
    CONF_TEXT_OK = 0,
    CONF_TEXT_UNREADABLE = -1, /* why: strerror's text only */
    CONF_TEXT_REFUSED = -2,    /* why: the file's name, what it is, what to do */
};

/* CONF_TEXT_OK with *text (malloc'd, NUL-terminated, *len bytes before
 * the NUL), or another code with why (cap bytes); a line at fault is
 * named as "FILE:LINE: ". */
int conf_text_read(const char *file, char **text, size_t *len, char *why, size_t cap);

#endif
