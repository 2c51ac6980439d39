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
// The kernel for this CPU that wastes least on a GEMM with `rows` rows of A (its NR is always
// micro_kernel().nr). Operands packed for it must use its MR.
const MicroKernel& micro_kernel_for_rows(int64_t rows);
// The kernel for `isa`, which the caller must know this CPU supports (tests run all three).
MicroKernel micro_kernel_for(Isa isa);

}  // namespace nnc::cpu
