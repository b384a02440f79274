/* End to end, issue 28: inputs that used to crash reel or give a silently
 * wrong answer are refused (one line, the right exit code) or reported. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

/* 120 rows, two numeric features, two labels. */
static const char *write_data(const char *name)
{
    static char csv[16384];
    strcpy(csv, "name,a,b,A,B\n");
    unsigned s = 5;
    for (int i = 0; i < 120; i++) {
        s = s * 1103515245u + 12345u;
        int a = (int)(s >> 16) % 100;
        s = s * 1103515245u + 12345u;
        int b = (int)(s >> 16) % 100;
        sprintf(csv + strlen(csv), "f%d,%d,%d,%d,%d\n", i, a, b, a > 50, b > 40 || a <= 50);
    }
    return tmp_write(name, csv);
}

/* Expects exit `code` and `want` in stderr's one line. */
static void expect_one_line(int rc, char *err, int code, const char *want, const char *what)
{
    cr_expect_eq(rc, code, "%s: exit %d, expected %d: %s", what, rc, code, err ? err : "");
    cr_expect(err && strstr(err, want), "%s: stderr lacks '%s': %s", what, want, err ? err : "(none)");
    int lines = 0;
    for (char *c = err; c && *c; c++)
        lines += *c == '\n';
    cr_expect_eq(lines, 1, "%s: one line expected: %s", what, err ? err : "");
}

Test(threads, out_of_range_is_a_usage_error_naming_the_range)
{
    const char *csv = write_data("threads.csv");
    static const char *const counts[] = {"0", "-3", "4097", "100000"};
    for (size_t q = 0; q < sizeof counts / sizeof *counts; q++) {
        char *out = NULL, *err = NULL;
        int rc = run_reelf(&out, &err, "train --model ridge --data %s --labels A,B --quiet --threads %s", csv,
                           counts[q]);
        expect_one_line(rc, err, 2, "--threads must be 1 to 4096", counts[q]);
        free(out);
        free(err);
    }
    char *err = NULL;
    cr_expect_eq(run_reelf(NULL, &err, "train --model ridge --data %s --labels A,B --quiet --threads 4096", csv), 0,
                 "the bound itself is allowed: %s", err);
    free(err);
}
