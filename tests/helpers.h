/* Shared by the test suites: temporary files and running the reel binary. */
#ifndef REEL_TEST_HELPERS_H
#define REEL_TEST_HELPERS_H

#include <stddef.h>

/* Writes text to a fresh file under a per-process temp dir; returns its
 * path (static storage in a ring of 256). */
const char *tmp_write(const char *name, const char *text);
/* A fresh per-process temp directory path joined with name (not created). */
const char *tmp_path(const char *name);

/* Runs `reel ARGS` through /bin/sh; captures stdout and stderr (malloc'ed,
 * may be NULL) and returns the exit code. */
int run_reel(const char *args, char **out, char **err);
/* A CSV of `rows` rows (name, two numeric features a and b, labels A and B
 * that follow them), drawn from `seed`; written as tmp_write does. */
const char *tmp_write_two_features(const char *name, int rows, unsigned seed);
/* run_reel with printf-style arguments. */
int run_reelf(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Where the tests find their files: from the environment when set (a copy of
 * the tests moved elsewhere, as scripts/gpu-bundle.sh makes), else the paths
 * built in. REEL_TEST_BINARY: the reel program; REEL_TEST_FIXTURES:
 * tests/fixtures; REEL_TEST_SOURCE_DIR: the checkout (data/, fuzz/, scripts/,
 * tests/scripts/). The last two return `rel` joined on (ring storage). */
const char *test_reel_binary(void);
const char *test_fixture(const char *rel);
const char *test_source_path(const char *rel);

int file_exists(const char *path);
/* Runs fn in a forked child (to set limits or ids there); its exit code,
 * or 98 when it died by a signal. */
int run_in_child(int (*fn)(void));
/* Number of entries in a directory (0 when missing). */
int dir_entries(const char *path);

/* The original box's hidden layers (box_original's), a JSON list: for tests
 * of the device path or of training itself rather than of the defaults,
 * which the default's 3 x 256 (issue 33) would only slow. */
#define TEST_RELU64 "{\"width\": 64, \"activation\": \"relu\"}"
#define TEST_BOX_8X64                                                                                        \
    "[" TEST_RELU64 ", " TEST_RELU64 ", " TEST_RELU64 ", " TEST_RELU64 ", " TEST_RELU64 ", " TEST_RELU64 ", " \
    TEST_RELU64 ", " TEST_RELU64 "]"

/* Skips the current Criterion test and says so on stderr; CTest reports the
 * suite as skipped (SKIP_REGULAR_EXPRESSION in tests/CMakeLists.txt). */
#define REEL_SKIP(...)                                                         \
    do {                                                                       \
        fprintf(stderr, "SKIPPED: " __VA_ARGS__);                              \
        fprintf(stderr, "\n");                                                 \
        cr_skip_test(__VA_ARGS__);                                             \
    } while (0)

#endif
