/*
 * notify.c — see notify.h. Only the main thread calls these: the pings
 * prove that the loop of cycles runs, which an export thread could not.
 */
#include "notify.h"

#include "civil/civil.h"
#include "log.h"

#include <inttypes.h>
#include <stdint.h>
#include <systemd/sd-daemon.h>

/* 0: no watchdog. */
static double ping_every;
static double last_ping;
static int ready, stopping;

void notify_init(void)
{
    uint64_t usec = 0;
    /* > 0 only with WATCHDOG_USEC set and WATCHDOG_PID unset or ours. */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        ping_every = (double)usec / 2e6;
        log_msg(TALLY_LOG_DEBUG, "systemd watchdog: %.3f s; pinging every %.3f s",
                (double)usec / 1e6, ping_every);
    }
    last_ping = civil_mono_seconds();
}

void notify_cycle(const char *status)
{
    if (!ready && !stopping) {
        ready = 1;
        sd_notifyf(0, "READY=1\nSTATUS=%s", status);
    } else {
        /* TERM's last cycle: the status still says the agent is going. */
        sd_notifyf(0, "STATUS=%s%s", stopping ? "stopping; " : "", status);
    }
    notify_watchdog();
}

/* MONOTONIC_USEC lets systemd (253+, Type=notify-reload) tell this
 * reload from an earlier one; older versions ignore it. */
void notify_reloading(void)
{
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%" PRId64 "\nSTATUS=reloading the config",
               civil_mono_ns() / 1000);
}

void notify_reloaded(const char *status)
{
    if (!stopping)
        sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void notify_stopping(void)
{
    if (stopping)
        return;
    stopping = 1;
    sd_notify(0, "STOPPING=1\nSTATUS=stopping: a last cycle and export");
}

double notify_watchdog_due(void)
{
    return ping_every > 0 ? last_ping + ping_every : 1e300;
}

void notify_watchdog(void)
{
    if (ping_every <= 0)
        return;
    double now = civil_mono_seconds();
    if (now < last_ping + ping_every)
        return;
    last_ping = now;
    sd_notify(0, "WATCHDOG=1");
}
