// backends/cpu/micro_kernels.h — the innermost loop of the GEMM: one MR x NR tile of C from a
// packed A panel (a[k * MR + i]) and a packed B panel (b[k * NR + j]):
//
//   C[i, j] (+)= sum_k a[k * MR + i] * b[k * NR + j]     (accumulate: add to what C holds)
//
// One kernel per instruction set; micro_kernel() returns the one for this CPU.
#pragma once

#include <cstdint>

#include "backends/cpu/cpu_info.h"

namespace nnc::cpu {

using MicroKernelFn = void (*)(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate);

struct MicroKernel {
  int mr, nr;
  MicroKernelFn run;
  const char* name;  // "avx512 12x32"
};

// The kernel for this CPU (cpu_info().isa).
const MicroKernel& micro_kernel();
// The kernel for `isa`, which the caller must know this CPU supports (tests run all three).
MicroKernel micro_kernel_for(Isa isa);

}  // namespace nnc::cpu
