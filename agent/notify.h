/*
 * notify.h — telling systemd how tallyd is doing, for Type=notify: READY
 * after the first cycle (the config loaded, the state open, the plugins
 * started and one cycle through), the last cycle's summary as STATUS,
 * RELOADING and READY again around a HUP, STOPPING on TERM, and the
 * watchdog's pings when the unit sets WatchdogSec. Outside systemd
 * (NOTIFY_SOCKET unset) every call does nothing.
 */
#ifndef TALLY_AGENT_NOTIFY_H
#define TALLY_AGENT_NOTIFY_H

/* Reads the watchdog's period (WATCHDOG_USEC, for this pid only). */
void notify_init(void);

/* A cycle ended; status says how (cycle_report_status). The first call
 * also says READY. */
void notify_cycle(const char *status);

/* A HUP: RELOADING now, then READY with status once the reload is done
 * (kept or refused: the agent runs either way). */
void notify_reloading(void);
void notify_reloaded(const char *status);

/* TERM: said once, however often it is called. */
void notify_stopping(void);

/* When the next watchdog ping is due, on civil_mono_seconds()'s clock
 * (half the watchdog's period after the last one); a far future without
 * a watchdog. The loop wakes for it whatever the interval. */
double notify_watchdog_due(void);

/* Pings the watchdog if a ping is due: cheap, called from the main loop
 * and between a cycle's steps. */
void notify_watchdog(void);

#endif
