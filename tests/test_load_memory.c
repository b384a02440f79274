/* Out of memory while loading a model: the message names the file, not
 * only the tensor (issue 35 item 8). In its own suite: the sanitizer
 * build cannot cap the address space, and skips it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#include "io/safetensors.h"
#include "io/tensors.h"
#include "store/model_file.h"
#include "util/limits.h"

static const char *g_big_model;

/* Loads g_big_model with the address space capped a little above what its
 * bytes take once: copying its tensor runs out of memory. */
static int load_short_of_memory(void)
{
    FILE *fp = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!fp || fscanf(fp, "%lu", &pages) != 1)
        return 3;
    fclose(fp);
    rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)96 << 20);
    struct rlimit rl = {cap, cap};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return 3;
    reel_model_file mf;
    reel_error err;
    if (reel_model_file_load(&mf, g_big_model, 1, &err) == 0)
        return 1;
    fprintf(stderr, "%s\n", err.msg);
    return strstr(err.msg, g_big_model) && strstr(err.msg, "out of memory") ? 0 : 2;
}

Test(messages, out_of_memory_while_loading_names_the_file)
{
#ifdef __SANITIZE_ADDRESS__
    REEL_SKIP("an address-space cap and the sanitizer's shadow memory do not mix (the Release pass runs it)");
#endif
    size_t shape[1] = {(size_t)16 << 20}; /* 64 MiB of F32 */
    float *zeros = calloc(shape[0], sizeof *zeros);
    cr_assert(zeros);
    reel_tensors t = {0};
    reel_error err;
    cr_assert_eq(reel_tensors_add(&t, "threshold", REEL_F32, 1, shape, zeros, &err), 0, "%s", err.msg);
    free(zeros);
    g_big_model = tmp_path("big.model");
    cJSON *meta = cJSON_CreateObject();
    cr_assert_eq(reel_safetensors_write(g_big_model, &t, meta, &err), 0, "%s", err.msg);
    cJSON_Delete(meta);
    reel_tensors_free(&t);
    cr_expect_eq(run_in_child(load_short_of_memory), 0, "1: it loaded, 2: the message does not name the file");
}


/* The memory guard's budget is the address-space limit when that is the
 * least (issue 36 item 5). */
static int budget_under_a_cap(void)
{
    rlim_t cap = (rlim_t)3 << 30;
    struct rlimit rl = {cap, cap};
    if (setrlimit(RLIMIT_AS, &rl) != 0)
        return 3;
    double b = reel_memory_budget();
    fprintf(stderr, "budget %.0f, cap %.0f\n", b, (double)cap);
    return b > 0 && b <= (double)cap ? 0 : 1;
}

Test(limits, memory_budget_reads_the_address_space_limit)
{
#ifdef __SANITIZE_ADDRESS__
    REEL_SKIP("an address-space cap and the sanitizer's shadow memory do not mix (the Release pass runs it)");
#endif
    cr_expect_eq(run_in_child(budget_under_a_cap), 0, "1: the budget ignores ulimit -v");
}
