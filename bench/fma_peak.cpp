// bench/fma_peak.cpp — this machine's fp32 FMA peak, the ceiling nnc's kernels are measured
// against (bench/run.py prints effective GFLOP/s of the largest convolutions as a share of it),
// and with AVX-512 VNNI its int8 peak (vpdpbusd: 4 multiply-adds per 32-bit lane).
//
// Each thread runs independent FMA chains on 16 vector registers (enough to hide the FMA
// latency on every x86 core we know) for a fixed number of iterations; peak = FLOPs / time.
//   usage: fma_peak [THREADS]   (default: every core)   prints one JSON line
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "backends/cpu/cpu_info.h"

namespace {

constexpr long kIterations = 40'000'000;

__attribute__((target("avx512f,fma"))) float run_avx512() {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < kIterations; ++n)
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  alignas(64) float lanes[16];
  float sum = 0;
  for (int i = 0; i < 16; ++i) {
    _mm512_store_ps(lanes, acc[i]);
    for (float v : lanes) sum += v;
  }
  return sum;
}

__attribute__((target("avx2,fma"))) float run_avx2() {
  __m256 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm256_set1_ps(float(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < kIterations; ++n)
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  alignas(32) float lanes[8];
  float sum = 0;
  for (int i = 0; i < 16; ++i) {
    _mm256_store_ps(lanes, acc[i]);
    for (float v : lanes) sum += v;
  }
  return sum;
}

__attribute__((target("avx512f,avx512vnni"))) int run_vnni() {
  __m512i acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_epi32(i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (long n = 0; n < kIterations; ++n)
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  alignas(64) int lanes[16];
  int sum = 0;
  for (int i = 0; i < 16; ++i) {
    _mm512_store_si512(lanes, acc[i]);
    for (int v : lanes) sum += v;
  }
  return sum;
}

// Seconds for every thread to run `body` once, all at the same time.
template <typename Body>
double timed_on_threads(int threads, Body body) {
  std::vector<std::thread> pool;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) pool.emplace_back([&, t] { body(t); });
  for (std::thread& t : pool) t.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const nnc::cpu::CpuInfo& cpu = nnc::cpu::cpu_info();
  const int threads = argc > 1 ? std::max(1, std::atoi(argv[1])) : cpu.cores;
  const bool avx512 = cpu.isa == nnc::cpu::Isa::Avx512;
  if (cpu.isa == nnc::cpu::Isa::Portable) {
    std::printf("{\"error\": \"no AVX2/FMA on this CPU\"}\n");
    return 1;
  }
  const int lanes = avx512 ? 16 : 8;
  std::vector<float> sink(static_cast<size_t>(threads));
  const double seconds =
      timed_on_threads(threads, [&](int t) { sink[size_t(t)] = avx512 ? run_avx512() : run_avx2(); });
  const double flops = 2.0 * lanes * 16 * double(kIterations) * threads;
  // int8: 16 lanes x 4 multiply-adds (2 ops each) per vpdpbusd.
  std::string int8 = "null";
  if (cpu.vnni) {
    std::vector<int> int_sink(static_cast<size_t>(threads));
    const double s8 = timed_on_threads(threads, [&](int t) { int_sink[size_t(t)] = run_vnni(); });
    int8 = std::to_string(2.0 * 64 * 16 * double(kIterations) * threads / s8 / 1e9);
    sink[0] += float(int_sink[0] & 1);
  }
  std::printf("{\"cpu\": \"%s\", \"isa\": \"%s\", \"threads\": %d, \"gflops\": %.1f, \"gflops_per_thread\": %.1f, "
              "\"int8_gops\": %s, \"sink\": %g}\n",
              cpu.model.c_str(), nnc::cpu::isa_name(cpu.isa), threads, flops / seconds / 1e9,
              flops / seconds / 1e9 / threads, int8.c_str(), double(sink[0]));
  return 0;
}
