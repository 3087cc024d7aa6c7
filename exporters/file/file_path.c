/*
 * file_path.c — the target path of one export: the `path` template run
 * through strftime with the local time, in the business zone, of the
 * snapshot's business clock (so --now replays name their files by the
 * replayed day, and a day's file is named by its business date).
 */
#include "file.h"

#include <limits.h>
#include <stdlib.h>

int file_path_format(const char *tmpl, const struct tm *tm, char **out)
{
    /* strftime returns 0 both for "did not fit" and for an empty result,
     * so grow until it fits or PATH_MAX proves the result is too long (or
     * empty, which is as useless). */
    for (size_t cap = 256; cap <= PATH_MAX; cap *= 2) {
        char *buf = malloc(cap);
        if (buf == NULL)
            return TALLY_HOST_ERR;
        size_t n = strftime(buf, cap, tmpl, tm);
        if (n > 0) {
            *out = buf;
            return 0;
        }
        free(buf);
    }
    return TALLY_HOST_ERR;
}

int file_path_expand(tally_host *h, const tally_host_api *api, const char *tmpl, int64_t utc,
                     char **out)
{
    struct tm tm;
    if (api->local_time(h, utc, &tm) != 0)
        return TALLY_HOST_ERR;
    return file_path_format(tmpl, &tm, out);
}
