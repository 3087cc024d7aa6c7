/*
 * http_test.h — what the http exporter's cmocka tests share: http.so
 * loaded by the mock host, a scratch directory, and the test receiver
 * (tests/http_receiver.py) started on 127.0.0.1, stopped by its pid, and
 * read back: one JSON object per request it got.
 */
#ifndef TALLY_TESTS_HTTP_TEST_H
#define TALLY_TESTS_HTTP_TEST_H

#include <jansson.h>
#include <limits.h>
#include <sys/types.h>

#include "mock_host.h"

/* The plugin, loaded by http_test_setup. */
extern const tally_plugin *http_plugin;

/* cmocka group setup and teardown: load http.so, make and remove the
 * scratch directory. */
int http_test_setup(void **state);
int http_test_teardown(void **state);

typedef struct receiver {
    pid_t pid;
    int port;
    char log[PATH_MAX];
} receiver;

/* Start the receiver answering by plan (see http_receiver.py), recording
 * to <scratch>/<name>.jsonl; wait (bounded) until it listens. */
void receiver_start(receiver *r, const char *name, const char *plan);
void receiver_stop(receiver *r);
/* A port nobody listens on (a receiver started and stopped). */
int receiver_dead_port(void);
/* Every request recorded, oldest first (json_decref it). */
json_t *receiver_log(const receiver *r);
const char *rec_str(json_t *all, size_t i, const char *key);
const char *rec_header(json_t *all, size_t i, const char *name);

/* Start http as "push" on h from body; fails the test if it does not. */
void inst_open(mock_host_instance *in, tally_host *h, const char *body);
/* Wait (bounded) until h's spool is empty; fails the test if it is not. */
void wait_delivered(tally_host *h);

#endif
