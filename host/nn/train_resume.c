/* Resuming a net's training from its checkpoint, and writing the
 * checkpoint after every epoch (the file's format: nn/checkpoint.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/checkpoint.h"
#include "nn/train_loop.h"
#include "util/fileio.h"
#include "util/outfile.h"

/* FNV-1a over bytes: a checksum of the data a checkpoint was made on. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* Which run a checkpoint belongs to: the caller's description (model and
 * params) without "epochs", which a resumed run may raise, plus the data's
 * shape and checksum, the batch order's seed and the validation threshold. */
static cJSON *run_identity(const reel_nn_train_opts *o, const reel_fit_ctx *ctx, const float *Y, const float *Yv)
{
    cJSON *r = o->run ? cJSON_Duplicate(o->run, 1) : cJSON_CreateObject();
    if (!r)
        return NULL;
    cJSON *params = cJSON_GetObjectItemCaseSensitive(r, "params");
    if (params)
        cJSON_DeleteItemFromObjectCaseSensitive(params, "epochs");
    uint64_t h = 1469598103934665603ULL;
    h = fnv1a(h, ctx->X, ctx->n * ctx->d * sizeof(float));
    h = fnv1a(h, Y, ctx->n * ctx->L * sizeof(float));
    h = fnv1a(h, ctx->Xv, ctx->nv * ctx->d * sizeof(float));
    h = fnv1a(h, Yv, ctx->nv * ctx->L * sizeof(float));
    char hex[32], seed[32];
    snprintf(hex, sizeof hex, "%016" PRIx64, h);
    snprintf(seed, sizeof seed, "%" PRIu64, o->seed);
    cJSON_AddNumberToObject(r, "rows", (double)ctx->n);
    cJSON_AddNumberToObject(r, "valid_rows", (double)ctx->nv);
    cJSON_AddNumberToObject(r, "features", (double)ctx->d);
    cJSON_AddNumberToObject(r, "labels", (double)ctx->L);
    cJSON_AddStringToObject(r, "data", hex);
    cJSON_AddStringToObject(r, "shuffle_seed", seed);
    return r;
}


int reel_nn_loop_save(reel_nn_loop *lp, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    if (net->be->get_params(net->b, lp->ck[0], err) || net->be->get_moments(net->b, lp->ck[1], lp->ck[2], err) ||
        (lp->ck_avg && net->be->get_avg_sum(net->b, lp->ck_avg, err)))
        return -1;
    reel_nn_checkpoint c = {
        .run = lp->run,
        .backend = net->be->name,
        .epoch = lp->at.epoch,
        .step = lp->at.step,
        .wait = lp->at.wait,
        .best_epoch = lp->res->best_epoch,
        .stopped = lp->at.stopped,
        .ref_loss = lp->at.ref_loss,
        .best_val_loss = lp->res->best_val_loss,
        .rng = lp->at.rng,
        .n_params = net->spec->n_params,
        .params = lp->ck[0],
        .m = lp->ck[1],
        .v = lp->ck[2],
        .best = lp->best,
        .ema_sum = lp->ck_avg,
        .ema_weight = lp->w.weight,
        .ema_last_step = lp->w.last_step,
        .history = lp->res->history,
        .history_csv = lp->h.text,
    };
    reel_error e;
    if (reel_nn_checkpoint_write(lp->o->checkpoint, &c, &e) == 0)
        return 0;
    /* the write is atomic: the file holds the previous epoch's state */
    long held = lp->at.epoch - 1;
    if (held > 0)
        return reel_fail(err, "%s (the checkpoint of epoch %ld); %s still holds epoch %ld: run the same command to "
                         "resume from it", e.msg, lp->at.epoch, lp->o->checkpoint, held);
    return reel_fail(err, "%s (the checkpoint of epoch %ld); no checkpoint was written", e.msg, lp->at.epoch);
}

/* A fresh start: make sure the first epoch's checkpoint can be written
 * before spending the epoch (its folder is made, as --out's). */
static int checkpoint_writable(const char *path, reel_error *err)
{
    char *dir = strdup(path);
    if (!dir)
        return reel_fail(err, "out of memory");
    char *slash = strrchr(dir, '/');
    int rc = 0;
    if (slash && slash != dir) {
        *slash = '\0';
        rc = reel_mkdir_p(dir, err);
    } else if (slash) {
        dir[1] = '\0';
    } else {
        strcpy(dir, ".");
    }
    if (rc == 0 && access(dir, W_OK) != 0)
        rc = reel_fail(err, "%s: cannot write the checkpoint there: %s", path, strerror(errno));
    free(dir);
    return rc;
}

/* Puts a checkpoint's state into the backend and the loop. */
static int resume_from(reel_nn_loop *lp, reel_nn_checkpoint *c, reel_error *err)
{
    const reel_nn_net *net = lp->net;
    reel_nn_train_result *res = lp->res;
    if (net->be->set_params(net->b, c->params, err) || net->be->set_moments(net->b, c->m, c->v, err))
        return -1;
    memcpy(lp->best, c->best, net->spec->n_params * sizeof *lp->best);
    if (lp->w.decay > 0) {
        if (net->be->set_avg_sum(net->b, c->ema_sum, err))
            return -1;
        lp->w.weight = c->ema_weight;
        lp->w.last_step = c->ema_last_step;
    }
    lp->at = (reel_nn_progress){.epoch = c->epoch, .step = c->step, .wait = c->wait, .ref_loss = c->ref_loss,
                        .stopped = c->stopped, .rng = c->rng};
    if (c->history_csv) {
        reel_nn_history_csv_adopt(&lp->h, c->history_csv);
        c->history_csv = NULL;
    }
    res->history = c->history;
    memset(&c->history, 0, sizeof c->history);
    res->epochs_run = c->epoch;
    res->best_epoch = c->best_epoch;
    res->best_val_loss = c->best_val_loss;
    res->resumed_at = c->epoch;
    lp->resumed = 1;
    return 0;
}

/* When the checkpoint file exists, resumes from it (lp->resumed = 1); a
 * missing file means a fresh start. */
static int resume(reel_nn_loop *lp, reel_error *err)
{
    const reel_nn_train_opts *o = lp->o;
    const reel_log *log = lp->ctx->log;
    lp->resumed = 0;
    FILE *probe = fopen(o->checkpoint, "rb");
    if (!probe) {
        if (errno != ENOENT)
            return reel_fail(err, "%s: cannot read checkpoint: %s", o->checkpoint, strerror(errno));
        return checkpoint_writable(o->checkpoint, err);
    }
    fclose(probe);
    /* Whose checkpoint it is comes first: other params (layers, ema) also
     * mean other sizes, and the key that differs is the useful message. */
    cJSON *saved;
    if (reel_nn_checkpoint_read_run(o->checkpoint, &saved, err))
        return -1;
    char key[256];
    const char *diff = reel_nn_checkpoint_run_diff(saved, lp->run, key, sizeof key);
    cJSON_Delete(saved);
    if (diff)
        return reel_fail(err, "%s: checkpoint of another run (%s differs); delete it or choose another --checkpoint "
                         "file", o->checkpoint, diff);
    reel_nn_checkpoint c;
    if (reel_nn_checkpoint_read(o->checkpoint, lp->net->spec->n_params, lp->w.decay > 0, &c, err))
        return -1;
    if (c.epoch > o->epochs) {
        reel_fail(err, "%s: the checkpoint has trained %ld epochs, more than the %ld asked for; raise --epochs or "
                  "delete it", o->checkpoint, c.epoch, o->epochs);
        reel_nn_checkpoint_free(&c);
        return -1;
    }
    if (resume_from(lp, &c, err)) {
        reel_nn_checkpoint_free(&c);
        return -1;
    }
    const char *be_name = lp->net->be->name;
    if (strcmp(c.backend, be_name) != 0)
        reel_log_msg(log, REEL_LOG_INFO, "%s: the checkpoint was written by the %s backend, this run uses %s: the "
                     "result will differ slightly from an uninterrupted run", lp->name, c.backend, be_name);
    if (c.stopped)
        reel_log_msg(log, REEL_LOG_INFO, "%s: checkpoint %s: training had already stopped early after epoch %ld; "
                     "delete the file to train again", lp->name, o->checkpoint, c.epoch);
    else
        reel_log_msg(log, REEL_LOG_INFO, "%s: resuming from checkpoint %s after epoch %ld (step %ld)", lp->name,
                     o->checkpoint, c.epoch, c.step);
    reel_nn_checkpoint_free(&c);
    return 0;
}


int reel_nn_loop_resume(reel_nn_loop *lp, reel_error *err)
{
    const reel_fit_ctx *ctx = lp->ctx;
    if (!(lp->run = run_identity(lp->o, ctx, lp->Y + lp->row0 * ctx->L, lp->Yv)))
        return reel_fail(err, "%s: out of memory", lp->name);
    if (resume(lp, err))
        return -1;
    /* the history so far, also when there is nothing left to train */
    if (lp->resumed && reel_nn_history_csv_write(&lp->h, err))
        return -1;
    return 0;
}
