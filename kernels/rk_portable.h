/* The few words in which CUDA and OpenCL C differ, so that the nets'
 * kernels (kernels/nn_kernels.cl) and the maths they share with the CPU
 * backend (kernels/nn_math.h) are written once and compile as CUDA (nvcc,
 * into the CUDA plugin), as OpenCL C 1.2 (built at run time from the source
 * embedded in reel) and, for nn_math.h, as plain C11 on the host.
 *
 * The subset: C functions and kernels, no C++ (templates, references,
 * overloads), no warp-synchronous code (every exchange of values goes
 * through work-group memory and a barrier), no float atomics, 32-bit ids
 * with 64-bit indices where a product of sizes can pass 2^31.
 *
 *   RK_KERNEL       a kernel entry point
 *   RK_GLOBAL       a pointer into device (global) memory
 *   RK_LOCAL        an array declared at kernel scope in work-group memory
 *   RK_LOCAL_PTR    a pointer to such an array, in a helper function
 *   RK_FN           a helper function (also on the host for nn_math.h)
 *   RK_LID, RK_GROUP, RK_LSIZE, RK_NGROUPS   ids and sizes in dimension 0
 *   RK_BARRIER()    every work-item of the group waits; memory is visible
 *   RK_SCRATCH_ARG(name), RK_SCRATCH_DECL(name)  float work-group memory
 *                   sized at launch: OpenCL passes it as the kernel's last
 *                   argument, CUDA declares it extern in the kernel body
 *   rk_i64, rk_u64, rk_u32                   fixed-width integers
 *   RK_U64C(x)      a 64-bit unsigned constant (OpenCL's UL, C's ULL)
 *   RK_INT_AS_FLOAT(i)  the float whose bits are the int i (kernels only:
 *                   a table of ints carrying a float)
 *   RK_FMUL, RK_FADD, RK_DMUL, RK_DADD       one rounding each, never fused
 *   RK_EXPF, RK_TANHF, RK_SQRTF, RK_ISFINITE  float maths
 *   exp, log, log1p, fabs                    double maths (same names) */
#ifndef REEL_RK_PORTABLE_H
#define REEL_RK_PORTABLE_H

#if defined(__OPENCL_VERSION__)
/* ------------------------------------------------------------- OpenCL C */
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
/* a*b+c stays two roundings, as on the CPU (built with -ffp-contract=off) */
#pragma OPENCL FP_CONTRACT OFF
#define RK_KERNEL __kernel
#define RK_GLOBAL __global
#define RK_LOCAL __local
#define RK_LOCAL_PTR __local
#define RK_FN static inline
#define RK_LID ((int)get_local_id(0))
#define RK_GROUP ((int)get_group_id(0))
#define RK_LSIZE ((int)get_local_size(0))
#define RK_NGROUPS ((int)get_num_groups(0))
#define RK_BARRIER() barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE)
#define RK_SCRATCH_ARG(name) , __local float *name
#define RK_SCRATCH_DECL(name)
typedef long rk_i64;
typedef ulong rk_u64;
typedef uint rk_u32;
#define RK_U64C(x) x##UL
#define RK_INT_AS_FLOAT(i) as_float(i)
#define RK_FMUL(a, b) ((a) * (b))
#define RK_FADD(a, b) ((a) + (b))
#define RK_DMUL(a, b) ((a) * (b))
#define RK_DADD(a, b) ((a) + (b))
#define RK_EXPF(x) exp(x)
#define RK_TANHF(x) tanh(x)
#define RK_SQRTF(x) sqrt(x)
#define RK_ISFINITE(x) isfinite(x)
#define RK_NULL 0

#elif defined(__CUDACC__)
/* ----------------------------------------------------------------- CUDA */
#define RK_KERNEL extern "C" __global__
#define RK_GLOBAL
#define RK_LOCAL __shared__
#define RK_LOCAL_PTR
#define RK_FN static __device__ inline
#define RK_LID ((int)threadIdx.x)
#define RK_GROUP ((int)blockIdx.x)
#define RK_LSIZE ((int)blockDim.x)
#define RK_NGROUPS ((int)gridDim.x)
#define RK_BARRIER() __syncthreads()
#define RK_SCRATCH_ARG(name)
#define RK_SCRATCH_DECL(name) extern __shared__ float name[];
typedef long long rk_i64;
typedef unsigned long long rk_u64;
typedef unsigned int rk_u32;
#define RK_U64C(x) x##ULL
#define RK_INT_AS_FLOAT(i) __int_as_float(i)
/* nvcc fuses a*b+c into an FMA unless told not to: these round each step */
#define RK_FMUL(a, b) __fmul_rn((a), (b))
#define RK_FADD(a, b) __fadd_rn((a), (b))
#define RK_DMUL(a, b) __dmul_rn((a), (b))
#define RK_DADD(a, b) __dadd_rn((a), (b))
#define RK_EXPF(x) expf(x)
#define RK_TANHF(x) tanhf(x)
#define RK_SQRTF(x) __fsqrt_rn(x)
#define RK_ISFINITE(x) isfinite(x)
#define RK_NULL 0

#else
/* ------------------------------------------- the host (the CPU backend) */
#include <math.h>
#include <stdint.h>
#define RK_GLOBAL
#define RK_FN static inline
typedef int64_t rk_i64;
typedef uint64_t rk_u64;
typedef uint32_t rk_u32;
#define RK_U64C(x) x##ULL
/* the CPU backend is built with -ffp-contract=off: nothing is fused */
#define RK_FMUL(a, b) ((a) * (b))
#define RK_FADD(a, b) ((a) + (b))
#define RK_DMUL(a, b) ((a) * (b))
#define RK_DADD(a, b) ((a) + (b))
#define RK_EXPF(x) expf(x)
#define RK_TANHF(x) tanhf(x)
#define RK_SQRTF(x) sqrtf(x)
#define RK_ISFINITE(x) isfinite(x)
#define RK_NULL NULL
#endif

#endif
