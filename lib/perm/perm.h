/*
 * perm.h — who may use a file, as a person writes it and reads it: an
 * octal mode ("0660"), a group or user by name or number, and a file's
 * mode, owner and group as ls -l shows them, for messages that must say
 * why a file was refused. Used by the tool, the shm source and the file
 * exporter.
 */
#ifndef TALLY_LIB_PERM_H
#define TALLY_LIB_PERM_H

#include <stddef.h>
#include <sys/types.h>

/* "0644" -> 0644: octal digits only, at most max. 0, or -1 for text that
 * is not such a mode. */
int perm_mode_parse(const char *text, mode_t max, mode_t *out);

/* A group (user) by name, or by number when text is all digits. 0, or -1
 * when there is no such group (user). */
int perm_group_parse(const char *text, gid_t *out);
int perm_user_parse(const char *text, uid_t *out);

/* What stands at path, ls -l style, in buf: "-rw-rw---- root:www-data";
 * names are numbers where the system knows none; "(cannot stat: why)"
 * when path cannot be looked at. Never follows a symlink. */
void perm_describe(const char *path, char *buf, size_t cap);

/* A libtally region's file and perm_describe of it, for a message about
 * a region refused for who owns it or may use it: "/dev/shm/tally
 * -rw-rw---- root:www-data". The file is the region name's: a path if it
 * contains '/', else /dev/shm/NAME. */
void perm_region_describe(const char *region, char *buf, size_t cap);

/* What to do about EACCES on a region, after its description. */
#define PERM_REGION_ACCESS_HINT                                                                    \
    "to read it, be its owner or in its group (or ask for o+r); to write it, be its owner or "    \
    "in its group with g+w"

#endif
