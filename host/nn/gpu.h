/* What GPU, if any, this build can use. The CUDA code lives in a plugin,
 * libreel_cuda.so, loaded on first use from $REEL_CUDA_PLUGIN, beside
 * libreel or the reel program, or from the install's lib folder (bin/../lib);
 * without it reel reports no GPU. */
#ifndef REEL_GPU_H
#define REEL_GPU_H

#include <stddef.h>

typedef struct {
    char name[256];
    int major, minor;        /* compute capability */
    size_t total_memory;     /* bytes */
    int driver_version;      /* e.g. 13000 */
    int runtime_version;
} reel_gpu_info;

/* Number of usable CUDA devices (0 when built without CUDA or none found). */
int reel_gpu_count(void);
/* Fills info for the selected device (0 unless reel_gpu_select); -1 when
 * there is none. */
int reel_gpu_query(reel_gpu_info *info);
/* Why there is no GPU, for messages. */
const char *reel_gpu_absent_reason(void);
/* The CUDA device later nets are created on: 0, or -1 when there is no
 * such device. */
int reel_gpu_select(int device);

#endif
