/* civil_mono.c — the monotonic clock (civil.h). */
#include "civil/civil.h"

#include <time.h>

int64_t civil_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
