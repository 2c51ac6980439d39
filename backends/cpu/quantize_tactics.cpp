// backends/cpu/quantize_tactics.cpp — per-tensor QuantizeLinear (f32 -> u8/i8) and
// DequantizeLinear (u8/i8 -> f32), 16 values per instruction on AVX-512: what an INT8 plan runs
// wherever it crosses between f32 ops and 8-bit ones.
//
// Bit-identical to the reference kernels (ops/quantize.cpp): the quotient x / scale is an f32
// division, rounded half to even; (q − zero) · scale is exact in f32 before its one rounding,
// as the reference's double product rounded to f32 is.
#include <immintrin.h>

#include <cmath>

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"

// GCC 12's AVX-512 headers start conversions from _mm512_undefined_*(): a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace nnc::cpu {
namespace {

constexpr int64_t kChunk = 1 << 16;  // elements per task

template <bool kSigned>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void quantize_avx512(const float* x, float scale, float zero,
                                                                        void* out, int64_t n) {
  const __m512 s = _mm512_set1_ps(scale), z = _mm512_set1_ps(zero);
  const __m512 lo = _mm512_set1_ps(kSigned ? -128.0f : 0.0f), hi = _mm512_set1_ps(kSigned ? 127.0f : 255.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(mask, x + i), s);
    v = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), z);
    const __m512i q = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(v, lo), hi));
    if (kSigned) _mm_mask_storeu_epi8(static_cast<int8_t*>(out) + i, mask, _mm512_cvtsepi32_epi8(q));
    else _mm_mask_storeu_epi8(static_cast<uint8_t*>(out) + i, mask, _mm512_cvtusepi32_epi8(q));
  }
}

template <bool kSigned>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void dequantize_avx512(const void* q, float scale, int32_t zero,
                                                                          float* out, int64_t n) {
  const __m512 s = _mm512_set1_ps(scale);
  const __m512i z = _mm512_set1_epi32(zero);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    const __m128i bytes = _mm_maskz_loadu_epi8(mask, static_cast<const uint8_t*>(q) + i);
    const __m512i wide = kSigned ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
    _mm512_mask_storeu_ps(out + i, mask, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(wide, z)), s));
  }
}

template <typename Q>
void quantize_portable(const float* x, float scale, float zero, Q* out, int64_t n) {
  const float lo = float(std::numeric_limits<Q>::min()), hi = float(std::numeric_limits<Q>::max());
  for (int64_t i = 0; i < n; ++i) out[i] = Q(std::min(std::max(std::nearbyint(x[i] / scale) + zero, lo), hi));
}

template <typename Q>
void dequantize_portable(const Q* q, float scale, int32_t zero, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = float(int32_t(q[i]) - zero) * scale;
}

struct PerTensor {
  float scale;
  int32_t zero;
};

PerTensor parameters(const KernelContext& k) {
  return {float(k.in(1).get_double(0)), k.has_input(2) ? int32_t(k.in(2).get_int(0)) : 0};
}

class QuantizeKernel final : public NodeKernel {
 public:
  std::string_view tactic() const override { return "quantize.vectorised"; }
  void run(KernelContext& k) const override {
    const PerTensor p = parameters(k);
    const float* x = k.in(0).data<float>();
    const bool is_signed = k.out(0).dtype() == DType::I8;
    std::byte* out = k.out(0).bytes();
    const bool wide = cpu_info().avx512bw;
    parallel_for((k.in(0).numel() + kChunk - 1) / kChunk, [&](int, int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const int64_t first = c * kChunk, n = std::min(kChunk, k.in(0).numel() - first);
        if (wide && is_signed) quantize_avx512<true>(x + first, p.scale, float(p.zero), out + first, n);
        else if (wide) quantize_avx512<false>(x + first, p.scale, float(p.zero), out + first, n);
        else if (is_signed) quantize_portable(x + first, p.scale, float(p.zero), reinterpret_cast<int8_t*>(out) + first, n);
        else quantize_portable(x + first, p.scale, float(p.zero), reinterpret_cast<uint8_t*>(out) + first, n);
      }
    });
  }
};

class DequantizeKernel final : public NodeKernel {
 public:
  std::string_view tactic() const override { return "dequantize.vectorised"; }
  void run(KernelContext& k) const override {
    const PerTensor p = parameters(k);
    const std::byte* q = k.in(0).bytes();
    const bool is_signed = k.in(0).dtype() == DType::I8;
    float* out = k.out(0).data<float>();
    const bool wide = cpu_info().avx512bw;
    parallel_for((k.in(0).numel() + kChunk - 1) / kChunk, [&](int, int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) {
        const int64_t first = c * kChunk, n = std::min(kChunk, k.in(0).numel() - first);
        if (wide && is_signed) dequantize_avx512<true>(q + first, p.scale, p.zero, out + first, n);
        else if (wide) dequantize_avx512<false>(q + first, p.scale, p.zero, out + first, n);
        else if (is_signed) dequantize_portable(reinterpret_cast<const int8_t*>(q) + first, p.scale, p.zero, out + first, n);
        else dequantize_portable(reinterpret_cast<const uint8_t*>(q) + first, p.scale, p.zero, out + first, n);
      }
    });
  }
};

// Both: a per-tensor scale and zero point, constants, between f32 and u8/i8.
std::string per_tensor_rejects(const Graph& graph, const Node& node, DType f32_side) {
  const Tensor* scale = constant_input(graph, node, 1);
  if (!scale || scale->numel() != 1) return "scale is not a per-tensor constant";
  if (node.has_input(2) && (!constant_input(graph, node, 2) || constant_input(graph, node, 2)->numel() != 1))
    return "zero point is not a per-tensor constant";
  if (f32_side != DType::F32) return "the float side is not f32";
  const float s = float(scale->get_double(0));
  if (!(s > 0) || !std::isfinite(s)) return "scale is not positive and finite";
  return "";
}

std::string quantize_rejects(const Graph& graph, const Node& node) {
  return per_tensor_rejects(graph, node, graph.type(node.inputs[0]).dtype);
}
std::string dequantize_rejects(const Graph& graph, const Node& node) {
  const DType q = graph.type(node.inputs[0]).dtype;
  if (q != DType::U8 && q != DType::I8) return "input is not u8 or i8";
  return per_tensor_rejects(graph, node, graph.type(node.outputs[0]).dtype);
}

std::shared_ptr<const NodeKernel> prepare_quantize(const Graph&, const Node&) { return std::make_shared<QuantizeKernel>(); }
std::shared_ptr<const NodeKernel> prepare_dequantize(const Graph&, const Node&) { return std::make_shared<DequantizeKernel>(); }

}  // namespace

extern const Tactic kQuantizeVectorised{"quantize.vectorised", OpKind::QuantizeLinear, quantize_rejects, prepare_quantize};
extern const Tactic kDequantizeVectorised{"dequantize.vectorised", OpKind::DequantizeLinear, dequantize_rejects,
                                          prepare_dequantize};

}  // namespace nnc::cpu
