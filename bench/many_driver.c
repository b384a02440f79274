/* bench_many's driver (bench/bench_many.py): trains K nets on one backend
 * for their epochs and times it, so that one launch of K nets is measured
 * through the library's own entry (reel_nn_train_epochs), not through a
 * command line that does more around it.
 *
 *   reel_bench_many DATA NETS DEVICE MODE
 *
 * DATA: int64 n, d, L, then X (n x d float32) and Y (n x L float32, 0/1).
 * NETS: a JSON list, one object per net: "params" (an mlp's "layers",
 * "head", "width", as in the models' JSON files), "lr", "weight_decay", "batch_size",
 * "epochs", "seed", and "fold" of "folds" (folds > 1: the net trains on the
 * rows i with i % folds != fold and is scored on the others).
 * DEVICE: cpu, opencl[:N] or cuda[:N]. MODE: together (every epoch one
 * reel_nn_train_epochs call over all the nets still training: on a device
 * backend one launch) or alone (one call per net per epoch, net after net).
 *
 * Every net is given the same X and Y (one copy of the data on a device),
 * a fresh shuffle of its rows each epoch, and AdamW as the training loop
 * runs it. Prints one JSON object: wall seconds of the set-up, the epochs
 * (up to the last net's loss on the host) and the scoring, how many nets
 * shared a launch, and each net's last training loss and held-out loss. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/backend.h"
#include "nn/device.h"
#include "nn/multi.h"
#include "nn/spec.h"
#include "util/rng.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int die(const char *what, const char *msg)
{
    fprintf(stderr, "reel_bench_many: %s: %s\n", what, msg);
    return 1;
}

typedef struct {
    reel_nn_spec spec;
    reel_adamw opt;
    size_t batch, epochs, n_train, n_held, steps;
    uint32_t *train, *held, *order;
    reel_rng rng;
    void *b;
    double loss, held_loss;
} net;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) {
        s[n] = '\0';
        *len = (size_t)n;
    }
    return s;
}

static double num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[4], "together") && strcmp(argv[4], "alone")))
        return die("usage", "reel_bench_many DATA NETS cpu|opencl[:N]|cuda[:N] together|alone");
    int together = strcmp(argv[4], "together") == 0;
    size_t len = 0;
    char *raw = slurp(argv[1], &len);
    if (!raw || len < 24)
        return die(argv[1], "cannot read the data");
    int64_t hdr[3];
    memcpy(hdr, raw, sizeof hdr);
    size_t n = (size_t)hdr[0], d = (size_t)hdr[1], L = (size_t)hdr[2];
    if (len != 24 + 4 * n * (d + L))
        return die(argv[1], "size does not match its header");
    float *X = malloc(n * d * sizeof *X), *Y = malloc(n * L * sizeof *Y);
    memcpy(X, raw + 24, n * d * sizeof *X);
    memcpy(Y, raw + 24 + n * d * sizeof *X, n * L * sizeof *Y);
    free(raw);
    char *js = slurp(argv[2], &len);
    cJSON *list = js ? cJSON_Parse(js) : NULL;
    free(js);
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return die(argv[2], "not a JSON list of nets");
    size_t K = (size_t)cJSON_GetArraySize(list);
    reel_error err;
    char label[256];
    int device;
    const reel_nn_backend *be = reel_nn_device_open(argv[3], "bench", NULL, &device, label, sizeof label, &err);
    if (!be)
        return die(argv[3], err.msg);
    net *nets = calloc(K, sizeof *nets);
    size_t max_epochs = 0;
    double t0 = now();
    for (size_t k = 0; k < K; k++) {
        const cJSON *o = cJSON_GetArrayItem(list, (int)k);
        net *nt = &nets[k];
        if (reel_nn_spec_from_params(&nt->spec, cJSON_GetObjectItemCaseSensitive(o, "params"), d, L, &err))
            return die("params", err.msg);
        nt->opt = (reel_adamw){num(o, "lr", 3e-4), 0.9, 0.999, 1e-8, num(o, "weight_decay", 1e-3)};
        nt->batch = (size_t)num(o, "batch_size", 10);
        nt->epochs = (size_t)num(o, "epochs", 1);
        max_epochs = nt->epochs > max_epochs ? nt->epochs : max_epochs;
        size_t folds = (size_t)num(o, "folds", 1), fold = (size_t)num(o, "fold", 0);
        nt->train = malloc(n * sizeof *nt->train);
        nt->held = malloc(n * sizeof *nt->held);
        nt->order = malloc(n * sizeof *nt->order);
        for (size_t i = 0; i < n; i++) {
            if (folds > 1 && i % folds == fold)
                nt->held[nt->n_held++] = (uint32_t)i;
            else
                nt->train[nt->n_train++] = (uint32_t)i;
        }
        nt->steps = (nt->n_train + nt->batch - 1) / nt->batch;
        uint64_t seed = (uint64_t)num(o, "seed", (double)k);
        reel_rng_seed(&nt->rng, seed);
        float *p = malloc(nt->spec.n_params * sizeof *p);
        reel_nn_init_params(&nt->spec, seed, p);
        nt->b = be->create(&nt->spec, device, 1, &err);
        if (!nt->b || be->set_params(nt->b, p, &err) || be->set_data(nt->b, X, Y, n, &err))
            return die("set-up", err.msg);
        free(p);
    }
    double t1 = now();
    size_t shared_max = 0, launches = 0;
    reel_nn_epoch_job *jobs = malloc(K * sizeof *jobs);
    for (size_t e = 0; e < max_epochs; e++) {
        size_t m = 0;
        for (size_t k = 0; k < K; k++) {
            net *nt = &nets[k];
            if (e >= nt->epochs)
                continue;
            memcpy(nt->order, nt->train, nt->n_train * sizeof *nt->order);
            for (size_t i = nt->n_train; i > 1; i--) { /* Fisher-Yates, the net's own stream */
                size_t j = (size_t)reel_rng_below(&nt->rng, i);
                uint32_t t = nt->order[i - 1];
                nt->order[i - 1] = nt->order[j];
                nt->order[j] = t;
            }
            if (be->set_order(nt->b, nt->order, nt->n_train, &err))
                return die("set_order", err.msg);
            jobs[m++] = (reel_nn_epoch_job){nt->b, nt->n_train, nt->batch, &nt->opt, (long)(e * nt->steps), NULL, 0};
        }
        if (together) {
            size_t shared = 0;
            if (reel_nn_train_epochs(be, jobs, m, &shared, &err))
                return die("train_epochs", err.msg);
            shared_max = shared > shared_max ? shared : shared_max;
            launches++;
        } else {
            for (size_t j = 0; j < m; j++, launches++)
                if (reel_nn_train_epochs(be, &jobs[j], 1, NULL, &err))
                    return die("train_epochs", err.msg);
        }
        for (size_t k = 0; k < K; k++) /* the loop reads the loss each epoch: so do we */
            if (e < nets[k].epochs) {
                double s = 0;
                if (be->take_loss_sum(nets[k].b, &s, &err))
                    return die("take_loss_sum", err.msg);
                nets[k].loss = s / (double)nets[k].n_train;
            }
    }
    double t2 = now();
    float *Xh = malloc(n * d * sizeof *Xh), *Yh = malloc(n * L * sizeof *Yh);
    for (size_t k = 0; k < K; k++) {
        net *nt = &nets[k];
        nt->held_loss = NAN;
        if (!nt->n_held)
            continue;
        for (size_t i = 0; i < nt->n_held; i++) {
            memcpy(Xh + i * d, X + (size_t)nt->held[i] * d, d * sizeof *Xh);
            memcpy(Yh + i * L, Y + (size_t)nt->held[i] * L, L * sizeof *Yh);
        }
        if (be->eval_loss(nt->b, Xh, Yh, nt->n_held, &nt->held_loss, NULL, &err))
            return die("eval_loss", err.msg);
    }
    double t3 = now();
    printf("{\"device\": \"%s\", \"mode\": \"%s\", \"nets\": %zu, \"rows\": %zu, \"features\": %zu, \"labels\": %zu, "
           "\"max_epochs\": %zu, \"setup_seconds\": %.6f, \"train_seconds\": %.6f, \"score_seconds\": %.6f, "
           "\"calls\": %zu, \"shared_max\": %zu, \"train_loss\": [",
           label, argv[4], K, n, d, L, max_epochs, t1 - t0, t2 - t1, t3 - t2, launches, shared_max);
    for (size_t k = 0; k < K; k++)
        printf("%s%.9g", k ? ", " : "", nets[k].loss);
    printf("], \"held_loss\": [");
    for (size_t k = 0; k < K; k++)
        printf("%s%.9g", k ? ", " : "", isnan(nets[k].held_loss) ? -1.0 : nets[k].held_loss);
    printf("]}\n");
    for (size_t k = 0; k < K; k++) {
        be->destroy(nets[k].b);
        free(nets[k].train);
        free(nets[k].held);
        free(nets[k].order);
    }
    free(nets);
    free(jobs);
    free(X);
    free(Y);
    free(Xh);
    free(Yh);
    cJSON_Delete(list);
    return 0;
}
