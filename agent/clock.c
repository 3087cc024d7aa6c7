/*
 * clock.c — the business clock of tallyd: which IANA zone the business
 * days are counted in, what "now" is (--now replays), where each business
 * day starts and ends in UTC, and the ISO 8601 instants of the records.
 *
 * Day boundaries are found from localtime_r alone, never from mktime: for a
 * local midnight that is skipped or repeated, mktime guesses, and a guess
 * moves rows between days. The rule (DESIGN.md) is that day D starts at the
 * first UTC second whose local date is D or later, and ends where D+1
 * starts. See day_start for how that second is found exactly.
 */
#include "clock.h"

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

struct civil {
    int year, month, day;
};

static char zone_name[ZONE_NAME_MAX + 1];

static int now_fixed;
static int64_t now_base;
static struct timespec now_mono_base;

/* ---- Calendar arithmetic ----------------------------------------------
 * Proleptic Gregorian days since 1970-01-01 and back (Howard Hinnant's
 * algorithms). Exact for any year, independent of TZ and of the C
 * library's range checks, and with no (time_t)-1 that could be an error or
 * 1969-12-31T23:59:59. */

static int64_t days_from_civil(struct civil c)
{
    int64_t y = (int64_t)c.year - (c.month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (c.month + (c.month > 2 ? -3 : 9)) + 2) / 5 + c.day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static struct civil civil_from_days(int64_t z)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    struct civil c;
    c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.year = (int)(yoe + era * 400 + (c.month <= 2));
    return c;
}

static int days_in_month(int year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return days[month - 1] + (month == 2 && leap);
}

static int civil_valid(struct civil c)
{
    return c.month >= 1 && c.month <= 12 && c.day >= 1 && c.day <= days_in_month(c.year, c.month);
}

static struct civil civil_next(struct civil c)
{
    return civil_from_days(days_from_civil(c) + 1);
}

/* ---- Strict parsing, locale independent ------------------------------ */

/* Exactly n ASCII digits at s. 0 or -1. */
static int parse_digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

/* "YYYY-MM-DD" at s, a real calendar date. 0 or -1. */
static int parse_date(const char *s, struct civil *out)
{
    struct civil c;
    if (parse_digits(s, 4, &c.year) || s[4] != '-' || parse_digits(s + 5, 2, &c.month) ||
        s[7] != '-' || parse_digits(s + 8, 2, &c.day) || !civil_valid(c))
        return -1;
    *out = c;
    return 0;
}

/* "HH:MM:SS" at s, 00:00:00..23:59:59 (no leap second 60: the zones we
 * accept do not count them). 0 or -1. */
static int parse_time(const char *s, int64_t *seconds)
{
    int h, m, sec;
    if (parse_digits(s, 2, &h) || s[2] != ':' || parse_digits(s + 3, 2, &m) || s[5] != ':' ||
        parse_digits(s + 6, 2, &sec) || h > 23 || m > 59 || sec > 59)
        return -1;
    *seconds = h * 3600 + m * 60 + sec;
    return 0;
}

/* An optional ".f" with 1..9 digits at *p; advances *p. 0 or -1. */
static int parse_fraction(const char **p, int32_t *nanos)
{
    const char *s = *p;
    int32_t v = 0;
    int n = 0;
    *nanos = 0;
    if (*s != '.')
        return 0;
    s++;
    while (s[n] >= '0' && s[n] <= '9') {
        if (n == 9)
            return -1;
        v = v * 10 + (s[n] - '0');
        n++;
    }
    if (n == 0)
        return -1;
    for (int i = n; i < 9; i++)
        v *= 10;
    *nanos = v;
    *p = s + n;
    return 0;
}

/* The zone designator that must end the text: Z, or ±hh:mm, ±hhmm, ±hh
 * (PostgreSQL prints "+08"), up to ±23:59. *offset in seconds east. */
static int parse_zone_designator(const char *s, int64_t *offset)
{
    int h, m = 0;
    if ((s[0] == 'Z' || s[0] == 'z') && s[1] == '\0') {
        *offset = 0;
        return 0;
    }
    if ((s[0] != '+' && s[0] != '-') || parse_digits(s + 1, 2, &h))
        return -1;
    const char *rest = s + 3;
    if (*rest == ':')
        rest++;
    if (*rest != '\0') {
        if (parse_digits(rest, 2, &m) || rest[2] != '\0')
            return -1;
    } else if (rest != s + 3) {
        return -1; /* "+08:" */
    }
    if (h > 23 || m > 59)
        return -1;
    *offset = (s[0] == '-' ? -1 : 1) * (int64_t)(h * 3600 + m * 60);
    return 0;
}

int clock_parse_iso8601(const char *text, int64_t *utc, int32_t *nanos)
{
    struct civil date;
    int64_t tod, offset;
    int32_t frac;
    if (!text || parse_date(text, &date))
        return -1;
    /* RFC 3339 allows a lower-case t; SQL tools print a space. */
    if (text[10] != 'T' && text[10] != 't' && text[10] != ' ')
        return -1;
    if (parse_time(text + 11, &tod))
        return -1;
    const char *p = text + 19;
    if (parse_fraction(&p, &frac) || parse_zone_designator(p, &offset))
        return -1;
    *utc = days_from_civil(date) * SECONDS_PER_DAY + tod - offset;
    *nanos = frac;
    return 0;
}

void clock_format_utc(int64_t utc, char *buf)
{
    /* The buffer holds 4-digit years only; nothing real is outside them, so
     * clamp rather than print a longer string. */
    const int64_t first = days_from_civil((struct civil){0, 1, 1}) * SECONDS_PER_DAY;
    const int64_t last = days_from_civil((struct civil){10000, 1, 1}) * SECONDS_PER_DAY - 1;
    if (utc < first)
        utc = first;
    if (utc > last)
        utc = last;
    /* Floor division, so that instants before 1970 print their own day. */
    int64_t days = utc / SECONDS_PER_DAY, tod = utc % SECONDS_PER_DAY;
    if (tod < 0) {
        tod += SECONDS_PER_DAY;
        days--;
    }
    struct civil c = civil_from_days(days);
    snprintf(buf, 21, "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year, c.month, c.day, (int)(tod / 3600),
             (int)(tod / 60 % 60), (int)(tod % 60));
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

void clock_set_now(int64_t utc)
{
    clock_gettime(CLOCK_MONOTONIC, &now_mono_base);
    now_base = utc;
    now_fixed = 1;
}

int64_t clock_now(void)
{
    struct timespec ts;
    if (!now_fixed) {
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec;
    }
    /* Monotonic, so a replay keeps its pace when the wall clock is set. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = ((int64_t)ts.tv_sec - now_mono_base.tv_sec) * 1000000000 +
                 ((int64_t)ts.tv_nsec - now_mono_base.tv_nsec);
    return now_base + ns / 1000000000;
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
 * days_from_civil(D) * 86400 compares local dates, without tm_gmtoff. */
static int local_seconds(int64_t utc, int64_t *out, struct civil *date)
{
    struct tm tm;
    if (clock_local_time(utc, &tm))
        return -1;
    struct civil c = {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
    *out = days_from_civil(c) * SECONDS_PER_DAY + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
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
static int day_start(struct civil date, int64_t *out)
{
    int64_t midnight = days_from_civil(date) * SECONDS_PER_DAY;
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

static int day_fill(struct civil date, int64_t start, int64_t end, tally_day *out)
{
    snprintf(out->date, sizeof out->date, "%04d-%02d-%02d", date.year, date.month, date.day);
    out->start_utc = start;
    out->end_utc = end;
    return 0;
}

int clock_day_of(int64_t utc, tally_day *out)
{
    int64_t local, start, end;
    struct civil date;
    if (local_seconds(utc, &local, &date) || date.year < YEAR_MIN || date.year > YEAR_MAX)
        return -1;
    if (day_start(date, &start) || start > utc)
        return -1;
    /* Usually one step. Where the local date went back across midnight,
     * utc can lie past the start of the next date: it belongs to that day,
     * so that days never overlap. A skipped date is stepped over too. */
    for (int step = 0; step < 3; step++) {
        struct civil next = civil_next(date);
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
    struct civil c;
    int64_t start, end;
    if (!date || parse_date(date, &c) || date[10] != '\0' || c.year < YEAR_MIN || c.year > YEAR_MAX)
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
