// backends/cpu/ms_deform_attn_tactic.cpp — deform-attn.fused-taps: MSDeformAttn on f32 in one
// pass over the queries.
//
// For each (batch, query, head) the kernel first turns its L·P sampling points into 4·L·P taps
// (a row of value and a coefficient: attention weight × bilinear weight), then sums
// coefficient × row over all taps in 16-float blocks held in registers, and writes the head's D
// outputs once. Nothing of size L·P·D is ever stored, unlike the GridSample decomposition
// PyTorch exports (per level a sampled [B·M, D, Q, P] tensor, then a stack, a product and a
// sum). A tap outside its map points at a row of zeros with coefficient 0, the same rule as the
// reference kernel (which skips zero coefficients), so the two agree even on non-finite values.
#include <array>

#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/ms_deform_attn.h"

namespace nnc::cpu {
namespace {

// out[0, D) = Σ_t coefficient[t] · rows[t][0, D). The 16-wide inner loop vectorises into one
// AVX-512 register (two AVX2 registers) that stays live across all taps.
__attribute__((target_clones("avx512f", "avx2", "default"))) void weighted_rows(float* __restrict out,
                                                                                  const float* const* rows,
                                                                                  const float* coefficient,
                                                                                  int64_t taps, int64_t D) {
  int64_t d0 = 0;
  for (; d0 + 16 <= D; d0 += 16) {
    float acc[16] = {};
    for (int64_t t = 0; t < taps; ++t) {
      const float c = coefficient[t];
      const float* __restrict row = rows[t] + d0;
      for (int j = 0; j < 16; ++j) acc[j] += c * row[j];
    }
    for (int j = 0; j < 16; ++j) out[d0 + j] = acc[j];
  }
  for (int64_t d = d0; d < D; ++d) {
    float acc = 0;
    for (int64_t t = 0; t < taps; ++t) acc += coefficient[t] * rows[t][d];
    out[d] = acc;
  }
}

class DeformAttnKernel final : public NodeKernel {
 public:
  explicit DeformAttnKernel(DeformAttnLevels levels) : levels_(std::move(levels)) {}
  std::string_view tactic() const override { return "deform-attn.fused-taps"; }

  void run(KernelContext& k) const override {
    const Dims& vd = k.in(0).dims();
    const int64_t B = vd[0], S = vd[1], M = vd[2], D = vd[3];
    const int64_t Q = k.in(3).dims()[1], L = levels_.count(), P = k.in(3).dims()[4];
    const float* value = k.in(0).data<float>();
    const float* locations = k.in(3).data<float>();
    const float* weights = k.in(4).data<float>();
    float* out = k.out(0).data<float>();
    const std::vector<float> zeros(size_t(D), 0.0f);
    parallel_for(B * Q, [&](int, int64_t begin, int64_t end) {
      std::vector<const float*> rows(size_t(4 * L * P));
      std::vector<float> coefficient(size_t(4 * L * P));
      for (int64_t task = begin; task < end; ++task) {
        const int64_t b = task / Q;
        for (int64_t m = 0; m < M; ++m) {
          const int64_t first_point = (task * M + m) * L * P;  // [B, Q, M, L, P] flattened
          size_t tap = 0;
          for (int64_t l = 0; l < L; ++l) {
            const float* level = value + ((b * S + levels_.start[size_t(l)]) * M + m) * D;
            for (int64_t p = 0; p < P; ++p) {
              const int64_t point = first_point + l * P + p;
              int64_t pixel[4];
              double bilinear[4];
              deform_attn_taps(locations[2 * point], locations[2 * point + 1], levels_.height[size_t(l)],
                               levels_.width[size_t(l)], pixel, bilinear);
              for (int t = 0; t < 4; ++t, ++tap) {
                const float c = float(double(weights[point]) * bilinear[t]);
                coefficient[tap] = c;
                rows[tap] = c == 0 ? zeros.data() : level + pixel[t] * M * D;
              }
            }
          }
          weighted_rows(out + (task * M + m) * D, rows.data(), coefficient.data(), int64_t(tap), D);
        }
      }
    });
  }

 private:
  DeformAttnLevels levels_;
};

std::string deform_attn_rejects(const Graph& g, const Node& node) {
  for (int i : {0, 3, 4})
    if (!g.type(node.inputs[size_t(i)]).shape.fully_known()) return "shapes not known";
  if (!constant_input(g, node, 1)) return "spatial_shapes is not constant";
  if (node.has_input(2) && !constant_input(g, node, 2)) return "level_start_index is not constant";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_deform_attn(const Graph& g, const Node& node) {
  const int64_t S = g.type(node.inputs[0]).shape.concrete()[1];
  return std::make_shared<DeformAttnKernel>(
      deform_attn_levels(node, *constant_input(g, node, 1), constant_input(g, node, 2), S));
}

}  // namespace

extern const Tactic kDeformAttnFusedTaps{"deform-attn.fused-taps", OpKind::MSDeformAttn, deform_attn_rejects,
                                         prepare_deform_attn};

}  // namespace nnc::cpu
