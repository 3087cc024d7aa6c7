/*
 * plugin_test.h — what the cmocka tests of plugins share, whichever plugin
 * they drive through the mock host: an instance started from a formatted
 * section body, a config the plugin's checks refuse, in the one config
 * error shape, and instants written as ISO 8601.
 * Compiled into every tally_plugin_test (tests/CMakeLists.txt).
 */
#ifndef TALLY_TESTS_PLUGIN_TEST_H
#define TALLY_TESTS_PLUGIN_TEST_H

#include <stdarg.h>
#include <stdint.h>

#include "mock_host.h"

/* The checks of plugin p (every option row's, then its own) refuse the
 * section body text, titled title and starting on line `line`, with a
 * message that has needle and is in the host's shape,
 * "[buf]:<line>: in <plugin> "<title>": ...". Fails the test otherwise,
 * printing what was logged. */
void plugin_check_fails(const tally_plugin *p, const char *title, const char *text, int line,
                        const char *needle);

/* Start p as `title` on a new host whose state_dir is state_dir, from a
 * section body made by vasprintf(fmt, ap); fails the test if it does not
 * start. */
void plugin_test_vstart(mock_host_instance *in, const tally_plugin *p, const char *title,
                        const char *state_dir, const char *fmt, va_list ap);

/* "2026-11-21T10:00:00" (UTC) as nanoseconds. */
int64_t ns_of(const char *iso);

#endif
