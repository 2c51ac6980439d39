// backends/cpu/cpu_info.cpp — see cpu_info.h. AVX-512 needs both the CPU flag and the OS saving
// the zmm registers (XCR0), which __builtin_cpu_supports checks for us.
#include "backends/cpu/cpu_info.h"

#include <cpuid.h>
#include <sched.h>

#include <cstdlib>
#include <cstring>
#include <thread>

namespace nnc::cpu {
namespace {

std::string brand_string() {
  unsigned max_leaf = __get_cpuid_max(0x80000000, nullptr);
  if (max_leaf < 0x80000004) return "unknown x86-64";
  char brand[49] = {};
  for (unsigned leaf = 0; leaf < 3; ++leaf) {
    unsigned regs[4];
    __get_cpuid(0x80000002 + leaf, &regs[0], &regs[1], &regs[2], &regs[3]);
    std::memcpy(brand + 16 * leaf, regs, 16);
  }
  std::string s(brand);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s;
}

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

CpuInfo detect() {
  __builtin_cpu_init();
  CpuInfo info;
  if (__builtin_cpu_supports("avx512f")) info.isa = Isa::Avx512;
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) info.isa = Isa::Avx2Fma;
  // NNC_ISA=avx2|portable runs the lesser kernels on a bigger CPU (to test or compare them);
  // it can only lower the choice, never claim an instruction set the CPU lacks.
  if (const char* forced = std::getenv("NNC_ISA")) {
    const std::string f = forced;
    if (f == "portable") info.isa = Isa::Portable;
    else if (f == "avx2" && info.isa == Isa::Avx512) info.isa = Isa::Avx2Fma;
  }
  info.avx512bw = info.isa == Isa::Avx512 && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
  info.vnni = info.avx512bw && __builtin_cpu_supports("avx512vnni");
  info.model = brand_string();
  info.cores = available_cores();
  return info;
}

}  // namespace

const CpuInfo& cpu_info() {
  static const CpuInfo info = detect();
  return info;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Avx512: return "avx512";
    case Isa::Avx2Fma: return "avx2";
    case Isa::Portable: return "portable";
  }
  return "?";
}

}  // namespace nnc::cpu
