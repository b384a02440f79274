/* The fault suite's allocation shim (LD_PRELOAD; tests/faults/fault_sweep.sh,
 * case malloc). REEL_FAIL_MALLOC=N makes the Nth malloc, calloc or realloc
 * that reel's own code calls (the caller's address lies in the program or
 * in libreel, not in libc, OpenBLAS, OpenMP, cJSON...) return NULL with
 * ENOMEM; every later one succeeds, as a brief shortage would. N = 0 only
 * counts. REEL_FAIL_MALLOC_LOG=FILE gets, at exit, the count and whether
 * the failure fired ("count 812 fired 1").
 *
 * glibc's __libc_* entry points serve the real allocations: no dlsym,
 * which may allocate itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <link.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

/* The executable segments of the program and of libreel. */
enum { MAX_RANGES = 16 };
static uintptr_t lo[MAX_RANGES], hi[MAX_RANGES];
static int n_ranges;
static long target = -1; /* -1: not read yet */
static atomic_long count;
static atomic_int fired;
static _Thread_local int inside; /* dl_iterate_phdr may allocate */

static int note_object(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    const char *name = info->dlpi_name;
    int ours = !name || !name[0] || strstr(name, "libreel.so");
    for (int i = 0; ours && i < info->dlpi_phnum && n_ranges < MAX_RANGES; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
            lo[n_ranges] = info->dlpi_addr + ph->p_vaddr;
            hi[n_ranges++] = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
        }
    }
    return 0;
}

static void setup(void)
{
    const char *v = getenv("REEL_FAIL_MALLOC");
    long t = v ? atol(v) : 0;
    inside = 1;
    dl_iterate_phdr(note_object, NULL);
    inside = 0;
    target = t;
}

/* Whether this call, made from `caller`, is the one to fail. */
static int fail_now(void *caller)
{
    if (inside)
        return 0;
    if (target < 0)
        setup();
    uintptr_t a = (uintptr_t)caller;
    int ours = 0;
    for (int i = 0; i < n_ranges && !ours; i++)
        ours = a >= lo[i] && a < hi[i];
    if (!ours)
        return 0;
    long n = atomic_fetch_add(&count, 1) + 1;
    if (target > 0 && n == target) {
        atomic_store(&fired, 1);
        errno = ENOMEM;
        return 1;
    }
    return 0;
}

void *malloc(size_t size)
{
    return fail_now(__builtin_return_address(0)) ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    return fail_now(__builtin_return_address(0)) ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
    return fail_now(__builtin_return_address(0)) ? NULL : __libc_realloc(p, size);
}

__attribute__((destructor)) static void report(void)
{
    const char *log = getenv("REEL_FAIL_MALLOC_LOG");
    if (!log)
        return;
    FILE *fp = fopen(log, "w");
    if (fp) {
        fprintf(fp, "count %ld fired %d\n", atomic_load(&count), atomic_load(&fired));
        fclose(fp);
    }
}
