/*
 * numbers.c — doubles and instants as text, identical in every format.
 *
 * printf and strtod follow LC_NUMERIC, so "0.5" would come out as "0,5"
 * under de_DE. These functions rely on running in the C locale, which
 * tally_format_render sets for the calling thread (format.c); they never
 * call setlocale, which would change the locale of the whole process.
 */
#include "format_priv.h"

#include "civil/civil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void tf_double(double v, char out[TF_NUM_LEN])
{
    if (isnan(v)) {
        snprintf(out, TF_NUM_LEN, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, TF_NUM_LEN, "%s", v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) { /* -0 too: a cost of "-0" only confuses people */
        snprintf(out, TF_NUM_LEN, "0");
        return;
    }
    /* %g switches to an exponent once the exponent reaches the precision,
     * so 1e15 would print as "1e+15"; whole numbers people count (tokens
     * summed as doubles, large costs) read better in full. Below 1e17 "%.0f"
     * is at most 18 characters and exact. */
    if (fabs(v) < 1e17 && v == trunc(v)) {
        snprintf(out, TF_NUM_LEN, "%.0f", v);
        return;
    }
    /* The shortest of 15, 16 and 17 significant digits that reads back as
     * v: "0.1" rather than "0.10000000000000001"; 17 always does. */
    for (int prec = 15; prec < 17; prec++) {
        snprintf(out, TF_NUM_LEN, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return;
    }
    snprintf(out, TF_NUM_LEN, "%.17g", v);
}

int tf_instant(int64_t utc, char out[TF_INSTANT_LEN])
{
    _Static_assert(TF_INSTANT_LEN >= CIVIL_UTC_LEN, "an instant fits");
    return civil_format_utc(utc, out);
}

int tf_instant_frac(int64_t utc, int32_t nsec, char out[TF_INSTANT_LEN])
{
    _Static_assert(TF_INSTANT_LEN >= CIVIL_UTC_FRAC_LEN, "an instant with its fraction fits");
    return civil_format_utc_frac(utc, nsec, out);
}
