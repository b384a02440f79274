#include "tune/journal.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fileio.h"
#include "util/outfile.h"

void reel_journal_free(reel_journal *j)
{
    free(j->path);
    cJSON_Delete(j->doc);
    memset(j, 0, sizeof *j);
}

/* The first key whose value differs between two identities, or NULL. */
static const char *differs(const cJSON *a, const cJSON *b)
{
    for (const cJSON *x = a->child; x; x = x->next) {
        const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, x->string);
        if (!y || !cJSON_Compare(x, y, 1))
            return x->string;
    }
    for (const cJSON *y = b->child; y; y = y->next)
        if (!cJSON_GetObjectItemCaseSensitive(a, y->string))
            return y->string;
    return NULL;
}

/* The numbers every trial of a journal holds. */
static const char *const trial_numbers[] = {"score", "score_std", "score_at_model_thresholds",
                                            "score_at_model_thresholds_std", "seconds"};

int reel_journal_open(reel_journal *j, const char *path, cJSON *identity, int resume, reel_error *err)
{
    memset(j, 0, sizeof *j);
    j->path = strdup(path);
    j->doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(j->doc, "reel_search_journal", 1);
    cJSON_AddItemToObject(j->doc, "identity", identity);
    cJSON *trials = cJSON_AddArrayToObject(j->doc, "trials");
    if (!resume || access(path, F_OK) != 0)
        return 0;
    reel_error e;
    char *text = reel_read_file(path, NULL, &e);
    if (!text) {
        reel_journal_free(j);
        return reel_fail(err, "--resume: %s", e.msg);
    }
    cJSON *old = cJSON_Parse(text);
    free(text);
    const cJSON *oid = cJSON_GetObjectItemCaseSensitive(old, "identity");
    const cJSON *ot = cJSON_GetObjectItemCaseSensitive(old, "trials");
    int rc = 0;
    if (!old || !cJSON_IsObject(oid) || !cJSON_IsArray(ot)) {
        rc = reel_fail(err, "--resume: %s is not a reel search journal", path);
    } else {
        const char *key = differs(oid, identity);
        if (key) {
            rc = reel_fail(err, "--resume: %s holds another search (its %s differs); delete it or name another "
                           "--journal", path, key);
        } else {
            const cJSON *t;
            cJSON_ArrayForEach(t, ot)
            {
                const cJSON *params = cJSON_GetObjectItemCaseSensitive(t, "params");
                int numbers = 1;
                for (size_t q = 0; q < sizeof trial_numbers / sizeof *trial_numbers; q++)
                    numbers &= cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(t, trial_numbers[q]));
                if (!cJSON_IsObject(params) || !numbers) {
                    rc = reel_fail(err, "--resume: %s: trial %zu is damaged", path, j->resumed + 1);
                    break;
                }
                cJSON_AddItemToArray(trials, cJSON_Duplicate(t, 1));
                j->resumed++;
            }
        }
    }
    cJSON_Delete(old);
    if (rc)
        reel_journal_free(j);
    return rc;
}

const cJSON *reel_journal_find(const reel_journal *j, const cJSON *params,
                               int (*same)(void *ctx, const cJSON *a, const cJSON *b), void *ctx)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j->doc, "trials"))
    {
        if (same(ctx, cJSON_GetObjectItemCaseSensitive(t, "params"), params))
            return t;
    }
    return NULL;
}

int reel_journal_add(reel_journal *j, const reel_trial *t, reel_error *err)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "params", cJSON_Duplicate(t->params, 1));
    /* cJSON prints a double with as many digits as it needs to read back
     * the same bits, so a resumed trial scores exactly as it did */
    cJSON_AddNumberToObject(o, "score", t->score);
    cJSON_AddNumberToObject(o, "score_std", t->score_std);
    cJSON_AddNumberToObject(o, "score_at_model_thresholds", t->plain);
    cJSON_AddNumberToObject(o, "score_at_model_thresholds_std", t->plain_std);
    cJSON_AddNumberToObject(o, "seconds", t->seconds);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(j->doc, "trials"), o);
    char *text = cJSON_Print(j->doc);
    if (!text)
        return reel_fail(err, "%s: out of memory", j->path);
    int rc = reel_write_file_atomic(j->path, text, err);
    cJSON_free(text);
    return rc;
}
