// backends/cpu/pool_tactics.cpp — 2-D MaxPool on NCHW f32, u8 or i8 (INT8 plans pool the
// quantized values: max commutes with a monotonic quantization), one plane per task.
//
// The window of each output row and column is clipped to the input once (padding never wins a
// max, and a ceil_mode window may overhang), so the inner loop is a plain max over valid pixels.
#include <algorithm>
#include <limits>

#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/window_geometry.h"

namespace nnc::cpu {
namespace {

struct Range {
  int64_t first, count;  // first input coordinate and number of taps (step: dilation)
};

std::vector<Range> clipped_windows(int64_t out, int64_t in, int64_t kernel, int64_t stride, int64_t dilation,
                                   int64_t pad) {
  std::vector<Range> ranges;
  for (int64_t o = 0; o < out; ++o) {
    int64_t first = o * stride - pad, count = kernel;
    while (count > 0 && first < 0) first += dilation, --count;
    while (count > 0 && first + (count - 1) * dilation >= in) --count;
    ranges.push_back({first, count});
  }
  return ranges;
}

// The common case, a 2x2 window with stride 2 over `count` whole windows of two input rows:
// out[i] = max(r0[2i], r0[2i+1], r1[2i], r1[2i+1]), vectorised per instruction set.
__attribute__((target_clones("avx512f", "avx2", "default"))) void max_2x2(const float* __restrict r0,
                                                                          const float* __restrict r1,
                                                                          float* __restrict out, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    out[i] = std::max(std::max(r0[2 * i], r0[2 * i + 1]), std::max(r1[2 * i], r1[2 * i + 1]));
}

__attribute__((target_clones("avx2", "default"))) void max_2x2(const uint8_t* __restrict r0,
                                                                           const uint8_t* __restrict r1,
                                                                           uint8_t* __restrict out, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    out[i] = std::max(std::max(r0[2 * i], r0[2 * i + 1]), std::max(r1[2 * i], r1[2 * i + 1]));
}

__attribute__((target_clones("avx2", "default"))) void max_2x2(const int8_t* __restrict r0,
                                                                           const int8_t* __restrict r1,
                                                                           int8_t* __restrict out, int64_t count) {
  for (int64_t i = 0; i < count; ++i)
    out[i] = std::max(std::max(r0[2 * i], r0[2 * i + 1]), std::max(r1[2 * i], r1[2 * i + 1]));
}

// ResNet's stem pool, 3 wide with stride 2, over a line already reduced across the window's
// rows: out[i] = max(line[2i], line[2i+1], line[2i+2]).
__attribute__((target_clones("avx512f", "avx2", "default"))) void max_3_stride_2(const float* __restrict line,
                                                                                 float* __restrict out, int64_t count) {
  for (int64_t i = 0; i < count; ++i) out[i] = std::max(std::max(line[2 * i], line[2 * i + 1]), line[2 * i + 2]);
}

template <typename T>
void max_3_stride_2(const T* line, T* out, int64_t count) {
  for (int64_t i = 0; i < count; ++i) out[i] = std::max(std::max(line[2 * i], line[2 * i + 1]), line[2 * i + 2]);
}

// line[x] = max over the rows of x, elementwise (the vertical half of a separable max).
template <typename T>
void max_rows(const T* first_row, int64_t rows, int64_t row_step, T* __restrict line, int64_t width) {
  std::copy(first_row, first_row + width, line);
  for (int64_t r = 1; r < rows; ++r) {
    const T* __restrict row = first_row + r * row_step;
    for (int64_t x = 0; x < width; ++x) line[x] = std::max(line[x], row[x]);
  }
}

class MaxPool2dKernel final : public NodeKernel {
 public:
  std::string_view tactic() const override { return "maxpool.direct-2d"; }
  void run(KernelContext& k) const override {
    switch (k.in(0).dtype()) {
      case DType::U8: return pool<uint8_t>(k);
      case DType::I8: return pool<int8_t>(k);
      default: return pool<float>(k);
    }
  }

 private:
  template <typename T>
  void pool(KernelContext& k) const {
    const Dims& in = k.in(0).dims();
    const std::vector<int64_t> kernel = attr_ints(k.node, "kernel_shape");
    const WindowGeometry g = window_geometry(k.node, {in[2], in[3]}, kernel, true);
    const std::vector<Range> rows = clipped_windows(g.output[0], in[2], kernel[0], g.stride[0], g.dilation[0], g.pad_begin[0]);
    const std::vector<Range> cols = clipped_windows(g.output[1], in[3], kernel[1], g.stride[1], g.dilation[1], g.pad_begin[1]);
    const int64_t planes = in[0] * in[1], in_plane = in[2] * in[3], out_plane = g.output[0] * g.output[1];
    const T* src = k.in(0).data<T>();
    T* dst = k.out(0).data<T>();
    const int64_t dh = g.dilation[0], dw = g.dilation[1];
    const bool pairs = kernel[0] == 2 && kernel[1] == 2 && g.stride[0] == 2 && g.stride[1] == 2 && dh == 1 && dw == 1;
    // Any other window is separable: the max over its rows first (a contiguous, vectorised
    // pass over the input row), then over its columns on that line; 3-wide stride-2 windows
    // (ResNet's stem) take a vectorised column pass too.
    const bool three_by_two = !pairs && kernel[1] == 3 && g.stride[1] == 2 && dw == 1;
    parallel_for(planes, [&](int, int64_t begin, int64_t end) {
      std::vector<T> line(pairs ? 0 : size_t(in[3]));
      for (int64_t p = begin; p < end; ++p) {
        const T* x = src + p * in_plane;
        T* y = dst + p * out_plane;
        for (int64_t oy = 0; !pairs && oy < g.output[0]; ++oy) {
          const Range r = rows[size_t(oy)];
          T* out = y + oy * g.output[1];
          const T lowest = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                                : std::numeric_limits<T>::lowest();
          if (r.count == 0) {
            std::fill(out, out + g.output[1], lowest);
            continue;
          }
          max_rows(x + r.first * in[3], r.count, dh * in[3], line.data(), in[3]);
          int64_t ox = 0;
          while (ox < g.output[1]) {
            const Range c = cols[size_t(ox)];
            if (three_by_two && c.count == 3) {  // a run of whole windows, each two columns on
              int64_t run = 1;
              while (ox + run < g.output[1] && cols[size_t(ox + run)].count == 3) ++run;
              max_3_stride_2(line.data() + c.first, out + ox, run);
              ox += run;
              continue;
            }
            T m = lowest;
            for (int64_t j = 0; j < c.count; ++j) m = std::max(m, line[size_t(c.first + j * dw)]);
            out[ox++] = m;
          }
        }
        for (int64_t oy = 0; pairs && oy < g.output[0]; ++oy) {
          const Range r = rows[size_t(oy)];
          // Leading whole 2x2 windows (all of them when unpadded) run vectorised; the rest, such
          // as a ceil_mode window clipped at the edge, take the general loop.
          int64_t ox = 0;
          if (pairs && r.count == 2) {
            while (ox < g.output[1] && cols[size_t(ox)].count == 2 && cols[size_t(ox)].first == 2 * ox) ++ox;
            const T* r0 = x + r.first * in[3];
            max_2x2(r0, r0 + in[3], y + oy * g.output[1], ox);
          }
          for (; ox < g.output[1]; ++ox) {
            const Range c = cols[size_t(ox)];
            T m = std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::lowest();
            for (int64_t i = 0; i < r.count; ++i) {
              const T* line = x + (r.first + i * dh) * in[3] + c.first;
              for (int64_t j = 0; j < c.count; ++j) m = std::max(m, line[j * dw]);
            }
            y[oy * g.output[1] + ox] = m;
          }
        }
      }
    }, /*min_chunk=*/std::max<int64_t>(1, 16384 / std::max<int64_t>(1, out_plane)));
  }
};

std::string maxpool_rejects(const Graph& graph, const Node& node) {
  const TensorType& x = graph.type(node.inputs[0]);
  if ((x.dtype != DType::F32 && x.dtype != DType::U8 && x.dtype != DType::I8) || x.rank() != 4 || !x.shape.fully_known())
    return "not a 4-D f32, u8 or i8 tensor of known shape";
  if (node.outputs.size() > 1 && node.outputs[1] != kNoValue) return "the Indices output is used";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_maxpool(const Graph&, const Node&) { return std::make_shared<MaxPool2dKernel>(); }

}  // namespace

extern const Tactic kMaxPoolDirect2d{"maxpool.direct-2d", OpKind::MaxPool, maxpool_rejects, prepare_maxpool};

}  // namespace nnc::cpu
