// backends/cpu/gemm.cpp — see gemm.h.
#include "backends/cpu/gemm.h"

#include <algorithm>
#include <cstring>

#include "backends/cpu/thread_pool.h"

namespace nnc::cpu {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Adds the biases and the residual, then applies the activation, to C[m0:m1, n0:n0+width].
__attribute__((target_clones("avx512f", "avx2", "default")))
void add_bias_and_residual(float* C, int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t width,
                           const float* row_bias, const float* col_bias, const float* residual, int64_t ld_residual) {
  for (int64_t m = m0; m < m1; ++m) {
    float* row = C + m * ldc + n0;
    if (row_bias) {
      const float add = row_bias[m];
      for (int64_t j = 0; j < width; ++j) row[j] += add;
    }
    if (col_bias)
      for (int64_t j = 0; j < width; ++j) row[j] += col_bias[n0 + j];
    if (residual) {
      const float* r = residual + m * ld_residual + n0;
      for (int64_t j = 0; j < width; ++j) row[j] += r[j];
    }
  }
}

void finish_block(float* C, int64_t ldc, int64_t m0, int64_t m1, int64_t n0, int64_t width, const GemmEpilogue& e) {
  const float* residual_first = e.residual_after_activation ? nullptr : e.residual;
  if (e.row_bias || e.col_bias || residual_first)
    add_bias_and_residual(C, ldc, m0, m1, n0, width, e.row_bias, e.col_bias, residual_first, e.ld_residual);
  if (e.activation.kind != Activation::Kind::None)
    for (int64_t m = m0; m < m1; ++m) e.activation.apply(C + m * ldc + n0, width);
  if (e.residual && e.residual_after_activation)
    add_bias_and_residual(C, ldc, m0, m1, n0, width, nullptr, nullptr, e.residual, e.ld_residual);
}

// Per-thread scratch, grown as needed and kept between calls.
struct Scratch {
  std::vector<float> a, b, tile;
  std::vector<const float*> b_panels;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// C[m0:m1, n0:n1] for the whole K, one thread.
void gemm_block(int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t K, const PanelSource& a, const PanelSource& b,
                float* C, int64_t ldc, const GemmEpilogue& epilogue, const MicroKernel& kernel) {
  const int mr = kernel.mr, nr = kernel.nr;
  Scratch& s = scratch();
  s.a.resize(size_t(mr * kKc));
  s.b.resize(size_t(ceil_div(kNc, nr) * nr * kKc));
  s.tile.resize(size_t(mr * nr));
  for (int64_t nb = n0; nb < n1; nb += kNc) {
    const int64_t nc = std::min(kNc, n1 - nb);
    const int64_t panels = ceil_div(nc, nr);
    s.b_panels.resize(size_t(panels));
    for (int64_t kb = 0; kb < K; kb += kKc) {
      const int64_t kc = std::min(kKc, K - kb);
      const bool accumulate = kb > 0 || epilogue.accumulate;
      for (int64_t q = 0; q < panels; ++q) {
        const int64_t j = nb + q * nr;
        s.b_panels[size_t(q)] = b.panel(j, std::min<int64_t>(nr, n1 - j), kb, kc, nr, s.b.data() + q * nr * kc);
      }
      for (int64_t m = m0; m < m1; m += mr) {
        const int64_t rows = std::min<int64_t>(mr, m1 - m);
        const float* a_panel = a.panel(m, rows, kb, kc, mr, s.a.data());
        for (int64_t q = 0; q < panels; ++q) {
          const int64_t j = nb + q * nr;
          const int64_t cols = std::min<int64_t>(nr, n1 - j);
          float* c = C + m * ldc + j;
          if (rows == mr && cols == nr) {
            kernel.run(kc, a_panel, s.b_panels[size_t(q)], c, ldc, accumulate);
            continue;
          }
          // An edge tile: compute the full tile aside, keep the part that exists.
          kernel.run(kc, a_panel, s.b_panels[size_t(q)], s.tile.data(), nr, false);
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t t = 0; t < cols; ++t)
              c[r * ldc + t] = accumulate ? c[r * ldc + t] + s.tile[size_t(r * nr + t)] : s.tile[size_t(r * nr + t)];
        }
      }
    }
    if (K == 0 && !epilogue.accumulate)
      for (int64_t m = m0; m < m1; ++m) std::memset(C + m * ldc + nb, 0, size_t(nc) * sizeof(float));
    finish_block(C, ldc, m0, m1, nb, nc, epilogue);
  }
}

}  // namespace

void add_residual_and_activate(float* out, const float* residual, int64_t count, const Activation& activation,
                               bool residual_after_activation) {
  if (residual && !residual_after_activation)
    for (int64_t i = 0; i < count; ++i) out[i] += residual[i];
  activation.apply(out, count);
  if (residual && residual_after_activation)
    for (int64_t i = 0; i < count; ++i) out[i] += residual[i];
}

const float* StridedSource::panel(int64_t i0, int64_t width, int64_t k0, int64_t kc, int pad, float* scratch) const {
  for (int64_t k = 0; k < kc; ++k) {
    float* dst = scratch + k * pad;
    const float* src = data_ + (k0 + k) * stride_k_ + i0 * stride_i_;
    if (stride_i_ == 1) {
      std::memcpy(dst, src, size_t(width) * sizeof(float));
    } else {
      for (int64_t i = 0; i < width; ++i) dst[i] = src[i * stride_i_];
    }
    for (int64_t i = width; i < pad; ++i) dst[i] = 0.0f;
  }
  return scratch;
}

PackedPanels::PackedPanels(const PanelSource& source, int64_t rows, int64_t depth, int pad)
    : rows_(rows), depth_(depth), pad_(pad) {
  const int64_t panels = ceil_div(rows, pad);
  storage_.resize(size_t(panels * pad * depth));
  float* out = storage_.data();
  for (int64_t kb = 0; kb < depth; kb += kKc) {
    const int64_t kc = std::min(kKc, depth - kb);
    for (int64_t p = 0; p < panels; ++p, out += pad * kc) {
      const float* packed = source.panel(p * pad, std::min<int64_t>(pad, rows - p * pad), kb, kc, pad, out);
      if (packed != out) std::memcpy(out, packed, size_t(pad * kc) * sizeof(float));
    }
  }
}

const float* PackedPanels::panel(int64_t i0, int64_t width, int64_t k0, int64_t kc, int pad, float* scratch) const {
  const int64_t panels = ceil_div(rows_, pad_);
  const bool aligned = pad == pad_ && i0 % pad_ == 0 && k0 % kKc == 0 && kc == std::min(kKc, depth_ - k0);
  if (aligned) return storage_.data() + k0 * panels * pad_ + (i0 / pad_) * pad_ * kc;
  // Asked for another tiling (never by gemm()): repack from the stored panels.
  for (int64_t k = 0; k < kc; ++k)
    for (int64_t i = 0; i < pad; ++i) {
      const int64_t row = i0 + i, depth = k0 + k;
      float v = 0.0f;
      if (i < width && row < rows_) {
        const int64_t kb = depth / kKc * kKc, block_kc = std::min(kKc, depth_ - kb);
        v = storage_[size_t(kb * panels * pad_ + (row / pad_) * pad_ * block_kc + (depth - kb) * pad_ + row % pad_)];
      }
      scratch[k * pad + i] = v;
    }
  return scratch;
}

void gemm(int64_t M, int64_t N, int64_t K, const PanelSource& a, const PanelSource& b, float* C, int64_t ldc,
          const GemmEpilogue& epilogue, bool threaded, const MicroKernel* kernel) {
  if (M <= 0 || N <= 0) return;
  const MicroKernel& k = kernel ? *kernel : micro_kernel();
  const int64_t n_panels = ceil_div(N, k.nr), m_panels = ceil_div(M, k.mr);
  // Waking a second thread costs microseconds: not worth it for a GEMM that is that small.
  const bool tiny = double(M) * double(N) * double(K) < double(1 << 18);
  const int threads = threaded && !tiny ? thread_count() : 1;
  if (threads == 1) {
    gemm_block(0, M, 0, N, K, a, b, C, ldc, epilogue, k);
    return;
  }
  // Split the wider dimension in whole panels: each thread packs only the B columns it owns.
  if (n_panels >= 2 * threads || n_panels >= m_panels) {
    parallel_for(n_panels, [&](int, int64_t p0, int64_t p1) {
      gemm_block(0, M, p0 * k.nr, std::min(N, p1 * k.nr), K, a, b, C, ldc, epilogue, k);
    });
  } else {
    parallel_for(m_panels, [&](int, int64_t p0, int64_t p1) {
      gemm_block(p0 * k.mr, std::min(M, p1 * k.mr), 0, N, K, a, b, C, ldc, epilogue, k);
    });
  }
}

}  // namespace nnc::cpu
