/*
 * plugin_test.c — see plugin_test.h.
 */
#include "plugin_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void plugin_check_fails(const tally_plugin *p, const char *title, const char *text, int line,
                        const char *needle)
{
    cfg_t *sec = mock_host_section_at(p, title, text, line);
    if (sec == NULL)
        fail_msg("parse: %s", mock_host_parse_error());
    tally_host *h = mock_host_new();
    assert_int_equal(mock_host_check(p, h, sec), TALLY_HOST_ERR);
    char shape[256];
    snprintf(shape, sizeof(shape), "[buf]:%d: in %s \"%s\": ", line, p->name, title);
    const char *msg = mock_host_log_find(h, needle);
    if (msg == NULL || strstr(msg, shape) == NULL) {
        for (size_t i = 0; i < mock_host_log_count(h); i++)
            fprintf(stderr, "log: %s\n", mock_host_log_text(h, i));
        fail_msg("no message with \"%s\" in the shape \"%s...\" for: %s", needle, shape, text);
    }
    mock_host_free(h);
    mock_host_section_free(sec);
}

void plugin_test_vstart(mock_host_instance *in, const tally_plugin *p, const char *title,
                        const char *state_dir, const char *fmt, va_list ap)
{
    char *b = NULL;
    assert_true(vasprintf(&b, fmt, ap) >= 0);
    tally_host *h = mock_host_new();
    mock_host_set_state_dir(h, state_dir);
    if (mock_host_start(in, p, h, title, b) != 0)
        fail_msg("%s", mock_host_parse_error());
    free(b);
}

int64_t ns_of(const char *iso)
{
    struct tm tm = {0};
    int y, mo, d, H, M, S;
    assert_int_equal(sscanf(iso, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &H, &M, &S), 6);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = H;
    tm.tm_min = M;
    tm.tm_sec = S;
    return (int64_t)timegm(&tm) * 1000000000;
}
