/*
 * errors.c — one sentence per libtally error code, saying what is wrong and
 * what to do about it.
 */
#include "tally.h"

#include <string.h>

const char *tally_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
    case TALLY_EFULL:
        return "region is full: every counter slot is taken; create the region with a larger "
               "capacity";
    case TALLY_ENAME:
        return "invalid counter name: use 1 to 64 bytes of UTF-8 without control characters";
    case TALLY_EEMPTY:
        return "region file is empty: it is not a tally region (libtally never leaves one "
               "empty); check what the path names, and remove it only if it is yours, so the "
               "region can be created";
    case TALLY_ETRUNC:
        return "region file is a region cut short: shorter than a region header; check what "
               "the path names, and remove it only if it is yours, so it can be created";
    case TALLY_EMAGIC:
        return "not a tally region (wrong magic): check the region name or path";
    case TALLY_EVERSION:
        return "region has a layout version this libtally does not know: use the libtally "
               "that created it, or remove the region";
    case TALLY_ECORRUPT:
        return "region header is corrupt (fields inconsistent or checksum wrong): remove the "
               "region so it can be created";
    case TALLY_ESIZE:
        return "region file is smaller than its header claims: it was truncated; remove it so "
               "it can be created";
    case TALLY_ENOCOUNTER:
        return "no counter of that name in the region";
    case TALLY_EINVAL:
        return "invalid argument: region name, options or pointer";
    case TALLY_ENOREGION:
        return "region does not exist";
    case TALLY_ESYMLINK:
        return "region name is a symbolic link in /dev/shm: libtally never follows a link "
               "there (anyone may plant one); remove the link if it is yours, or use another "
               "region name";
    case TALLY_EDANGLING:
        return "region path is a symbolic link to nothing (dangling): point it at a region, "
               "or remove the link so the region can be created";
    case TALLY_EISDIR:
        return "region path is a directory, not a region file: give a file's path, or a name "
               "without '/' for a region in /dev/shm";
    case TALLY_ESPECIAL:
        return "region path is a FIFO, socket or device, not a region file: libtally neither "
               "reads nor writes it; give the path of a regular file";
    case TALLY_ESHRUNK:
        return "region file shrank while in use: something with write access truncated it "
               "(libtally never does); its counters are lost. Check who can write it (ls -l), "
               "then open the region again";
    case TALLY_EOWNER:
        return "region is owned by a user this process does not trust (not itself, not root, "
               "not the configured owner): anyone who owns it can truncate it under every "
               "process that maps it; remove it if it is not yours, or configure its owner";
    case TALLY_EMODE:
        return "region is writable by every user (mode o+w): anyone could truncate it; "
               "chmod o-w it, or remove it so it is created again with a safe mode";
    case TALLY_ERDONLY:
        return "region is attached read-only: adds, resets and new counters need write "
               "access; open it read-write as a member of its group";
    case TALLY_EGROUP:
        return "could not give the new region its group: the creating user must be a member "
               "of that group (or root); add it to the group or create the region as its "
               "owner";
    case TALLY_EREPLACED:
        return "region was removed or replaced since it was opened: close it and open it again "
               "to see the new one";
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown libtally error";
}
