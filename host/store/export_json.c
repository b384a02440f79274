#include "store/export_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "io/safetensors.h"
#include "store/model_file.h"
#include "util/fileio.h"
#include "util/outfile.h"
#include "util/json_exact.h"

/* A string as a quoted, escaped JSON string (cJSON does the escaping). */
static void put_string(FILE *fp, const char *s)
{
    cJSON *j = cJSON_CreateString(s);
    char *txt = j ? cJSON_PrintUnformatted(j) : NULL;
    fputs(txt ? txt : "\"\"", fp);
    cJSON_free(txt);
    cJSON_Delete(j);
}

static void put_float(FILE *fp, double v, int digits)
{
    if (isnan(v))
        fputs("\"NaN\"", fp);
    else if (isinf(v))
        fputs(v > 0 ? "\"Infinity\"" : "\"-Infinity\"", fp);
    else
        fprintf(fp, "%.*g", digits, v);
}

static void put_tensor(FILE *fp, const reel_tensor *t)
{
    fputs("    {\"name\": ", fp);
    put_string(fp, t->name);
    fprintf(fp, ", \"dtype\": \"%s\", \"shape\": [", reel_dtype_name(t->dtype));
    for (int k = 0; k < t->ndim; k++)
        fprintf(fp, "%s%zu", k ? ", " : "", t->shape[k]);
    fputs("], \"values\": [", fp);
    size_t count = t->nbytes / reel_dtype_size(t->dtype);
    for (size_t i = 0; i < count; i++) {
        if (i)
            fputs(", ", fp);
        switch (t->dtype) {
        case REEL_F32:
            put_float(fp, ((const float *)t->data)[i], 9);
            break;
        case REEL_F64:
            put_float(fp, ((const double *)t->data)[i], 17);
            break;
        case REEL_I32:
            fprintf(fp, "%" PRId32, ((const int32_t *)t->data)[i]);
            break;
        case REEL_U8:
            fprintf(fp, "%u", (unsigned)((const uint8_t *)t->data)[i]);
            break;
        }
    }
    fputs("]}", fp);
}

int reel_export_json(const char *model_path, const char *out_path, reel_error *err)
{
    /* Loading the model first checks the whole file and decodes its metadata. */
    reel_model_file mf;
    if (reel_model_file_load(&mf, model_path, 1, err))
        return -1;
    reel_tensors t = {0};
    cJSON *raw = NULL;
    if (reel_safetensors_read(model_path, &t, &raw, err)) {
        reel_model_file_free(&mf);
        return -1;
    }
    cJSON_Delete(raw); /* mf.meta holds the same entries, decoded */
    /* The checksum is about the file's bytes (a run's fit time changes it), not the model: left out. */
    cJSON *shown = cJSON_Duplicate(mf.meta, 1);
    cJSON_DeleteItemFromObjectCaseSensitive(shown, "checksum");
    char *meta = shown ? reel_json_print_exact(shown) : NULL;
    cJSON_Delete(shown);
    reel_outfile out;
    int rc = -1;
    if (!meta) {
        reel_fail(err, "%s: out of memory", out_path);
        goto done;
    }
    if (reel_outfile_open(&out, out_path, err))
        goto done;
    fprintf(out.fp, "{\n  \"format\": \"reel-model-json\",\n  \"format_version\": 1,\n  \"metadata\": %s,\n"
                    "  \"tensors\": [\n",
            meta);
    for (size_t i = 0; i < t.n; i++) {
        put_tensor(out.fp, &t.t[i]);
        fputs(i + 1 < t.n ? ",\n" : "\n", out.fp);
    }
    fputs("  ]\n}\n", out.fp);
    rc = reel_outfile_commit(&out, err);
done:
    cJSON_free(meta);
    reel_tensors_free(&t);
    reel_model_file_free(&mf);
    return rc;
}
