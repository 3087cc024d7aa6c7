/*
 * clock.c — the business clock of tallyd: which IANA zone the business
 * days are counted in, what "now" is (--now replays), where each business
 * day starts and ends in UTC, and the ISO 8601 instants of the records.
 *
 * Day boundaries are found from localtime_r alone, never from mktime: for a
 * local midnight that is skipped or repeated, mktime guesses, and a guess
 * moves rows between days. The rule (DESIGN.md) is that day D starts at the
 * first UTC second whose local date is D or later, and ends where D+1
 * starts. See day_start for how that second is found exactly. The
 * calendar and the ISO 8601 text are lib/civil's.
 */
#include "clock.h"

#include "civil/civil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ZONEINFO_DIR "/usr/share/zoneinfo/"
#define ZONE_NAME_MAX 255
#define SECONDS_PER_DAY INT64_C(86400)

/* Every UTC offset in the tz database since 1900 is within ±15 h (the
 * extremes are +14 and -12; the local mean times of the 1800s reach 15:56),
 * so the first second of date D lies within 16 h of D 00:00 read as UTC. */
#define DAY_SEARCH_WINDOW (16 * INT64_C(3600))

/* Business days are computed for these local years; day_start may look at
 * 10000-01-01 to end 9999-12-31. */
#define YEAR_MIN 1900
#define YEAR_MAX 9999

static char zone_name[ZONE_NAME_MAX + 1];

static int now_fixed;
static int64_t now_base;
static int64_t now_mono_base;
static int32_t now_base_nsec;

static civil_date civil_next(civil_date c)
{
    return civil_date_from_days(civil_days_from_date(c) + 1);
}

int clock_parse_iso8601(const char *text, int64_t *utc, int32_t *nanos)
{
    bool zoned;
    if (text == NULL)
        return -1;
    return civil_parse_iso8601(text, strlen(text), CIVIL_ISO_RFC3339, utc, nanos, &zoned);
}

void clock_format_utc(int64_t utc, char *buf)
{
    /* The buffer holds 4-digit years only; nothing real is outside them, so
     * clamp rather than fail. */
    const int64_t first = civil_days_from_date((civil_date){0, 1, 1}) * SECONDS_PER_DAY;
    const int64_t last = civil_days_from_date((civil_date){10000, 1, 1}) * SECONDS_PER_DAY - 1;
    civil_format_utc(utc < first ? first : utc > last ? last : utc, buf);
}

/* ---- The zone ---------------------------------------------------------- */

/* Names that are files under zoneinfo but not zones to count days in:
 * "localtime" follows /etc/localtime (the machine's zone, whatever it is),
 * "posixrules" is the template for POSIX TZ strings, and the right/ tree
 * counts leap seconds, so its days would not be 86400 time_t seconds. */
static int zone_name_reserved(const char *name)
{
    return strcmp(name, "localtime") == 0 || strcmp(name, "posixrules") == 0 ||
           strncmp(name, "right/", 6) == 0;
}

/* Only the characters of IANA names, and no empty path component, so the
 * name cannot leave the zoneinfo tree or name a directory. */
static int zone_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > ZONE_NAME_MAX || name[0] == '/' || name[len - 1] == '/' ||
        strstr(name, "..") || strstr(name, "//"))
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '/' || c == '_' || c == '+' || c == '-';
        if (!ok)
            return 0;
    }
    return !zone_name_reserved(name);
}

/* The file must be a TZif file: glibc reads an unknown TZ as UTC without a
 * word, so this check is what turns a typo in the config into an error. */
static int zone_file_is_tzif(const char *path)
{
    /* O_NONBLOCK: a FIFO planted in the tree must not hang the agent. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return 0;
    struct stat st;
    char magic[4];
    int ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
             read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
             memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return ok;
}

int clock_zone_exists(const char *name)
{
    char path[sizeof ZONEINFO_DIR + ZONE_NAME_MAX];
    if (!name || !zone_name_valid(name))
        return -1;
    snprintf(path, sizeof path, "%s%s", ZONEINFO_DIR, name);
    return zone_file_is_tzif(path) ? 0 : -1;
}

int clock_set_zone(const char *name)
{
    if (clock_zone_exists(name))
        return -1;
    if (setenv("TZ", name, 1))
        return -1;
    /* localtime_r need not re-read TZ (glibc does not), so tell it now. */
    tzset();
    snprintf(zone_name, sizeof zone_name, "%s", name);
    return 0;
}

const char *clock_zone(void)
{
    return zone_name;
}

/* ---- Now --------------------------------------------------------------- */

void clock_set_now(int64_t utc, int32_t nsec)
{
    now_mono_base = civil_mono_ns();
    now_base = utc;
    now_base_nsec = nsec;
    now_fixed = 1;
}

int64_t clock_now(void)
{
    if (!now_fixed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec;
    }
    /* Monotonic, so a replay keeps its pace when the wall clock is set. */
    int64_t ns = civil_mono_ns() - now_mono_base;
    return now_base + ns / 1000000000;
}

int64_t clock_now_frac(int32_t *nsec)
{
    *nsec = now_fixed ? now_base_nsec : 0;
    return clock_now();
}

/* ---- Business days ----------------------------------------------------- */

int clock_local_time(int64_t utc, struct tm *out)
{
    time_t t = (time_t)utc;
    if ((int64_t)t != utc || !localtime_r(&t, out))
        return -1;
    return 0;
}

/* The local wall time at utc counted as seconds since 1970-01-01 00:00 of
 * the local calendar, and the local date. Comparing local seconds with
 * civil_days_from_date(D) * 86400 compares local dates, without tm_gmtoff. */
static int local_seconds(int64_t utc, int64_t *out, civil_date *date)
{
    struct tm tm;
    if (clock_local_time(utc, &tm))
        return -1;
    civil_date c = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
    *out =
        civil_days_from_date(c) * SECONDS_PER_DAY + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
    if (date)
        *date = c;
    return 0;
}

static int offset_at(int64_t utc, int64_t *offset)
{
    int64_t local;
    if (local_seconds(utc, &local, NULL))
        return -1;
    *offset = local - utc;
    return 0;
}

/* The first second in (from, hi] whose UTC offset is not `offset` (the
 * offset at from), or hi + 1 if the offset at hi is still `offset`. A
 * bisection: exact because no zone changes its offset twice within the
 * 32 h window (the closest pair of transitions in tzdata 1900..2100 is
 * 40 h apart), so the offset cannot leave and come back unseen. */
static int next_offset_change(int64_t from, int64_t offset, int64_t hi, int64_t *out)
{
    int64_t off, lo = from;
    if (offset_at(hi, &off))
        return -1;
    if (off == offset) {
        *out = hi + 1;
        return 0;
    }
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (offset_at(mid, &off))
            return -1;
        if (off == offset)
            lo = mid;
        else
            hi = mid;
    }
    *out = hi;
    return 0;
}

/*
 * The first UTC second whose local date is `date` or later.
 *
 * Local date is NOT always non-decreasing in UTC: St. John's (1987-2010),
 * Moncton, Goose Bay and Casey fell back across midnight (00:01 NDT became
 * 23:01 NST of the day before), so a plain bisection on "local date >= D"
 * may land on the second midnight. Instead the window around D 00:00 is cut
 * into spans of constant offset; within a span local time runs at the rate
 * of UTC, so the first second with local time >= D 00:00 is
 * max(span start, D 00:00 - offset) if that is still inside the span. The
 * first span that has one gives the answer. A skipped midnight (Havana)
 * gives the transition instant; a repeated one gives the earlier copy; a
 * date that never happened (Kiritimati's 1994-12-31) gives the start of the
 * next date, an empty day.
 */
static int day_start(civil_date date, int64_t *out)
{
    int64_t midnight = civil_days_from_date(date) * SECONDS_PER_DAY;
    int64_t from = midnight - DAY_SEARCH_WINDOW, hi = midnight + DAY_SEARCH_WINDOW;
    while (from <= hi) {
        int64_t offset, next;
        if (offset_at(from, &offset) || next_offset_change(from, offset, hi, &next))
            return -1;
        int64_t first = midnight - offset;
        if (first < from)
            first = from;
        if (first < next) {
            *out = first;
            return 0;
        }
        from = next;
    }
    return -1; /* an offset beyond the window: not a zone of this planet */
}

static int day_fill(civil_date date, int64_t start, int64_t end, tally_day *out)
{
    snprintf(out->date, sizeof out->date, "%04d-%02d-%02d", date.year, date.month, date.day);
    out->start_utc = start;
    out->end_utc = end;
    return 0;
}

int clock_day_of(int64_t utc, tally_day *out)
{
    int64_t local, start, end;
    civil_date date;
    if (local_seconds(utc, &local, &date) || date.year < YEAR_MIN || date.year > YEAR_MAX)
        return -1;
    if (day_start(date, &start) || start > utc)
        return -1;
    /* Usually one step. Where the local date went back across midnight,
     * utc can lie past the start of the next date: it belongs to that day,
     * so that days never overlap. A skipped date is stepped over too. */
    for (int step = 0; step < 3; step++) {
        civil_date next = civil_next(date);
        if (day_start(next, &end))
            return -1;
        if (utc < end)
            return day_fill(date, start, end, out);
        if (next.year > YEAR_MAX)
            return -1;
        date = next;
        start = end;
    }
    return -1;
}

int clock_day_by_date(const char *date, tally_day *out)
{
    civil_date c;
    int64_t start, end;
    if (!date || civil_parse_date(date, strlen(date), &c) || c.year < YEAR_MIN || c.year > YEAR_MAX)
        return -1;
    if (day_start(c, &start) || day_start(civil_next(c), &end))
        return -1;
    return day_fill(c, start, end, out);
}

/* Spans of constant offset around the wall time, as in day_start: the
 * first span that holds local - offset is the first occurrence. When
 * none does, the wall time fell into a gap: the offset before the gap
 * moves it forward by the gap's length, as mktime does. */
int clock_local_to_utc(int64_t local, int64_t *utc)
{
    int64_t from = local - DAY_SEARCH_WINDOW, hi = local + DAY_SEARCH_WINDOW;
    int64_t before = 0;
    int have_before = 0;
    while (from <= hi) {
        int64_t offset, next;
        if (offset_at(from, &offset) || next_offset_change(from, offset, hi, &next))
            return -1;
        int64_t t = local - offset;
        if (t >= from && t < next) {
            *utc = t;
            return 0;
        }
        if (t < from && have_before) {
            *utc = local - before;
            return 0;
        }
        before = offset;
        have_before = 1;
        from = next;
    }
    return -1;
}
