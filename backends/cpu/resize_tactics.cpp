// backends/cpu/resize_tactics.cpp — Resize of the two spatial axes of an NCHW f32, u8 or i8
// tensor (every U-Net decoder's upsampling; an INT8 plan upsamples its bytes), as a separable
// filter. Bytes are filtered in f32 and rounded to the nearest (ties to even), like the
// reference kernel; its double arithmetic can land on the other side of a tie, one step apart.
//
// The taps come from ops/resize.h, the same code the reference kernel uses, so every mode
// (nearest, linear, cubic, antialias, every coordinate transform but tf_crop_and_resize) is
// covered. Each input row the output needs is filtered horizontally once into a small cache,
// then the vertical taps blend cached rows: for bilinear 2x, about 3 multiply-adds per output
// instead of the reference's per-element recursion in double.
#include <immintrin.h>

#include <algorithm>

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/resize.h"

// GCC 12's AVX-512 headers start conversions from _mm512_undefined_*(): a false positive.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace nnc::cpu {
namespace {

struct AxisTaps {  // float copies of one axis's taps
  int64_t width;
  std::vector<int64_t> index;
  std::vector<float> weight;
};

AxisTaps to_float(const ResizeTaps& t) {
  return {t.width, t.index, std::vector<float>(t.weight.begin(), t.weight.end())};
}

// An axis whose taps copy each coordinate to itself (N and C when only H and W are resized).
std::vector<ResizeTaps> taps_of(const Node& node, const Dims& in, std::span<const Tensor* const> inputs) {
  auto input = [&](size_t i) { return i < inputs.size() ? inputs[i] : nullptr; };
  return resize_taps(node, in, input(1), input(2), input(3));
}

// out[x] += w · line[x], and the horizontal filter of one row, vectorised per instruction set.
__attribute__((target_clones("avx512f", "avx2", "default"))) void blend_row(float* __restrict out,
                                                                            const float* __restrict line, float w,
                                                                            int64_t width) {
  for (int64_t x = 0; x < width; ++x) out[x] += w * line[x];
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void filter_row(const float* __restrict line,
                                                                             const int64_t* __restrict index,
                                                                             const float* __restrict weight,
                                                                             int64_t taps, float* __restrict row,
                                                                             int64_t width) {
  if (taps == 2) {  // linear: the common case, without the inner loop
    for (int64_t x = 0; x < width; ++x)
      row[x] = weight[2 * x] * line[index[2 * x]] + weight[2 * x + 1] * line[index[2 * x + 1]];
    return;
  }
  for (int64_t x = 0; x < width; ++x) {
    float v = 0;
    for (int64_t j = 0; j < taps; ++j) v += weight[x * taps + j] * line[index[x * taps + j]];
    row[x] = v;
  }
}

// Bytes to f32 and back, vectorised per instruction set: a row of bytes is widened once and then
// filtered like an f32 row; results are rounded to the nearest, ties to even (adding and
// subtracting 1.5 · 2^23 leaves the rounded integer part; IEEE arithmetic does not fold it).
__attribute__((target_clones("avx512f", "avx2", "default"))) void widen(const uint8_t* __restrict in, float* __restrict out,
                                                                       int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = float(in[i]);
}
__attribute__((target_clones("avx512f", "avx2", "default"))) void widen(const int8_t* __restrict in, float* __restrict out,
                                                                       int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = float(in[i]);
}
template <bool kSigned>
__attribute__((target("avx512f,avx512bw,avx512vl"))) void narrow_avx512(const float* v, void* out, int64_t n) {
  const __m512 lo = _mm512_set1_ps(kSigned ? -128.0f : 0.0f), hi = _mm512_set1_ps(kSigned ? 127.0f : 255.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 mask = n - i >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - i)) - 1);
    const __m512 r = _mm512_roundscale_ps(_mm512_maskz_loadu_ps(mask, v + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512i q = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(r, lo), hi));
    if (kSigned) _mm_mask_storeu_epi8(static_cast<int8_t*>(out) + i, mask, _mm512_cvtsepi32_epi8(q));
    else _mm_mask_storeu_epi8(static_cast<uint8_t*>(out) + i, mask, _mm512_cvtusepi32_epi8(q));
  }
}

void narrow(const float* v, uint8_t* out, int64_t n) {
  if (cpu_info().avx512bw) return narrow_avx512<false>(v, out, n);
  for (int64_t i = 0; i < n; ++i) out[i] = uint8_t((std::min(std::max(v[i], 0.0f), 255.0f) + 12582912.0f) - 12582912.0f);
}
void narrow(const float* v, int8_t* out, int64_t n) {
  if (cpu_info().avx512bw) return narrow_avx512<true>(v, out, n);
  for (int64_t i = 0; i < n; ++i) out[i] = int8_t((std::min(std::max(v[i], -128.0f), 127.0f) + 12582912.0f) - 12582912.0f);
}

// out[x] = w0 · a[x] + w1 · b[x]: a linear resize's two vertical taps in one pass.
__attribute__((target_clones("avx512f", "avx2", "default"))) void blend_two_rows(float* __restrict out,
                                                                                 const float* __restrict a, float w0,
                                                                                 const float* __restrict b, float w1,
                                                                                 int64_t width) {
  for (int64_t x = 0; x < width; ++x) out[x] = w0 * a[x] + w1 * b[x];
}

class SeparableResizeKernel final : public NodeKernel {
 public:
  // The taps depend only on the (known) shapes and the constant scales or sizes: made once.
  SeparableResizeKernel(const ResizeTaps& rows, const ResizeTaps& cols) : rows_(to_float(rows)), cols_(to_float(cols)) {}
  std::string_view tactic() const override { return "resize.separable-2d"; }
  void run(KernelContext& k) const override {
    switch (k.in(0).dtype()) {
      case DType::U8: return resize<uint8_t>(k);
      case DType::I8: return resize<int8_t>(k);
      default: return resize<float>(k);
    }
  }

 private:
  template <typename T>
  void resize(KernelContext& k) const {
    constexpr bool kBytes = !std::is_same_v<T, float>;
    const Tensor& x = k.in(0);
    const Dims& in = x.dims();
    const AxisTaps &rows = rows_, &cols = cols_;
    const int64_t planes = in[0] * in[1], in_h = in[2], in_w = in[3];
    const int64_t out_h = int64_t(rows.index.size()) / rows.width, out_w = int64_t(cols.index.size()) / cols.width;
    const T* src = x.data<T>();
    T* dst = k.out(0).data<T>();
    parallel_for(planes * out_h, [&](int, int64_t begin, int64_t end) {
      // Horizontally filtered input rows, keyed by (plane, input row); the vertical taps of
      // consecutive output rows mostly reuse them.
      const int64_t slots = rows.width + 1;
      std::vector<float> cache(size_t(slots * out_w));
      std::vector<float> blended(kBytes ? size_t(out_w) : 0);  // bytes: the f32 row before rounding
      std::vector<float> widened(kBytes ? size_t(in_w) : 0);   // bytes: an input row in f32
      std::vector<int64_t> cached(size_t(slots), -1);
      int64_t next_slot = 0;
      // `keep`: a row the caller still holds, which must not be evicted.
      auto filtered = [&](int64_t plane, int64_t iy, const float* keep = nullptr) -> const float* {
        const int64_t key = plane * in_h + iy;
        for (int64_t s = 0; s < slots; ++s)
          if (cached[size_t(s)] == key) return cache.data() + s * out_w;
        if (cache.data() + next_slot * out_w == keep) next_slot = (next_slot + 1) % slots;
        const int64_t s = next_slot;
        next_slot = (next_slot + 1) % slots;
        cached[size_t(s)] = key;
        float* row = cache.data() + s * out_w;
        if constexpr (kBytes) {
          widen(src + key * in_w, widened.data(), in_w);
          filter_row(widened.data(), cols.index.data(), cols.weight.data(), cols.width, row, out_w);
        } else {
          filter_row(src + key * in_w, cols.index.data(), cols.weight.data(), cols.width, row, out_w);
        }
        return row;
      };
      for (int64_t r = begin; r < end; ++r) {
        const int64_t plane = r / out_h, oy = r % out_h;
        float* out = nullptr;
        if constexpr (kBytes) out = blended.data();
        else out = dst + r * out_w;
        if (rows.width == 2) {
          const int64_t at = oy * 2;
          const float* a = filtered(plane, rows.index[size_t(at)]);
          const float* b = filtered(plane, rows.index[size_t(at + 1)], a);
          blend_two_rows(out, a, rows.weight[size_t(at)], b, rows.weight[size_t(at + 1)], out_w);
        } else {
          std::fill(out, out + out_w, 0.0f);
          for (int64_t j = 0; j < rows.width; ++j) {
            const float w = rows.weight[size_t(oy * rows.width + j)];
            if (w == 0) continue;
            blend_row(out, filtered(plane, rows.index[size_t(oy * rows.width + j)]), w, out_w);
          }
        }
        if constexpr (kBytes) narrow(out, dst + r * out_w, out_w);
      }
    }, /*min_chunk=*/8);
  }

  AxisTaps rows_, cols_;
};

std::string separable_resize_rejects(const Graph& graph, const Node& node) {
  const TensorType& x = graph.type(node.inputs[0]);
  if ((x.dtype != DType::F32 && x.dtype != DType::U8 && x.dtype != DType::I8) || x.rank() != 4 || !x.shape.fully_known())
    return "not a 4-D f32, u8 or i8 tensor of known shape";
  if (attr_string(node, "coordinate_transformation_mode") == "tf_crop_and_resize") return "tf_crop_and_resize";
  std::vector<const Tensor*> inputs;
  for (int i = 0; i < node.input_count(); ++i) {
    const Tensor* t = constant_input(graph, node, i);
    if (i > 0 && node.has_input(i) && !t) return "roi, scales or sizes are computed at run time";
    inputs.push_back(t);
  }
  const Dims in = x.shape.concrete();
  const std::vector<ResizeTaps> taps = taps_of(node, in, inputs);
  if (!copies_axis(taps[0], in[0]) || !copies_axis(taps[1], in[1])) return "resizes N or C";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_separable_resize(const Graph& graph, const Node& node) {
  std::vector<const Tensor*> inputs;
  for (int i = 0; i < node.input_count(); ++i) inputs.push_back(constant_input(graph, node, i));
  const std::vector<ResizeTaps> taps = taps_of(node, graph.type(node.inputs[0]).shape.concrete(), inputs);
  return std::make_shared<SeparableResizeKernel>(taps[2], taps[3]);
}

}  // namespace

extern const Tactic kResizeSeparable2d{"resize.separable-2d", OpKind::Resize, separable_resize_rejects,
                                       prepare_separable_resize};

}  // namespace nnc::cpu
