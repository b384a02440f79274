/* The block reader (pieces of the file parsed on several threads,
 * data/csv_chunk.c) against the one-record reader it replaced
 * (REEL_READ_SERIAL): the same table, bit for bit, or the same error, on
 * tricky files cut into blocks of every small size, on 1 to 3 threads, and
 * on seeded random files built from CSV's awkward pieces. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/table.h"
#include "helpers.h"

/* Every field a reader sets, compared; where differs names the first difference. */
static int same_table(const reel_table *a, const reel_table *b, char *where, size_t n)
{
#define DIFF(...) return snprintf(where, n, __VA_ARGS__), 0
    if (a->nrows != b->nrows || a->ncols != b->ncols)
        DIFF("shape %zu x %zu against %zu x %zu", a->nrows, a->ncols, b->nrows, b->ncols);
    if (a->utf8_line != b->utf8_line)
        DIFF("utf8_line %zu against %zu", a->utf8_line, b->utf8_line);
    for (size_t i = 0; i < a->nrows; i++)
        if (a->line[i] != b->line[i])
            DIFF("row %zu: line %zu against %zu", i, a->line[i], b->line[i]);
    for (size_t j = 0; j < a->ncols; j++) {
        const reel_column *x = &a->cols[j], *y = &b->cols[j];
        if (strcmp(x->name, y->name) || x->type != y->type || x->n_missing != y->n_missing ||
            x->n_numbers != y->n_numbers || x->n_texts != y->n_texts || x->first_text_line != y->first_text_line ||
            x->mixed_as_missing != y->mixed_as_missing || x->mixed_as_text != y->mixed_as_text ||
            x->bad_number_line != y->bad_number_line || (!x->first_text) != (!y->first_text) ||
            (x->first_text && strcmp(x->first_text, y->first_text)))
            DIFF("column %zu ('%s'): its type or counts", j, x->name);
        for (size_t i = 0; i < a->nrows; i++) {
            if (x->type == REEL_COL_NUMERIC) {
                if (memcmp(&x->num[i], &y->num[i], sizeof(double)) && !(isnan(x->num[i]) && isnan(y->num[i])))
                    DIFF("column %zu row %zu: %.17g against %.17g", j, i, x->num[i], y->num[i]);
            } else if (x->code[i] != y->code[i] ||
                       (x->code[i] >= 0 && strcmp(x->dict.strs[x->code[i]], y->dict.strs[y->code[i]]))) {
                DIFF("column %zu row %zu: text", j, i);
            }
        }
        if (x->type == REEL_COL_TEXT && x->dict.n != y->dict.n)
            DIFF("column %zu: %zu distinct against %zu", j, x->dict.n, y->dict.n);
    }
    return 1;
#undef DIFF
}

/* Reads path serially and in blocks of every given size on 1 to 3 threads:
 * the same table or the same message each time. */
static void agree(const char *name, const char *path, int flags)
{
    reel_table ref;
    reel_error ref_err = {{0}};
    reel_read_opts o = {REEL_MIXED_MISSING, NULL, flags | REEL_READ_SERIAL, 0, 0};
    int ref_rc = reel_table_read(&ref, path, &o, &ref_err);
    static const size_t blocks[] = {1, 2, 3, 5, 8, 13, 64, 0};
    for (int threads = 1; threads <= 3; threads++)
        for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++) {
            omp_set_num_threads(threads);
            reel_table t;
            reel_error err = {{0}};
            reel_read_opts ob = {REEL_MIXED_MISSING, NULL, flags, 0, blocks[b]};
            int rc = reel_table_read(&t, path, &ob, &err);
            cr_assert_eq(rc, ref_rc, "%s (blocks of %zu, %d threads): rc %d against %d: '%s' / '%s'", name,
                         blocks[b], threads, rc, ref_rc, err.msg, ref_err.msg);
            if (rc) {
                cr_assert_str_eq(err.msg, ref_err.msg, "%s (blocks of %zu, %d threads)", name, blocks[b], threads);
                continue;
            }
            char where[256];
            cr_assert(same_table(&t, &ref, where, sizeof where), "%s (blocks of %zu, %d threads): %s", name,
                      blocks[b], threads, where);
            reel_table_free(&t);
        }
    omp_set_num_threads(1);
    if (!ref_rc)
        reel_table_free(&ref);
}

Test(csv_blocks, tricky_files_read_the_same)
{
    static const struct {
        const char *name, *text;
        int flags;
    } cases[] = {
        {"quotes.csv", "t,y,x\n\"A, \"\"q\"\" t\",1999,1.5\n\"multi\nline\nthree\",2001,\nplain,NA,-2e3\n", 0},
        {"crlf.csv", "\xEF\xBB\xBFt,y\r\n\"a\r\nb\",1\r\n\r\nc,2\r\n", 0},
        {"cr.csv", "a,b\r1,2\r\r3,4\r", 0},
        {"blank.csv", "\n\na,b\n\n1,2\n\n\n3,4", 0},
        {"na.csv", "a,b,c\nna,N/A,NaN\nnull,NULL, na \n,\t,\"\"\n5,6,7\n", 0},
        {"numbers.csv", "a,b,c,d\n1e308,1e-320,123456789012345678,0.1\n-0,+5, 7 ,1e22\n"
                        "0.30000000000000004,4.9e-324,2.2250738585072014e-308,1e23\n", 0},
        {"faults.csv", "a,b,c\n1,1e999,1e-400\n2,inf,3\n3,4,0x1F\n", 0},
        {"long.csv", "a,b\n1234567890.12345678901234567890123456789012345678901234567890123456789,x\n"
                     "1,\"a long quoted cell with \"\"quotes\"\" and, commas, past sixty-four bytes of text\"\n", 0},
        {"mixed.csv", "a,b,c\n1,x,1\n2,2,2\n3,3,$5\n4,4,4\n5,5,5\n6,6,6\n7,7,7\n8,8,8\n9,9,9\n10,10,10\n"
                      "11,11,11\n12,12,12\n13,13,13\n14,14,14\n15,15,15\n16,16,16\n17,17,17\n18,18,18\n19,19,19\n"
                      "20,20,20\n21,21,21\n", 0},
        {"utf8.csv", "name,x\n\xC3\xA9t\xC3\xA9,1\n\"na\xC3\xAFve, \xE2\x82\xAC\",2\n", 0},
        {"latin1.csv", "name,x\n\xE9t\xE9,1\n\"na\xEFve, \"\"\xA4\"\"\",2\nplain,3\n", REEL_READ_LATIN1},
        {"latin1_utf8.csv", "name,x\nplain,1\n\xC3\xA9t\xC3\xA9,2\n", REEL_READ_LATIN1},
        {"trailing.csv", "a,b,\n1,2,\n3,4,", 0},
        {"strayquote.csv", "a,b\n5'10\",x\"y\n1,2\n", 0},
        {"semi.csv", "a;b;c\n1;\"x;y\";2,5\n", 0},
        {"tabs.csv", "a\tb\n\"1\t2\"\t3\n", 0},
        /* errors: the same message, line and column */
        {"unterminated.csv", "a,b\n1,2\n3,\"open\nstill\n", 0},
        {"afterquote.csv", "a,b\n1,2\n\"x\"y,3\n", 0},
        {"nul.csv", "a,b\n1,2\n3,x\0y\n", 0},
        {"badutf8.csv", "a,b\n1,2\n3,\xE9t\xE9\n", 0},
        {"badutf8_then_fields.csv", "a,b\n1,2\n\xFF,2,3\n", 0},
        {"fields.csv", "a,b\n1,2\n\"3\n\",4,5\n", 0},
        {"fields_fewer.csv", "a,b,c\n1,2,3\n4,5\n", 0},
        {"header_only.csv", "a,b\n", 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        size_t n = strlen(cases[k].text);
        if (strcmp(cases[k].name, "nul.csv") == 0)
            n = 14; /* the text holds a NUL */
        const char *path = tmp_path(cases[k].name);
        FILE *fp = fopen(path, "wb");
        cr_assert(fp);
        fwrite(cases[k].text, 1, n, fp);
        fclose(fp);
        agree(cases[k].name, path, cases[k].flags);
    }
}

/* Seeded random files of CSV's awkward pieces, well formed or not. */
Test(csv_blocks, random_files_read_the_same)
{
    static const char *bits[] = {"1", "2.5", "-3e2", "x", "NA", "", ",", ",", ",", "\n", "\r\n", "\r", "\"",
                                 "\"\"", "\"a,b\"", "\"l1\nl2\"", "\xC3\xA9", "\xE9", " ", "1e999", "0x1",
                                 "\"q\"\"q\"", ";"};
    unsigned long long s = 12345;
    char text[600], path_name[32];
    for (int file = 0; file < 150; file++) {
        int cols = 1 + file % 4;
        size_t len = 0;
        for (int j = 0; j < cols; j++)
            len += (size_t)snprintf(text + len, sizeof text - len, "%sc%d", j ? "," : "", j);
        text[len++] = '\n';
        int pieces = 10 + file % 60;
        for (int q = 0; q < pieces && len < sizeof text - 16; q++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            const char *b = bits[(s >> 33) % (sizeof bits / sizeof *bits)];
            size_t bl = strlen(b);
            memcpy(text + len, b, bl);
            len += bl;
        }
        text[len] = '\0';
        snprintf(path_name, sizeof path_name, "rand%d.csv", file);
        const char *path = tmp_write(path_name, text);
        agree(path_name, path, file % 5 == 4 ? REEL_READ_LATIN1 : 0);
    }
}

/* The fast path of numbers against strtod: wherever it answers, the same
 * double bit for bit (seeded random decimals of every shape it may meet). */
Test(csv_blocks, fast_numbers_are_strtod_numbers)
{
    unsigned long long s = 777;
    char text[64];
    size_t answered = 0;
    for (int k = 0; k < 200000; k++) {
        size_t n = 0;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        unsigned r = (unsigned)(s >> 33);
        if (r % 5 == 0)
            text[n++] = r % 2 ? '-' : '+';
        int ints = (int)(r >> 3) % 21, fracs = (int)(r >> 8) % 21;
        for (int i = 0; i < ints; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            text[n++] = (char)('0' + (s >> 33) % (i == 0 && (r >> 13) % 3 == 0 ? 1 : 10));
        }
        if ((r >> 15) % 3)
            text[n++] = '.';
        for (int i = 0; i < fracs; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            text[n++] = (char)('0' + (s >> 33) % 10);
        }
        if ((r >> 17) % 3 == 0)
            n += (size_t)snprintf(text + n, sizeof text - n, "e%d", (int)((r >> 19) % 61) - 30);
        text[n] = '\0';
        double fast, slow = strtod(text, NULL);
        if (reel_cell_fast_number(text, n, &fast)) {
            answered++;
            cr_assert(memcmp(&fast, &slow, sizeof fast) == 0, "'%s': %.17g, strtod %.17g", text, fast, slow);
        }
    }
    cr_expect_gt(answered, 50000, "the fast path answered %zu of 200000", answered);
}
