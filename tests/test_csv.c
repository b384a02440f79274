/* The CSV reader and table typing: RFC 4180 cases and every bad input. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "data/csv.h"
#include "data/table.h"
#include "helpers.h"

static reel_table read_ok(const char *name, const char *text)
{
    reel_table t;
    reel_error err = {{0}};
    const char *path = tmp_write(name, text);
    cr_assert_eq(reel_table_read_csv(&t, path, &err), 0, "unexpected error: %s", err.msg);
    return t;
}

static void read_bad(const char *name, const char *text, const char *expect)
{
    reel_table t;
    reel_error err = {{0}};
    const char *path = tmp_write(name, text);
    cr_assert_neq(reel_table_read_csv(&t, path, &err), 0, "%s: should fail", name);
    cr_expect(strstr(err.msg, expect) != NULL, "%s: message '%s' lacks '%s'", name, err.msg, expect);
    cr_expect(strstr(err.msg, path) != NULL, "%s: message '%s' does not name the file", name, err.msg);
    cr_expect(strchr(err.msg, '\n') == NULL, "%s: message is not one line", name);
}

Test(csv, quoted_fields_crlf_bom)
{
    reel_table t = read_ok("q.csv", "\xEF\xBB\xBFtitle,year,x\r\n"
                                    "\"A, \"\"quoted\"\" title\",1999,1.5\r\n"
                                    "\"multi\nline\",2001,\r\n"
                                    "plain,NA,-2e3\r\n");
    cr_assert_eq(t.ncols, 3);
    cr_assert_eq(t.nrows, 3);
    cr_expect_str_eq(t.cols[0].name, "title");
    cr_expect_eq(t.cols[0].type, REEL_COL_TEXT);
    cr_expect_str_eq(t.cols[0].dict.strs[t.cols[0].code[0]], "A, \"quoted\" title");
    cr_expect_str_eq(t.cols[0].dict.strs[t.cols[0].code[1]], "multi\nline");
    cr_expect_eq(t.cols[1].type, REEL_COL_NUMERIC);
    cr_expect(isnan(t.cols[1].num[2]));
    cr_expect_float_eq(t.cols[2].num[0], 1.5, 1e-12);
    cr_expect(isnan(t.cols[2].num[1]));
    cr_expect_float_eq(t.cols[2].num[2], -2000.0, 1e-12);
    cr_expect_eq(t.line[2], 5, "row 3 starts on line 5 (the quoted newline counts)");
    reel_table_free(&t);
}

Test(csv, missing_tokens_any_case)
{
    reel_table t = read_ok("m.csv", "a,b\n1,na\nN/A,NaN\nnull,NULL\n,2\n");
    cr_expect_eq(t.cols[0].type, REEL_COL_NUMERIC);
    cr_expect_eq(t.cols[0].n_missing, 3);
    cr_expect_eq(t.cols[1].n_missing, 3);
    cr_expect_float_eq(t.cols[1].num[3], 2.0, 1e-12);
    reel_table_free(&t);
}

Test(csv, lf_without_final_newline_and_blank_lines)
{
    reel_table t = read_ok("lf.csv", "a,b\n\n1,2\n\n3,4");
    cr_expect_eq(t.nrows, 2);
    cr_expect_float_eq(t.cols[1].num[1], 4.0, 1e-12);
    reel_table_free(&t);
}

Test(csv, column_turns_text_keeps_earlier_numbers)
{
    reel_table t = read_ok("mix.csv", "a\n1\n2.5\nPG\n\n");
    cr_expect_eq(t.cols[0].type, REEL_COL_TEXT);
    cr_expect_str_eq(t.cols[0].dict.strs[t.cols[0].code[1]], "2.5");
    cr_expect_str_eq(t.cols[0].dict.strs[t.cols[0].code[2]], "PG");
    reel_table_free(&t);
}

Test(csv, inf_in_text_column_is_just_text)
{
    reel_table t = read_ok("inftext.csv", "a\ninf\nhello\n");
    cr_expect_eq(t.cols[0].type, REEL_COL_TEXT);
    reel_table_free(&t);
}

Test(csv, bad_inputs)
{
    reel_table t;
    reel_error err = {{0}};
    cr_expect_neq(reel_table_read_csv(&t, "/nonexistent/x.csv", &err), 0);
    cr_expect(strstr(err.msg, "cannot open") != NULL, "%s", err.msg);
    read_bad("empty.csv", "", "empty file");
    read_bad("header_only.csv", "a,b,c\n", "no data rows");
    read_bad("ragged.csv", "a,b\n1,2\n3\n", ":3: row has 1 fields, the header has 2");
    read_bad("unterminated.csv", "a,b\n1,\"open\n2,3\n", "unterminated quoted field");
    read_bad("after_quote.csv", "a,b\n\"x\"y,1\n", "after a closing quote");
    read_bad("inf.csv", "a,b\n1,2\ninf,3\n", ":3: column 1 ('a'): 'inf' is not a finite number");
    read_bad("overflow.csv", "a,b\n1,2\n1e999,3\n", "'1e999' is not a finite number");
    read_bad("dup.csv", "a,b,a\n1,2,3\n", "duplicate column name 'a' (columns 1 and 3)");
}

Test(csv, streaming_reader_counts_fields)
{
    reel_error err;
    reel_csv *c = reel_csv_open(tmp_write("s.csv", "x,\"y\",\n"), &err);
    cr_assert_not_null(c);
    cr_assert_eq(reel_csv_next(c, &err), 1);
    cr_expect_eq(reel_csv_nfields(c), 3);
    cr_expect_str_eq(reel_csv_field(c, 1), "y");
    cr_expect_eq(reel_csv_field_len(c, 2), 0);
    cr_expect_eq(reel_csv_next(c, &err), 0);
    reel_csv_close(c);
}

/* The separator of the header line (issue 34): "; tab |" files used to read as one column. */
Test(csv, separator_found_from_the_header)
{
    static const struct {
        const char *name, *text;
        char sep;
    } cases[] = {
        {"semi.csv", "title;year;x\n\"A; B, C\";1999;1,5\nplain;2001;2\n", ';'},
        {"tab.csv", "title\tyear\tx\nA, B\t1999\t1.5\nplain\t2001\t2\n", '\t'},
        {"pipe.csv", "title|year|x\n\"A|B\"|1999|1.5\nplain|2001|2\n", '|'},
        {"comma.csv", "\"a;b;c\",year,x\nA;B,1999,1.5\nplain,2001,2\n", ','}, /* ';' only inside quotes */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        reel_table t = read_ok(cases[k].name, cases[k].text);
        cr_expect_eq(t.sep, cases[k].sep, "%s: separator 0x%02x", cases[k].name, t.sep);
        cr_expect(t.sep_found);
        cr_assert_eq(t.ncols, 3, "%s: %zu columns", cases[k].name, t.ncols);
        cr_expect_eq(t.nrows, 2);
        cr_expect_str_eq(t.cols[1].name, "year");
        cr_expect_float_eq(t.cols[1].num[1], 2001.0, 1e-12);
        reel_table_free(&t);
    }
}

Test(csv, separator_given_and_refused)
{
    const char *path = tmp_write("given.csv", "a;b,c\n1;2,3\n");
    reel_table t;
    reel_error err = {{0}};
    reel_read_opts o = {REEL_MIXED_MISSING, NULL, 0, ';', 0};
    cr_assert_eq(reel_table_read(&t, path, &o, &err), 0, "%s", err.msg);
    cr_expect_eq(t.ncols, 2);
    cr_expect_str_eq(t.cols[1].name, "b,c");
    cr_expect_not(t.sep_found);
    reel_table_free(&t);
    o.sep = ',';
    cr_assert_eq(reel_table_read(&t, path, &o, &err), 0, "%s", err.msg);
    cr_expect_str_eq(t.cols[0].name, "a;b");
    reel_table_free(&t);
    char sep = 0;
    cr_expect_eq(reel_sep_parse("tab", &sep, "--sep", &err), 0);
    cr_expect_eq(sep, '\t');
    cr_expect_eq(reel_sep_parse("|", &sep, "--sep", &err), 0);
    cr_expect_eq(sep, '|');
    static const char *bad[] = {"", ";;", "\"", "a", "7", ".", "-", "\n"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        cr_expect_neq(reel_sep_parse(bad[k], &sep, "--sep", &err), 0, "'%s' accepted", bad[k]);
        cr_expect(strstr(err.msg, "--sep") != NULL, "%s", err.msg);
    }
    /* a row that does not split as the header did says which separator was used */
    read_bad("sepmiss.csv", "a;b\n1;2\n3;4;5\n", "separated by ';'");
}
