#include "nn/train_history.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"
#include "util/outfile.h"

static void history_add(reel_nn_history_csv *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void history_add(reel_nn_history_csv *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return;
    if (h->len + (size_t)need + 1 > h->cap) {
        size_t cap = (h->len + (size_t)need + 1) * 2;
        char *t = realloc(h->text, cap);
        if (!t)
            return;
        h->text = t;
        h->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(h->text + h->len, h->cap - h->len, fmt, ap);
    va_end(ap);
    h->len += (size_t)need;
}

int reel_nn_history_csv_begin(reel_nn_history_csv *h, const char *out_dir, const char *name, reel_error *err)
{
    history_add(h, "epoch,train_loss,val_loss,val_samples_f1,val_samples_precision,val_samples_recall,"
                   "val_hamming_accuracy,seconds\n");
    if (out_dir) {
        if (reel_mkdir_p(out_dir, err))
            return -1;
        char file[512];
        snprintf(file, sizeof file, "history_%s.csv", name);
        h->path = reel_path_join(out_dir, file);
    }
    return 0;
}

void reel_nn_history_csv_epoch(reel_nn_history_csv *h, long epoch, double train_loss, double val_loss,
                               const reel_metrics *vm, double secs)
{
    history_add(h, "%ld,%.9g", epoch, train_loss);
    if (vm)
        history_add(h, ",%.9g,%.9g,%.9g,%.9g,%.9g", val_loss, vm->samples_f1, vm->samples_precision,
                    vm->samples_recall, vm->hamming_accuracy);
    else /* without validation those columns stay empty */
        history_add(h, ",,,,,");
    history_add(h, ",%.3f\n", secs);
}

int reel_nn_history_csv_write(const reel_nn_history_csv *h, reel_error *err)
{
    if (h->path && h->text)
        return reel_write_file_atomic(h->path, h->text, err);
    return 0;
}

void reel_nn_history_csv_adopt(reel_nn_history_csv *h, char *csv)
{
    free(h->text);
    h->text = csv;
    h->len = strlen(csv);
    h->cap = h->len + 1;
}

char *reel_nn_history_csv_take(reel_nn_history_csv *h)
{
    char *t = h->text;
    h->text = NULL;
    h->len = h->cap = 0;
    return t;
}

void reel_nn_history_csv_free(reel_nn_history_csv *h)
{
    free(h->text);
    free(h->path);
    memset(h, 0, sizeof *h);
}
