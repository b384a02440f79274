#include "tune/journal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist/dist.h"
#include "util/fileio.h"
#include "util/hash.h"
#include "util/outfile.h"

/* The file, one record a line, so that a damaged record is named by its
 * line (and the whole is still JSON):
 *   {"reel_search_journal": 2, "identity": {...}, "trials": [
 *   {"params": {...}, "score": S, "score_std": D, "seconds": T, "nets_per_launch": N,
 *    "check": "16 hex digits"},
 *   ...
 *   ]}
 * "check" is the FNV-1a 64 of the record's text before it. */
#define JOURNAL_VERSION 2
#define CHECK_KEY ", \"check\": \""

void reel_journal_free(reel_journal *j)
{
    free(j->path);
    cJSON_Delete(j->doc);
    memset(j, 0, sizeof *j);
}

int reel_journal_identity_files(cJSON *identity, const char *const *flags, const char *const *paths, size_t n,
                                reel_error *err)
{
    cJSON *content = cJSON_AddObjectToObject(identity, "content");
    if (!content)
        return reel_fail(err, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (!paths[i])
            continue;
        uint64_t h;
        if (reel_hash_file(paths[i], &h, err))
            return -1;
        char hex[20];
        snprintf(hex, sizeof hex, "%016" PRIx64, h);
        cJSON_DeleteItemFromObjectCaseSensitive(content, flags[i]);
        cJSON_AddStringToObject(content, flags[i], hex);
    }
    cJSON_AddStringToObject(identity, "version", REEL_VERSION);
    return 0;
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

/* The line starting at *at (without its newline, NUL-terminated in place);
 * *at moves past it. NULL at the end. */
static char *next_line(char **at)
{
    if (!**at)
        return NULL;
    char *line = *at, *nl = strchr(line, '\n');
    if (nl) {
        *nl = '\0';
        *at = nl + 1;
    } else {
        *at = line + strlen(line);
    }
    return line;
}

/* The numbers every trial holds, each in [0, max]: scores are F1 scores. */
static const struct {
    const char *key;
    double max;
} trial_numbers[] = {{"score", 1},
                     {"score_std", 1},
                     {"score_at_model_thresholds", 1},
                     {"score_at_model_thresholds_std", 1},
                     {"seconds", 1e12}};

static int finite_in(const cJSON *v, double lo, double hi)
{
    return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= lo && v->valuedouble <= hi;
}

/* One record line: its checksum, then every field and its range. Adds it
 * to trials. */
static int read_record(const char *path, size_t line_no, char *line, cJSON *trials, reel_error *err)
{
    size_t n = strlen(line);
    if (n > 0 && line[n - 1] == ',')
        line[--n] = '\0';
    char *check = NULL;
    for (char *p = strstr(line, CHECK_KEY); p; p = strstr(p + 1, CHECK_KEY))
        check = p;
    if (!check)
        return reel_fail(err, "--resume: %s:%zu: a trial record without its checksum; the journal is damaged", path,
                         line_no);
    const char *digits = check + strlen(CHECK_KEY);
    char want[20];
    snprintf(want, sizeof want, "%016" PRIx64, reel_fnv1a(REEL_FNV_START, line, (size_t)(check - line)));
    if (strlen(digits) != 18 || strncmp(digits, want, 16) != 0 || strcmp(digits + 16, "\"}") != 0)
        return reel_fail(err, "--resume: %s:%zu: the trial record does not match its checksum; the journal was "
                         "changed or damaged (delete it, or that line, to fit the trial again)", path, line_no);
    check[0] = '}';
    check[1] = '\0';
    cJSON *t = cJSON_Parse(line);
    const char *bad = !t ? "text" : !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(t, "params")) ? "params" : NULL;
    for (size_t q = 0; !bad && q < sizeof trial_numbers / sizeof *trial_numbers; q++)
        if (!finite_in(cJSON_GetObjectItemCaseSensitive(t, trial_numbers[q].key), 0, trial_numbers[q].max))
            bad = trial_numbers[q].key;
    /* nets_per_launch: a whole count, absent from journals written before it was (then 0) */
    const cJSON *npl = t ? cJSON_GetObjectItemCaseSensitive(t, "nets_per_launch") : NULL;
    if (!bad && npl && (!finite_in(npl, 0, 1e9) || npl->valuedouble != floor(npl->valuedouble)))
        bad = "nets_per_launch";
    if (bad) {
        cJSON_Delete(t);
        return reel_fail(err, "--resume: %s:%zu: the trial record's %s is missing or out of range; the journal is "
                         "damaged", path, line_no, bad);
    }
    cJSON_AddItemToArray(trials, t);
    return 0;
}

/* Reads the trials of a journal of the same identity into trials. */
static int read_journal(reel_journal *j, const char *path, char *text, const cJSON *identity, cJSON *trials,
                        reel_error *err)
{
    static const char head[] = "{\"reel_search_journal\": ", tail[] = ", \"trials\": [";
    char *at = text, *line = next_line(&at);
    int rc = 0;
    size_t hl = strlen(head), tl = strlen(tail), n = line ? strlen(line) : 0;
    if (!line || strncmp(line, head, hl) != 0 || n < hl + tl || strcmp(line + n - tl, tail) != 0) {
        rc = reel_fail(err, "--resume: %s is not a reel search journal%s", path,
                       strstr(text, "\"reel_search_journal\"") ? " of this version (delete it to start again)" : "");
        free(text);
        return rc;
    }
    line[n - tl] = '}'; /* {"reel_search_journal": 2, "identity": {...}} */
    line[n - tl + 1] = '\0';
    cJSON *h = cJSON_Parse(line);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(h, "reel_search_journal");
    const cJSON *oid = cJSON_GetObjectItemCaseSensitive(h, "identity");
    const char *key = NULL;
    if (!cJSON_IsNumber(ver) || ver->valuedouble != JOURNAL_VERSION || !cJSON_IsObject(oid))
        rc = reel_fail(err, "--resume: %s:1: not a reel search journal of this version (delete it to start again)",
                       path);
    else if ((key = differs(oid, identity)))
        rc = reel_fail(err, "--resume: %s holds another search (its %s differs); delete it or name another --journal",
                       path, key);
    cJSON_Delete(h);
    size_t line_no = 1;
    int closed = 0;
    while (rc == 0 && (line = next_line(&at))) {
        line_no++;
        if (closed)
            rc = reel_fail(err, "--resume: %s:%zu: text after the end of the journal", path, line_no);
        else if (strcmp(line, "]}") == 0)
            closed = 1;
        else if ((rc = read_record(path, line_no, line, trials, err)) == 0)
            j->resumed++;
    }
    if (rc == 0 && !closed)
        rc = reel_fail(err, "--resume: %s:%zu: the journal ends early; it is damaged", path, line_no);
    free(text);
    return rc;
}

/* Under mpirun rank 0 alone reads the journal and every rank takes what
 * it read: rank 0 journals trials as they finish, and a rank reading late
 * would see more of them than the others and take other items.
 * The blob: "M" (no journal yet), "E" and the error, or "T" and the text. */
static char *shared_journal(const char *path, reel_error *err)
{
    reel_dist_fault_late();
    reel_blob b = {0};
    if (reel_dist_root()) {
        reel_error e;
        char *text = access(path, F_OK) != 0 ? NULL : reel_read_file(path, NULL, &e);
        const char *body = access(path, F_OK) != 0 ? "" : text ? text : e.msg;
        char kind = access(path, F_OK) != 0 ? 'M' : text ? 'T' : 'E';
        b.len = strlen(body) + 2;
        b.data = malloc(b.len);
        if (b.data) {
            ((char *)b.data)[0] = kind;
            memcpy((char *)b.data + 1, body, b.len - 1);
        } else {
            b.len = 0;
        }
        free(text);
    }
    reel_dist_share(&b);
    char *out = NULL;
    if (!b.len) {
        reel_fail(err, "%s: out of memory", path);
    } else if (((char *)b.data)[0] == 'E') {
        reel_fail(err, "--resume: %s", (char *)b.data + 1);
    } else if (((char *)b.data)[0] == 'T') {
        out = strdup((char *)b.data + 1);
        if (!out)
            reel_fail(err, "%s: out of memory", path);
    } else {
        err->msg[0] = '\0'; /* no journal: start empty */
    }
    free(b.data);
    return out;
}

int reel_journal_open(reel_journal *j, const char *path, cJSON *identity, int resume, reel_error *err)
{
    memset(j, 0, sizeof *j);
    j->path = strdup(path);
    j->doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(j->doc, "reel_search_journal", JOURNAL_VERSION);
    cJSON_AddItemToObject(j->doc, "identity", identity);
    cJSON *trials = cJSON_AddArrayToObject(j->doc, "trials");
    if (!j->path || !trials) {
        reel_journal_free(j);
        return reel_fail(err, "%s: out of memory", path);
    }
    if (!resume)
        return 0;
    char *text = shared_journal(path, err);
    if (!text && !err->msg[0])
        return 0;
    if (!text || read_journal(j, path, text, identity, trials, err)) {
        reel_journal_free(j);
        return -1;
    }
    return 0;
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

/* One record's line: its fields, then the checksum of that text. */
static int put_record(FILE *fp, const cJSON *t)
{
    char *body = cJSON_PrintUnformatted(t);
    size_t n = body ? strlen(body) : 0;
    if (n < 2) {
        cJSON_free(body);
        return -1;
    }
    body[n - 1] = '\0'; /* without its closing brace */
    fprintf(fp, "%s%s%016" PRIx64 "\"}", body, CHECK_KEY, reel_fnv1a(REEL_FNV_START, body, n - 1));
    cJSON_free(body);
    return 0;
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
    cJSON_AddNumberToObject(o, "nets_per_launch", (double)t->shared);
    cJSON *trials = cJSON_GetObjectItemCaseSensitive(j->doc, "trials");
    cJSON_AddItemToArray(trials, o);
    char *id = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(j->doc, "identity"));
    reel_outfile f;
    if (!id)
        return reel_fail(err, "%s: out of memory", j->path);
    if (reel_outfile_open(&f, j->path, err)) {
        cJSON_free(id);
        return -1;
    }
    fprintf(f.fp, "{\"reel_search_journal\": %d, \"identity\": %s, \"trials\": [\n", JOURNAL_VERSION, id);
    cJSON_free(id);
    int bad = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, trials)
    {
        bad |= put_record(f.fp, r);
        fputs(r->next ? ",\n" : "\n", f.fp);
    }
    fputs("]}\n", f.fp);
    if (bad) {
        reel_outfile_abort(&f);
        return reel_fail(err, "%s: out of memory", j->path);
    }
    return reel_outfile_commit(&f, err);
}
