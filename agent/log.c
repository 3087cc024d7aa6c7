/*
 * log.c — see log.h. One mutex keeps lines from different threads whole.
 */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

static int current_level = TALLY_LOG_INFO;
static int to_syslog;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
    const char *name;
    int level;
} levels[] = {
    {"error", TALLY_LOG_ERR},
    {"warning", TALLY_LOG_WARNING},
    {"info", TALLY_LOG_INFO},
    {"debug", TALLY_LOG_DEBUG},
};

int log_parse_level(const char *name, int *level)
{
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcmp(name, levels[i].name) == 0) {
            *level = levels[i].level;
            return 0;
        }
    return -1;
}

int log_set_target(const char *target)
{
    if (strcmp(target, "stderr") == 0) {
        to_syslog = 0;
        return 0;
    }
    if (strcmp(target, "syslog") == 0) {
        openlog("tallyd", LOG_PID, LOG_DAEMON);
        to_syslog = 1;
        return 0;
    }
    return -1;
}

void log_set_level(int level)
{
    current_level = level;
}

int log_level(void)
{
    return current_level;
}

static const char *level_name(int level)
{
    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
        if (levels[i].level == level)
            return levels[i].name;
    return "log";
}

void log_vmsg(int level, const char *who, const char *fmt, va_list ap)
{
    if (level > current_level)
        return;
    char text[2048];
    vsnprintf(text, sizeof(text), fmt, ap);
    pthread_mutex_lock(&lock);
    if (to_syslog) {
        if (who != NULL)
            syslog(level, "%s: %s", who, text);
        else
            syslog(level, "%s", text);
    } else {
        char stamp[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(stderr, "%s tallyd %s: %s%s%s\n", stamp, level_name(level), who ? who : "",
                who ? ": " : "", text);
    }
    pthread_mutex_unlock(&lock);
}

void log_msg(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(level, NULL, fmt, ap);
    va_end(ap);
}
