// backends/cpu/requantize_rows.cpp — see requantize_rows.h.
#include "backends/cpu/requantize_rows.h"

#include <immintrin.h>

// GCC 12's AVX-512 intrinsic headers start conversions from _mm512_undefined_ps(), which it then
// reports as maybe-uninitialized: a known false positive of the headers, not of this file.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/tactic.h"

namespace nnc::cpu {
namespace {

// f32 arithmetic, 16 outputs at a time; the operations and their order are Requantizer::apply's.
template <bool kSigned, bool kResidualSigned>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void requantize_rows_avx512(
    const Requantizer& r, const int32_t* bias, int64_t m0, int64_t rows, const int32_t* tile, int64_t acc_stride,
    const uint8_t* residual, uint8_t* out, int64_t stride, int64_t count) {
  const __m512 residual_multiplier = _mm512_set1_ps(r.residual_multiplier);
  const __m512i residual_zero = _mm512_set1_epi32(r.residual_zero);
  const __m512 zero = _mm512_setzero_ps(), act_low = _mm512_set1_ps(r.act_low), act_high = _mm512_set1_ps(r.act_high);
  const __m512 y_zero = _mm512_set1_ps(float(r.y_zero));
  const __m512 y_low = _mm512_set1_ps(float(r.y_low)), y_high = _mm512_set1_ps(float(r.y_high));
  for (int64_t i = 0; i < rows; ++i) {
    const __m512 multiplier = _mm512_set1_ps(r.channel_multiplier(m0 + i));
    const __m512i bias_v = _mm512_set1_epi32(bias ? bias[m0 + i] : 0);
    const int32_t* acc = tile + i * acc_stride;
    const uint8_t* res = residual ? residual + i * stride : nullptr;
    uint8_t* y = out + i * stride;
    for (int64_t j = 0; j < count; j += 16) {
      const __mmask16 mask = count - j >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (count - j)) - 1);
      __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_maskz_loadu_epi32(mask, acc + j), bias_v)), multiplier);
      __m512 u = zero;
      if (res) {
        const __m128i bytes = _mm_maskz_loadu_epi8(mask, res + j);
        const __m512i wide = kResidualSigned ? _mm512_cvtepi8_epi32(bytes) : _mm512_cvtepu8_epi32(bytes);
        u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(wide, residual_zero)), residual_multiplier);
      }
      if (!r.residual_after_act) v = _mm512_add_ps(v, u);
      if (r.relu) v = _mm512_max_ps(v, zero);
      if (r.clip) v = _mm512_min_ps(_mm512_max_ps(v, act_low), act_high);
      if (r.residual_after_act) v = _mm512_add_ps(v, u);
      v = _mm512_add_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), y_zero);
      v = _mm512_min_ps(_mm512_max_ps(v, y_low), y_high);
      const __m512i q = _mm512_cvtps_epi32(v);
      if (kSigned) _mm_mask_storeu_epi8(y + j, mask, _mm512_cvtsepi32_epi8(q));
      else _mm_mask_storeu_epi8(y + j, mask, _mm512_cvtusepi32_epi8(q));
    }
  }
}

}  // namespace

std::string qconv_constants_rejects(const Graph& graph, const Node& node) {
  const TensorType& x = graph.type(node.inputs[0]);
  if (!x.shape.fully_known() || x.rank() != 4) return "not a 2-D conv with known shapes";
  const Tensor* w = constant_input(graph, node, 3);
  if (!w || w->dtype() != DType::I8 || w->rank() != 4) return "weights are not a 4-D i8 constant";
  const Tensor* w_zero = constant_input(graph, node, 5);
  if (!w_zero) return "weight zero point is not constant";
  for (int64_t i = 0; i < w_zero->numel(); ++i)
    if (w_zero->get_int(i) != 0) return "weights are not symmetric (zero point not 0)";
  for (int input : {1, 2, 4, 6, 7})
    if (!constant_input(graph, node, input)) return fmt::format("input {} is not constant", input);
  for (int input : {1, 2, 6, 7})
    if (constant_input(graph, node, input)->numel() != 1) return "x or y scale or zero point is not per tensor";
  const int64_t maps = w->dims()[0];
  for (int input : {4, 5})
    if (constant_input(graph, node, input)->numel() != 1 && constant_input(graph, node, input)->numel() != maps)
      return "weight scale or zero point is neither per tensor nor per output channel";
  if (node.has_input(8) && !constant_input(graph, node, 8)) return "bias is not constant";
  if (node.has_input(8) && constant_input(graph, node, 8)->numel() != maps) return "bias does not have one value per output channel";
  if (node.has_input(9)) {
    if (!constant_input(graph, node, 10) || constant_input(graph, node, 10)->numel() != 1 ||
        (node.has_input(11) && (!constant_input(graph, node, 11) || constant_input(graph, node, 11)->numel() != 1)))
      return "residual scale or zero point is not a per-tensor constant";
    if (graph.type(node.inputs[9]).shape != graph.type(node.outputs[0]).shape) return "residual is broadcast";
  }
  return "";
}

RowRequantizer::RowRequantizer(const Requantizer& r, bool out_signed, bool residual_signed)
    : r_(r), out_signed_(out_signed), residual_signed_(residual_signed) {
  if (!r.fixed_point && cpu_info().avx512bw)
    vectorised_ = out_signed ? (residual_signed ? requantize_rows_avx512<true, true> : requantize_rows_avx512<true, false>)
                             : (residual_signed ? requantize_rows_avx512<false, true> : requantize_rows_avx512<false, false>);
}

RowRequantizer RowRequantizer::of_qconv(const Graph& graph, const Node& node) {
  const DType y = graph.type(node.outputs[0]).dtype;
  const Requantizer r = Requantizer::of(node, float(constant_input(graph, node, 1)->get_double(0)), *constant_input(graph, node, 4),
                                        float(constant_input(graph, node, 6)->get_double(0)),
                                        int32_t(constant_input(graph, node, 7)->get_int(0)), y, constant_input(graph, node, 10),
                                        constant_input(graph, node, 11));
  return RowRequantizer(r, y == DType::I8, node.has_input(9) && graph.type(node.inputs[9]).dtype == DType::I8);
}

void RowRequantizer::run(const int32_t* bias, int64_t m0, int64_t rows, const int32_t* acc, int64_t acc_stride,
                         const uint8_t* residual, uint8_t* out, int64_t stride, int64_t count) const {
  if (vectorised_) {
    vectorised_(r_, bias, m0, rows, acc, acc_stride, residual, out, stride, count);
    return;
  }
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t m = m0 + i;
    for (int64_t j = 0; j < count; ++j) {
      const int64_t at = i * stride + j;
      const int32_t res = !residual ? 0 : residual_signed_ ? int32_t(int8_t(residual[at])) : int32_t(residual[at]);
      const int32_t q = r_.apply(acc[i * acc_stride + j] + (bias ? bias[m] : 0), m, res);
      out[at] = out_signed_ ? uint8_t(int8_t(q)) : uint8_t(q);
    }
  }
}

}  // namespace nnc::cpu
