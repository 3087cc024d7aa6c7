/*
 * http_changes.c — what a json or influx payload covers, so that every
 * change to the two long lists (user-days, daily counter totals) reaches
 * the endpoint once, however long the state's history is.
 *
 * The instance keeps one mark (the host's mark_put, durable), HTTP_MARK:
 * "<state_id>:<seq>", the snapshot whose payload it last put in the
 * spool. The next payload lists the rows changed after that seq. When
 * the mark is the snapshot before (the usual case) those rows are the
 * snapshot's own arrays; when snapshots were skipped (a newer one
 * replaced an undelivered older one, or the agent restarted) they are
 * read from the host's history. No mark, a mark of another state, or a
 * mark ahead of the snapshot: every listed row. The payload goes into
 * the spool together with its new mark in one transaction
 * (spool_push_marked), so after any crash the spool holds the payload
 * if and only if the mark says so.
 *
 * A payload that never reaches the endpoint takes its rows with it: one
 * refused for good, or pushed out of a full spool. Then the mark becomes
 * HTTP_MARK_RESYNC, which is no snapshot's, and the next payload lists
 * every row again. The check for a full spool is made before the push
 * and is cautious: only this instance's own export adds to its spool,
 * and the delivery thread only takes away, so a push that was predicted
 * to fit cannot overflow.
 *
 * A payload's meta says what it covers, "<format> <state_id>:<after>:<seq>"
 * (rows with after < their seq <= seq), and goes out as the X-Tally-*
 * headers. A payload spooled by an older tallyd has the format alone.
 */
#include "http.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "<digits>" to *out, the whole text and nothing else. 0 or -1. */
static int parse_seq(const char *text, int64_t *out)
{
    if (text[0] < '0' || text[0] > '9')
        return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = (int64_t)v;
    return 0;
}

/* The seq the mark names for state_id, or -1 for a mark of another state
 * (or none that parses: HTTP_MARK_RESYNC). */
static int64_t mark_seq(const char *mark, const char *state_id)
{
    const char *colon = strrchr(mark, ':');
    int64_t seq = -1;
    if (colon == NULL || state_id[0] == '\0' || (size_t)(colon - mark) != strlen(state_id) ||
        strncmp(mark, state_id, strlen(state_id)) != 0 || parse_seq(colon + 1, &seq) != 0)
        return -1;
    return seq;
}

int http_changes_since(http_ctx *c, const tally_snapshot *s, int64_t *changed_after)
{
    *changed_after = 0;
    if (c->history_all)
        return 0;
    char *mark = NULL;
    int rc = c->api->mark_get(c->host, HTTP_MARK, &mark);
    if (rc == TALLY_HOST_ENOENT) {
        c->api->log(c->host, TALLY_LOG_INFO,
                    "no payload spooled before: the payload of seq %" PRId64
                    " lists every listed user-day and daily counter total",
                    s->seq);
        return 0;
    }
    if (rc != TALLY_HOST_OK) {
        c->api->log(c->host, TALLY_LOG_ERR,
                    "cannot read mark '" HTTP_MARK "' (see above): nothing was spooled for seq "
                    "%" PRId64 "; the next cycle's payload covers its changes",
                    s->seq);
        return TALLY_HOST_ERR;
    }
    int64_t seq = mark_seq(mark, s->state_id);
    if (seq >= 0 && seq <= s->seq) {
        *changed_after = seq;
        if (seq != s->changed_after)
            c->api->log(c->host, TALLY_LOG_INFO,
                        "the last payload spooled was of seq %" PRId64 "; the payload of seq "
                        "%" PRId64 " lists what changed since, read from the state's history",
                        seq, s->seq);
    } else if (strcmp(mark, HTTP_MARK_RESYNC) == 0) {
        c->api->log(c->host, TALLY_LOG_INFO,
                    "a payload before was lost (see above): the payload of seq %" PRId64
                    " lists every listed user-day and daily counter total again",
                    s->seq);
    } else {
        c->api->log(c->host, TALLY_LOG_INFO,
                    "mark '" HTTP_MARK "' = \"%s\" is not of this state (%s) up to seq %" PRId64
                    ": the payload lists every listed user-day and daily counter total",
                    mark, s->state_id, s->seq);
    }
    free(mark);
    return 0;
}

void http_changes_mark(const tally_snapshot *s, char *out, size_t cap)
{
    snprintf(out, cap, "%s:%" PRId64, s->state_id, s->seq);
}

int http_changes_resync(http_ctx *c, const char *why)
{
    if (c->api->mark_put(c->host, HTTP_MARK, HTTP_MARK_RESYNC) != TALLY_HOST_OK) {
        c->api->log(c->host, TALLY_LOG_ERR,
                    "%s, and mark '" HTTP_MARK "' cannot be reset (see above): check the state "
                    "database",
                    why);
        return TALLY_HOST_ERR;
    }
    c->api->log(c->host, TALLY_LOG_WARNING,
                "%s: the next payload lists every listed user-day and daily counter total "
                "again, so that no change is missing at %s",
                why, c->url_shown);
    return 0;
}

void http_meta_write(tally_format f, const tally_snapshot *s, int64_t changed_after, char *out,
                     size_t cap)
{
    snprintf(out, cap, "%s %s:%" PRId64 ":%" PRId64, tally_format_name(f), s->state_id,
             changed_after, s->seq);
}

int http_meta_read(const char *meta, tally_format *f, http_cover *cov)
{
    memset(cov, 0, sizeof(*cov));
    char name[16];
    const char *space = strchr(meta, ' ');
    size_t n = space ? (size_t)(space - meta) : strlen(meta);
    if (n >= sizeof(name))
        return -1;
    memcpy(name, meta, n);
    name[n] = '\0';
    if (tally_format_from_name(name, f) != 0)
        return -1;
    if (space == NULL)
        return 0;
    /* "<state_id>:<after>:<seq>" */
    const char *first = strchr(space + 1, ':');
    const char *second = first ? strchr(first + 1, ':') : NULL;
    char after[24];
    if (second == NULL || (size_t)(first - space - 1) >= sizeof(cov->state_id) ||
        (size_t)(second - first - 1) >= sizeof(after))
        return -1;
    memcpy(cov->state_id, space + 1, (size_t)(first - space - 1));
    memcpy(after, first + 1, (size_t)(second - first - 1));
    after[second - first - 1] = '\0';
    if (parse_seq(after, &cov->changed_after) != 0 || parse_seq(second + 1, &cov->seq) != 0)
        return -1;
    cov->lists_history = 1;
    return 0;
}
