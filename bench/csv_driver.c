/* bench/csv_read.py's driver: reads one CSV into a table as every command
 * does (reel_table_read_csv_typed) and times that alone, so the reader is
 * measured without the model, the split or the process start around it.
 *
 *   reel_bench_csv FILE
 *
 * Prints one JSON object: rows, columns, CPU seconds of the whole process
 * during the read (user+sys of every thread), wall seconds, and a hash of
 * everything read (each column's name, type, numbers' bits, text cells, and
 * each row's line), so two builds can be checked to read the same values. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "data/table.h"

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: reel_bench_csv FILE\n");
        return 2;
    }
    reel_table t;
    reel_error err;
    double cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID), wall0 = seconds(CLOCK_MONOTONIC);
    if (reel_table_read_csv_typed(&t, argv[1], REEL_MIXED_MISSING, NULL, 0, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0, wall = seconds(CLOCK_MONOTONIC) - wall0;
    uint64_t h = 14695981039346656037ull;
    h = fnv(h, t.line, t.nrows * sizeof *t.line);
    for (size_t j = 0; j < t.ncols; j++) {
        const reel_column *c = &t.cols[j];
        h = fnv(h, c->name, strlen(c->name) + 1);
        h = fnv(h, &c->type, sizeof c->type);
        h = fnv(h, &c->n_missing, sizeof c->n_missing);
        for (size_t i = 0; i < t.nrows; i++) {
            if (c->type == REEL_COL_NUMERIC) {
                double v = isnan(c->num[i]) ? NAN : c->num[i];
                h = fnv(h, &v, sizeof v);
            } else {
                const char *s = c->code[i] < 0 ? "\x01missing" : c->dict.strs[c->code[i]];
                h = fnv(h, s, strlen(s) + 1);
            }
        }
    }
    printf("{\"rows\": %zu, \"cols\": %zu, \"cpu_s\": %.4f, \"wall_s\": %.4f, \"hash\": \"%016" PRIx64 "\"}\n",
           t.nrows, t.ncols, cpu, wall, h);
    reel_table_free(&t);
    return 0;
}
