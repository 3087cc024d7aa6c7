/*
 * metricmap_priv.h — what the files of lib/metricmap share: a glob split
 * into its parts and a label template into its pieces, both pointing into
 * the text they came from. Not installed; only lib/metricmap includes it.
 */
#ifndef TALLY_LIB_METRICMAP_PRIV_H
#define TALLY_LIB_METRICMAP_PRIV_H

#include "metricmap.h"

/* A glob part or a template piece: literal text s[0..len), or (star >= 0)
 * the star-th '*' of the glob. */
typedef struct mm_piece {
    const char *s;
    size_t len;
    int star;
} mm_piece;

/* Most pieces a text of METRICMAP_MAX_TEXT bytes splits into. */
#define MM_MAX_PIECES METRICMAP_MAX_TEXT

/* glob into parts[0..*n) (at most MM_MAX_PIECES), *stars of them '*'. */
int mm_split_glob(const char *glob, mm_piece *parts, size_t *n, size_t *stars, char *why,
                  size_t cap);
/* "name=template" into its name (name[0..*name_len)) and the template's
 * pieces[0..*n): literal runs and $N (star N-1); "$$" is a literal '$'.
 * stars: the glob's, for the range of N. */
int mm_split_label(const char *label, size_t stars, size_t *name_len, mm_piece *pieces, size_t *n,
                   char *why, size_t cap);
/* 1 if the two templates can give one value (a '*' stands for one or
 * more bytes without '.'), else 0. */
int mm_templates_meet(const mm_piece *a, size_t na, const mm_piece *b, size_t nb);

#endif
