/*
 * http_test.c — see http_test.h.
 */
#include "http_test.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TALLY_PLUGIN_BUILD_DIR
#error "build with -DTALLY_PLUGIN_BUILD_DIR=<the build tree's plugin dir>"
#endif
#ifndef TALLY_TEST_SOURCE_DIR
#error "build with -DTALLY_TEST_SOURCE_DIR=<tests/>"
#endif

const tally_plugin *http_plugin;
static void *plugin_dl;
static char scratch[256];

void receiver_start(receiver *r, const char *name, const char *plan)
{
    char ready[PATH_MAX];
    snprintf(r->log, sizeof(r->log), "%s/%s.jsonl", scratch, name);
    snprintf(ready, sizeof(ready), "%s/%s.ready", scratch, name);
    unlink(ready);
    r->pid = fork();
    assert_true(r->pid >= 0);
    if (r->pid == 0) {
        /* A test that fails midway never stops it: it goes with us. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execlp("python3", "python3", TALLY_TEST_SOURCE_DIR "/http_receiver.py", "--log", r->log,
               "--ready", ready, "--plan", plan, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 300; i++) {
        FILE *f = fopen(ready, "r");
        if (f != NULL) {
            int ok = fscanf(f, "%d", &r->port) == 1;
            fclose(f);
            if (ok)
                return;
        }
        usleep(20000);
    }
    fail_msg("the test receiver did not start within 6 s (python3 missing?)");
}

void receiver_stop(receiver *r)
{
    kill(r->pid, SIGTERM);
    waitpid(r->pid, NULL, 0);
}

int receiver_dead_port(void)
{
    receiver r;
    receiver_start(&r, "probe", "");
    receiver_stop(&r);
    return r.port;
}

json_t *receiver_log(const receiver *r)
{
    json_t *all = json_array();
    FILE *f = fopen(r->log, "r");
    char line[1 << 16];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        json_array_append_new(all, json_loads(line, 0, NULL));
    if (f != NULL)
        fclose(f);
    return all;
}

const char *rec_str(json_t *all, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(all, i), key));
}

const char *rec_header(json_t *all, size_t i, const char *name)
{
    return json_string_value(
        json_object_get(json_object_get(json_array_get(all, i), "headers"), name));
}

void inst_open(mock_host_instance *in, tally_host *h, const char *body)
{
    if (mock_host_start(in, http_plugin, h, "push", body) != 0)
        fail_msg("%s", mock_host_parse_error());
}

void wait_delivered(tally_host *h)
{
    for (int i = 0; i < 1500 && mock_host_spool_items(h) > 0; i++)
        usleep(10000);
    assert_int_equal(mock_host_spool_items(h), 0);
}

static int remove_all(const char *dir)
{
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

int http_test_setup(void **state)
{
    http_plugin = mock_host_load(TALLY_PLUGIN_BUILD_DIR, "http", &plugin_dl);
    if (http_plugin == NULL || strcmp(http_plugin->name, "http") != 0 ||
        http_plugin->kind != TALLY_PLUGIN_EXPORTER)
        return -1;
    snprintf(scratch, sizeof(scratch), "/tmp/tally-http-test-XXXXXX");
    return mkdtemp(scratch) != NULL ? 0 : -1;
}

int http_test_teardown(void **state)
{
    if (scratch[0] != '\0')
        remove_all(scratch);
    mock_host_unload(plugin_dl);
    return 0;
}
