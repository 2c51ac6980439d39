// backends/cpu/cpu_info.h — what this CPU can do, asked once (CPUID), so kernels pick their
// instruction set at run time and one binary runs on any x86-64.
#pragma once

#include <string>

namespace nnc::cpu {

enum class Isa { Portable, Avx2Fma, Avx512 };

struct CpuInfo {
  Isa isa = Isa::Portable;  // the best instruction set nnc's kernels use here (NNC_ISA lowers it)
  bool avx512bw = false;    // AVX-512 BW and VL (byte and 128/256-bit ops): the byte kernels' vector path
  bool vnni = false;        // AVX-512 VNNI (vpdpbusd): the INT8 kernels' fast path; implies avx512bw
  std::string model;        // "AMD EPYC 9R14 96-Core Processor" (timing caches key on it)
  int cores = 1;            // hardware threads available to this process
};

const CpuInfo& cpu_info();
const char* isa_name(Isa isa);

}  // namespace nnc::cpu
