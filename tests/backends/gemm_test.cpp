// The packed GEMM against a plain triple loop in double precision: every operand source,
// edge tiles in M, N and K, the epilogue, one and two threads, and each micro-kernel this CPU
// can run (ctest also runs this file with NNC_ISA=avx2 and NNC_ISA=portable).
#include <doctest/doctest.h>

#include <cmath>
#include <random>

#include "backends/cpu/gemm.h"
#include "backends/cpu/micro_kernels.h"
#include "backends/cpu/thread_pool.h"

using namespace nnc;
using namespace nnc::cpu;

namespace {

std::vector<float> random_values(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

double rel_l2(const std::vector<float>& got, const std::vector<double>& want) {
  double num = 0, den = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    num += (got[i] - want[i]) * (got[i] - want[i]);
    den += want[i] * want[i];
  }
  return std::sqrt(num / std::max(den, 1e-300));
}

struct Case {
  int64_t m, n, k;
};

// Shapes around the tile sizes of all three kernels (12x32, 6x16, 4x16) and the K block (256).
const Case kCases[] = {{1, 1, 1},    {1, 37, 5},    {13, 1, 9},    {12, 32, 256}, {6, 16, 257},
                       {25, 70, 300}, {4, 100, 31},  {64, 384, 64}, {50, 800, 513}, {7, 3, 0}};

}  // namespace

TEST_CASE("gemm matches a double-precision triple loop, with every operand source and the epilogue") {
  for (const int threads : {1, 2}) {
    set_thread_count(threads);
    for (const Case& c : kCases) {
      CAPTURE(threads);
      CAPTURE(c.m);
      CAPTURE(c.n);
      CAPTURE(c.k);
      const std::vector<float> a = random_values(size_t(c.m * c.k), 1), b = random_values(size_t(c.k * c.n), 2);
      const std::vector<float> row_bias = random_values(size_t(c.m), 3), col_bias = random_values(size_t(c.n), 4);
      const std::vector<float> residual = random_values(size_t(c.m * c.n), 5);
      std::vector<double> want(size_t(c.m * c.n));
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < c.n; ++j) {
          double s = 0;
          for (int64_t p = 0; p < c.k; ++p) s += double(a[size_t(i * c.k + p)]) * b[size_t(p * c.n + j)];
          s += row_bias[size_t(i)] + col_bias[size_t(j)] + residual[size_t(i * c.n + j)];
          want[size_t(i * c.n + j)] = std::max(s, 0.0);  // Relu
        }
      GemmEpilogue epilogue;
      epilogue.row_bias = row_bias.data();
      epilogue.col_bias = col_bias.data();
      epilogue.residual = residual.data();
      epilogue.ld_residual = c.n;
      epilogue.activation.kind = Activation::Kind::Relu;

      // Transposed copies, for the stride_i != 1 paths of both operands.
      std::vector<float> a_t(a.size()), b_t(b.size());
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t p = 0; p < c.k; ++p) a_t[size_t(p * c.m + i)] = a[size_t(i * c.k + p)];
      for (int64_t p = 0; p < c.k; ++p)
        for (int64_t j = 0; j < c.n; ++j) b_t[size_t(j * c.k + p)] = b[size_t(p * c.n + j)];

      const StridedSource a_rows(a.data(), c.k, 1), b_rows(b.data(), 1, c.n);
      const StridedSource a_cols(a_t.data(), 1, c.m), b_cols(b_t.data(), c.k, 1);
      const PackedPanels a_packed(a_rows, c.m, c.k, micro_kernel().mr), b_packed(b_rows, c.n, c.k, micro_kernel().nr);
      const std::pair<const PanelSource*, const PanelSource*> sources[] = {
          {&a_rows, &b_rows}, {&a_cols, &b_cols}, {&a_packed, &b_rows}, {&a_rows, &b_packed}};
      for (const auto& [sa, sb] : sources) {
        std::vector<float> got(size_t(c.m * c.n), NAN);
        gemm(c.m, c.n, c.k, *sa, *sb, got.data(), c.n, epilogue);
        CHECK(rel_l2(got, want) < 1e-6);
      }
    }
  }
  set_thread_count(0);
}

TEST_CASE("gemm writes into a wider C (a row stride larger than N) and leaves the rest alone") {
  const int64_t m = 5, n = 20, k = 7, ldc = 33;
  const std::vector<float> a = random_values(size_t(m * k), 7), b = random_values(size_t(k * n), 8);
  std::vector<float> c(size_t(m * ldc), 42.0f);
  gemm(m, n, k, StridedSource(a.data(), k, 1), StridedSource(b.data(), 1, n), c.data(), ldc, {});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {
        CHECK(c[size_t(i * ldc + j)] == 42.0f);
        continue;
      }
      double s = 0;
      for (int64_t p = 0; p < k; ++p) s += double(a[size_t(i * k + p)]) * b[size_t(p * n + j)];
      CHECK(std::abs(c[size_t(i * ldc + j)] - s) < 1e-5);
    }
}

TEST_CASE("every micro-kernel this CPU supports computes its tile, accumulating or not") {
  std::vector<Isa> isas = {Isa::Portable};
  if (cpu_info().isa != Isa::Portable) isas.push_back(Isa::Avx2Fma);
  if (cpu_info().isa == Isa::Avx512) isas.push_back(Isa::Avx512);
  for (const Isa isa : isas) {
    const MicroKernel kernel = micro_kernel_for(isa);
    CAPTURE(kernel.name);
    const int64_t kc = 19, ldc = kernel.nr + 3;
    const std::vector<float> a = random_values(size_t(kc * kernel.mr), 11), b = random_values(size_t(kc * kernel.nr), 12);
    std::vector<float> c(size_t(kernel.mr * ldc), 1.0f);
    kernel.run(kc, a.data(), b.data(), c.data(), ldc, /*accumulate=*/true);
    for (int i = 0; i < kernel.mr; ++i)
      for (int j = 0; j < kernel.nr; ++j) {
        double s = 1.0;
        for (int64_t p = 0; p < kc; ++p) s += double(a[size_t(p * kernel.mr + i)]) * b[size_t(p * kernel.nr + j)];
        CHECK(std::abs(c[size_t(i * ldc + j)] - s) < 1e-5);
      }
    kernel.run(kc, a.data(), b.data(), c.data(), ldc, /*accumulate=*/false);
    double s = 0;
    for (int64_t p = 0; p < kc; ++p) s += double(a[size_t(p * kernel.mr)]) * b[size_t(p * kernel.nr)];
    CHECK(std::abs(c[0] - s) < 1e-5);
  }
}

TEST_CASE("PackedPanels hands out its stored panels and repacks for any other tiling") {
  const int64_t rows = 30, depth = 300;
  const std::vector<float> m = random_values(size_t(rows * depth), 21);
  const StridedSource source(m.data(), depth, 1);
  const PackedPanels packed(source, rows, depth, 8);
  std::vector<float> want(size_t(8 * 44)), got(size_t(8 * 44));
  // Aligned to the stored tiling: a pointer into storage with the same values.
  const float* stored = packed.panel(16, 8, 256, 44, 8, got.data());
  CHECK(stored != got.data());
  source.panel(16, 8, 256, 44, 8, want.data());
  CHECK(std::equal(want.begin(), want.end(), stored));
  // Misaligned: repacked into the scratch buffer, zero-padded past `width`.
  const float* repacked = packed.panel(5, 6, 100, 44, 8, got.data());
  CHECK(repacked == got.data());
  source.panel(5, 6, 100, 44, 8, want.data());
  CHECK(want == got);
}
