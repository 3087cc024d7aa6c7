/*
 * fuzz_replay.h — what every fuzz harness here shares besides its target:
 * built without libFuzzer, the same harness writes its seed corpus
 * (--write-seeds DIR, for scripts/test.sh), replays the files it is given
 * (a crash input libFuzzer saved), or, with no arguments, runs its own
 * deterministic mutations as a ctest in every build.
 */
#ifndef TALLY_TESTS_FUZZ_REPLAY_H
#define TALLY_TESTS_FUZZ_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The harness's target, as libFuzzer calls it. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* main for the replay build: write_seeds returns an exit code; mutations
 * returns how many inputs it ran, printed as "fuzz replay: N <what>". */
int fuzz_replay_main(int argc, char **argv, int (*write_seeds)(const char *dir),
                     long (*mutations)(void), const char *what);

/* Is p[0..n) UTF-8 (RFC 3629: the shortest form, no surrogates, at most
 * U+10FFFF)? A plain reference decoder, for harnesses to check against. */
bool fuzz_utf8(const unsigned char *p, size_t n);

/* Inputs here start with two control bytes (how the harness reads the
 * rest). Seed i is written as controls[i % n_controls], then seeds[i]:
 * 0, or 2 when a file cannot be written. */
int fuzz_write_seeds(const char *dir, const char *const *seeds, size_t n_seeds,
                     const uint8_t (*controls)[2], size_t n_controls);

/* The replay's deterministic stream: every seed behind each control, then
 * 800 mutations of each (bytes of `special` dropped in or put in place,
 * bits flipped, the input cut short, a stretch repeated; new control
 * bytes), all through LLVMFuzzerTestOneInput. Returns how many ran. */
long fuzz_run_mutations(const char *const *seeds, size_t n_seeds, const uint8_t (*controls)[2],
                        size_t n_controls, const uint8_t *special, size_t n_special);

#endif
