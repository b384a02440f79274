/* The ranks of one job must run one task: rank 0 compares every rank's
 * description of it with its own (reel_dist_agree), and rank 0 alone reads
 * what every rank must take the same (reel_dist_share). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/dist.h"
#include "dist/dist_internal.h"

void reel_dist_share(reel_blob *b)
{
    if (reel_dist_size() > 1)
        reel_dist_mpi_share(b);
}

/* The path of the first key whose value differs ("content.data"), into
 * buf; 0 when a and b are the same. Keys in another order differ too (a
 * grid's order is the order of its trials). */
static int first_difference(const cJSON *a, const cJSON *b, char *buf, size_t len)
{
    if (cJSON_IsObject(a) && cJSON_IsObject(b)) {
        const cJSON *x = a->child, *y = b->child;
        for (; x && y; x = x->next, y = y->next) {
            int same_key = strcmp(x->string, y->string) == 0;
            if (!same_key || first_difference(x, y, buf, len)) {
                char *inner = strdup(same_key ? buf : "");
                snprintf(buf, len, "%s%s%s", x->string, inner && inner[0] ? "." : "", inner ? inner : "");
                free(inner);
                return 1;
            }
        }
        if (x || y)
            snprintf(buf, len, "%s", x ? x->string : y->string);
        return x || y;
    }
    buf[0] = '\0';
    return !cJSON_Compare(a, b, 1);
}

int reel_dist_agree(const cJSON *task, reel_error *err)
{
    int n = reel_dist_size();
    if (n <= 1)
        return 0;
    char *text = cJSON_PrintUnformatted(task);
    reel_blob mine = {text, text ? strlen(text) + 1 : 0};
    reel_blob verdict = {0}, *all = reel_dist_root() ? calloc((size_t)n, sizeof *all) : NULL;
    if (reel_dist_root() && !all) {
        cJSON_free(text);
        return reel_fail(err, "out of memory");
    }
    reel_dist_mpi_gather(&mine, all);
    cJSON_free(text);
    if (reel_dist_root()) {
        char msg[sizeof err->msg] = "";
        cJSON *root = cJSON_Parse(all[0].data);
        for (int r = 1; r < n && !msg[0]; r++) {
            cJSON *other = all[r].len ? cJSON_Parse(all[r].data) : NULL;
            char key[200] = "";
            if (!other || first_difference(root, other, key, sizeof key))
                snprintf(msg, sizeof msg, "rank %d runs another task than rank 0: its %s differs (every rank must "
                         "run the same command on the same inputs; --device and paths may differ)",
                         r, key[0] ? key : "description");
            cJSON_Delete(other);
        }
        cJSON_Delete(root);
        reel_blobs_free(all, (size_t)n);
        free(all);
        verdict.len = strlen(msg) + 1;
        verdict.data = strdup(msg);
        if (!verdict.data)
            verdict.len = 0;
    }
    reel_dist_share(&verdict);
    int rc = 0;
    if (verdict.len && ((char *)verdict.data)[0])
        rc = reel_fail(err, "%s", (char *)verdict.data);
    free(verdict.data);
    return rc;
}

/* For the MPI tests: REEL_DIST_FAULT=late:R makes rank R wait 3 s before
 * it reads what the others may be writing (a slow disk). */
void reel_dist_fault_late(void)
{
    const char *f = getenv("REEL_DIST_FAULT");
    if (!f || strncmp(f, "late:", 5) != 0 || atoi(f + 5) != reel_dist_rank() || reel_dist_size() <= 1)
        return;
    struct timespec ts = {3, 0};
    nanosleep(&ts, NULL);
}
