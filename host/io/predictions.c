#include "io/predictions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"
#include "util/outfile.h"

void reel_csv_write_field(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

void reel_csv_write_prob_header(FILE *fp, const char *label)
{
    /* the whole field "p_<label>" is quoted when it needs to be (RFC 4180), never a part of it */
    size_t n = strlen(label);
    char *h = malloc(n + 3);
    if (!h)
        return;
    memcpy(h, "p_", 2);
    memcpy(h + 2, label, n + 1);
    reel_csv_write_field(fp, h);
    free(h);
}

static void write_set(FILE *fp, char *const *labels, const uint8_t *row, size_t L)
{
    int first = 1;
    fputc('"', fp);
    for (size_t k = 0; k < L; k++) {
        if (!row[k])
            continue;
        if (!first)
            fputc('|', fp);
        for (const char *s = labels[k]; *s; s++) {
            if (*s == '"')
                fputc('"', fp);
            fputc(*s, fp);
        }
        first = 0;
    }
    fputc('"', fp);
}

void reel_predictions_csv(FILE *fp, const reel_dataset *ds, const size_t *rows, size_t n, const uint8_t *Y,
                          const uint8_t *pred, const float *P)
{
    size_t L = ds->L;
    reel_csv_write_field(fp, ds->id_col >= 0 ? ds->table.cols[ds->id_col].name : "line");
    fputs(Y ? ",true,predicted" : ",predicted", fp);
    for (size_t k = 0; k < L; k++) {
        fputc(',', fp);
        reel_csv_write_prob_header(fp, ds->labels[k]);
    }
    fputc('\n', fp);
    char buf[64];
    for (size_t i = 0; i < n; i++) {
        size_t row = rows ? rows[i] : i;
        if (ds->id_col >= 0)
            reel_csv_write_field(fp, reel_table_cell(&ds->table, (size_t)ds->id_col, row, buf, sizeof buf));
        else
            fprintf(fp, "%zu", ds->table.line[row]);
        if (Y) {
            fputc(',', fp);
            write_set(fp, ds->labels, Y + i * L, L);
        }
        fputc(',', fp);
        write_set(fp, ds->labels, pred + i * L, L);
        for (size_t k = 0; k < L; k++)
            fprintf(fp, ",%.6g", (double)P[i * L + k]);
        fputc('\n', fp);
    }
}

int reel_write_predictions(const char *path, const reel_dataset *ds, const size_t *rows, size_t n,
                           const uint8_t *Y, const uint8_t *pred, const float *P, reel_error *err)
{
    reel_outfile f;
    if (reel_outfile_open(&f, path, err))
        return -1;
    reel_predictions_csv(f.fp, ds, rows, n, Y, pred, P);
    return reel_outfile_commit(&f, err);
}
