/*
 * log.c — see log.h. One mutex keeps lines from different threads whole;
 * each line is put together first and written with one call, so a reader
 * of the stream (journald, a pipe) never sees half of one.
 */
#include "log.h"

#include "civil/civil.h"
#include "log_line.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static int current_level = TALLY_LOG_INFO;
static log_format current_format = LOG_FORMAT_TEXT;
static int to_syslog;
/* Whether stderr is the journal: -1 until the first line looks. */
static int to_journal = -1;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* A name in the config and the value it stands for. The TALLY_LOG_*
 * values are syslog's, and so sd-daemon's "<N>". */
typedef struct {
    const char *name;
    int value;
} named;

static const named levels[] = {
    {"error", TALLY_LOG_ERR},
    {"warning", TALLY_LOG_WARNING},
    {"info", TALLY_LOG_INFO},
    {"debug", TALLY_LOG_DEBUG},
    {NULL, 0},
};

static const named formats[] = {
    {"text", LOG_FORMAT_TEXT},
    {"logfmt", LOG_FORMAT_LOGFMT},
    {"json", LOG_FORMAT_JSON},
    {NULL, 0},
};

static const named *by_name(const named *t, const char *name)
{
    for (; t->name != NULL; t++)
        if (strcmp(name, t->name) == 0)
            return t;
    return NULL;
}

int log_parse_level(const char *name, int *level)
{
    const named *n = by_name(levels, name);
    if (n == NULL)
        return -1;
    *level = n->value;
    return 0;
}

int log_parse_format(const char *name, log_format *format)
{
    const named *n = by_name(formats, name);
    if (n == NULL)
        return -1;
    *format = (log_format)n->value;
    return 0;
}

/* systemd's way (systemd.exec(5)): JOURNAL_STREAM is "DEVICE:INODE" of
 * the stream it connected; stderr is the journal only if it is still that
 * stream (a child whose stderr was redirected inherits the variable). */
static int stderr_is_journal(void)
{
    const char *v = getenv("JOURNAL_STREAM");
    if (v == NULL || *v < '0' || *v > '9')
        return 0;
    char *end;
    errno = 0;
    unsigned long long dev = strtoull(v, &end, 10);
    if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
        return 0;
    unsigned long long ino = strtoull(end + 1, &end, 10);
    struct stat st;
    if (errno != 0 || *end != '\0' || fstat(STDERR_FILENO, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

int log_set_target(const char *target)
{
    int syslog_wanted;
    if (strcmp(target, "stderr") == 0)
        syslog_wanted = 0;
    else if (strcmp(target, "syslog") == 0)
        syslog_wanted = 1;
    else
        return -1;
    if (syslog_wanted)
        openlog("tallyd", LOG_PID, LOG_DAEMON);
    pthread_mutex_lock(&lock);
    to_syslog = syslog_wanted;
    to_journal = -1;
    pthread_mutex_unlock(&lock);
    return 0;
}

void log_set_level(int level)
{
    current_level = level;
}

void log_set_format(log_format format)
{
    pthread_mutex_lock(&lock); /* export threads read it while they log */
    current_format = format;
    pthread_mutex_unlock(&lock);
}

int log_level(void)
{
    return current_level;
}

static const char *level_name(int level)
{
    for (const named *n = levels; n->name != NULL; n++)
        if (n->value == level)
            return n->name;
    return "log";
}

/* Now in UTC: whole seconds for text (as always); for the formats that
 * machines read, always three digits of milliseconds, so that lines line
 * up and sort as text. */
static void stamp_now(char out[CIVIL_UTC_FRAC_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (civil_format_utc((int64_t)ts.tv_sec, out) != 0) {
        snprintf(out, CIVIL_UTC_FRAC_LEN, "?");
        return;
    }
    if (current_format != LOG_FORMAT_TEXT) /* "...:SSZ" -> "...:SS.mmmZ" */
        snprintf(out + CIVIL_UTC_LEN - 2, CIVIL_UTC_FRAC_LEN - (CIVIL_UTC_LEN - 2), ".%03dZ",
                 (int)(ts.tv_nsec / 1000000));
}

/* Under the lock: e to the sink, with the journal's priority prefix. */
static void emit(int level, log_entry *e)
{
    char stamp[CIVIL_UTC_FRAC_LEN];
    if (to_journal < 0)
        to_journal = stderr_is_journal();
    e->stamp = NULL;
    if (!to_syslog && !to_journal) {
        stamp_now(stamp);
        e->stamp = stamp;
    }
    char *line = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&line, &len);
    if (mem == NULL)
        return;
    if (!to_syslog && to_journal)
        fprintf(mem, "<%d>", level);
    int rc = log_line_write(mem, current_format, e);
    if (fclose(mem) != 0 || rc != 0) {
        free(line);
        return;
    }
    if (to_syslog) {
        syslog(level, "%s", line);
    } else {
        line[len] = '\n'; /* open_memstream keeps a NUL after len */
        fwrite(line, 1, len + 1, stderr);
    }
    free(line);
}

void log_vmsg(int level, const char *plugin, const char *instance, const char *fmt, va_list ap)
{
    if (level > current_level)
        return;
    char text[2048];
    vsnprintf(text, sizeof(text), fmt, ap);
    log_entry e = {level_name(level), plugin, instance, text, NULL};
    pthread_mutex_lock(&lock);
    emit(level, &e);
    pthread_mutex_unlock(&lock);
}

void log_msg(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, NULL, NULL, fmt, ap);
    va_end(ap);
}
