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
        return "region file is empty: it is not a tally region; remove it so it can be created";
    case TALLY_ETRUNC:
        return "region file is truncated: shorter than a region header; remove it so it can be "
               "created";
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
    case TALLY_EREPLACED:
        return "region was removed or replaced since it was opened: close it and open it again "
               "to see the new one";
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "unknown libtally error";
}
