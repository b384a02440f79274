/* The memory guard of reel_prepare (REEL_MEMORY_BYTES as the budget): it
 * counts the table as read beside the feature matrices, and its advice
 * names the largest part: the rows when the table is, a wide one-hot's
 * column when that is what fills the matrices. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/prepared.h"
#include "helpers.h"

static int prepare_within(const char *csv, const char *budget, int top_k, reel_error *err)
{
    reel_prepared p;
    reel_prepare_opts o = {0};
    o.data.data = csv;
    o.data.labels = "A,B";
    o.split = (reel_split_opts){.seed = 1, .test_fraction = 0.2, .valid_fraction = 0.1};
    o.top_k = top_k;
    setenv("REEL_MEMORY_BYTES", budget, 1);
    int rc = reel_prepare(&p, &o, err);
    unsetenv("REEL_MEMORY_BYTES");
    if (rc == 0)
        reel_prepared_free(&p);
    return rc;
}

Test(memory_guard, many_rows_name_the_rows)
{
    /* 4,000 rows of 12 numbers and one dropped text column: the table as
     * read (8 bytes a number, plus the text) outweighs 9 float features */
    static char text[1 << 20];
    strcpy(text, "n0,n1,n2,n3,n4,n5,n6,n7,note,A,B\n");
    for (int i = 0; i < 4000; i++)
        sprintf(text + strlen(text), "%d,%d,%d,%d,%d,%d,%d,%d,note number %d of a long text,%d,%d\n", i, i % 7,
                i % 11, i % 13, i * 3, i % 5, i % 17, i % 19, i, i % 2, i % 3 == 0);
    const char *csv = tmp_write("rows.csv", text);
    reel_error err;
    cr_assert_neq(prepare_within(csv, "100000", 1, &err), 0, "a budget of 100 kB took 4,000 rows");
    cr_expect(strstr(err.msg, "the table of 2667 rows x 11 columns"), "%s", err.msg); /* labelled rows */
    cr_expect(strstr(err.msg, "fewer rows"), "%s", err.msg);
    cr_expect(!strstr(err.msg, "--top-categories"), "the rows are the cause, not a one-hot: %s", err.msg);
    cr_expect_eq(prepare_within(csv, "1e9", 1, &err), 0, "%s", err.msg);
}

Test(memory_guard, a_wide_one_hot_names_its_column)
{
    static char text[1 << 16];
    strcpy(text, "title,x,A,B\n");
    for (int i = 0; i < 400; i++)
        sprintf(text + strlen(text), "film %d,%d,%d,%d\n", i, i % 7, i % 2, i % 3 == 0);
    const char *csv = tmp_write("titles.csv", text);
    reel_error err;
    cr_assert_neq(prepare_within(csv, "300000", 1000, &err), 0, "400 one-hot titles fit in 300 kB");
    cr_expect(strstr(err.msg, "the feature matrices"), "%s", err.msg);
    cr_expect(strstr(err.msg, "column 'title' alone gives"), "%s", err.msg);
}
