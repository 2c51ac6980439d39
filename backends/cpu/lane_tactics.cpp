// backends/cpu/lane_tactics.cpp — the transformer's per-row ops on f32, each row (lane) one
// vectorised pass or two, lanes split across the pool:
//   softmax.lanes    Softmax / LogSoftmax over a contiguous axis (the last, or coerce_2d's
//                    flattened tail): max, then e^(x - max) (ops/fast_math.h) summed in float
//                    per row (rows are attention rows of hundreds to thousands of keys), then
//                    one scale (or, for LogSoftmax, one shift by max + log sum).
//   layernorm.lanes  LayerNormalization with constant scale and bias of the normalised size:
//                    mean, then variance from squared deviations (two passes, as the reference
//                    kernel), then y = (x - mean) · inv_std · scale + bias in one pass. The
//                    optional mean / inv_std outputs are left to the reference kernel.
#include <cmath>

#include "backends/cpu/row_math.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/fast_math.h"

namespace nnc::cpu {
namespace {

#define NNC_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

NNC_CLONES void exp_shifted(const float* __restrict x, float* __restrict y, int64_t n, float shift) {
  for (int64_t i = 0; i < n; ++i) y[i] = exp_vectorisable(x[i] - shift);
}

NNC_CLONES void scale_row(float* y, int64_t n, float a) {
  for (int64_t i = 0; i < n; ++i) y[i] *= a;
}

NNC_CLONES void shift_row(const float* __restrict x, float* __restrict y, int64_t n, float b) {
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] - b;
}

NNC_CLONES void normalise_row(const float* __restrict x, float* __restrict y, int64_t n, float mean, float inv_std,
                              const float* __restrict scale, const float* __restrict bias) {
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv_std * scale[i] + bias[i];
}

#undef NNC_CLONES

// Rows of `n` elements: a few per task, so that short rows do not each wake the pool.
int64_t rows_per_task(int64_t n) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n)); }

class SoftmaxKernel final : public NodeKernel {
 public:
  SoftmaxKernel(int64_t row, bool log) : row_(row), log_(log) {}
  std::string_view tactic() const override { return "softmax.lanes"; }
  void run(KernelContext& k) const override {
    const float* x = k.in(0).data<float>();
    float* y = k.out(0).data<float>();
    const int64_t n = row_;
    parallel_for(k.in(0).numel() / n, [&](int, int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float* in = x + r * n;
        float* out = y + r * n;
        const float max = row_max(in, n);
        exp_shifted(in, out, n, max);  // for LogSoftmax only their sum is kept
        const float sum = row_sum(out, n);
        if (log_) {
          shift_row(in, out, n, max + std::log(sum));
        } else {
          scale_row(out, n, 1.0f / sum);
        }
      }
    }, rows_per_task(n));
  }

 private:
  int64_t row_;
  bool log_;
};

// The contiguous run of elements one softmax covers, or 0 when the axis is not innermost.
int64_t softmax_row(const Graph& g, const Node& node) {
  const Dims dims = g.type(node.inputs[0]).shape.concrete();
  if (dims.empty()) return 0;
  const int64_t rank = int64_t(dims.size());
  int64_t axis = node.has_attr("axis") ? attr_int(node, "axis") : -1;
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return 0;
  int64_t tail = 1;
  for (int64_t d = axis + 1; d < rank; ++d) tail *= dims[size_t(d)];
  if (attr_int(node, "coerce_2d")) return tail * dims[size_t(axis)];
  return tail == 1 ? dims[size_t(axis)] : 0;
}

std::string softmax_rejects(const Graph& g, const Node& node) {
  const TensorType& x = g.type(node.inputs[0]);
  if (x.dtype != DType::F32 || !x.shape.fully_known()) return "not f32 with a known shape";
  if (product(x.shape.concrete()) == 0) return "empty";
  if (softmax_row(g, node) == 0) return "the axis is not the innermost";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_softmax(const Graph& g, const Node& node) {
  return std::make_shared<SoftmaxKernel>(softmax_row(g, node), node.op == OpKind::LogSoftmax);
}

class LayerNormKernel final : public NodeKernel {
 public:
  LayerNormKernel(std::vector<float> scale, std::vector<float> bias) : scale_(std::move(scale)), bias_(std::move(bias)) {}
  std::string_view tactic() const override { return "layernorm.lanes"; }
  void run(KernelContext& k) const override {
    const float* x = k.in(0).data<float>();
    float* y = k.out(0).data<float>();
    const int64_t n = int64_t(scale_.size());
    const float eps = attr_float(k.node, "epsilon");
    parallel_for(k.in(0).numel() / n, [&](int, int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float* in = x + r * n;
        const float mean = row_sum(in, n) / float(n);
        const float variance = row_squared_deviation(in, n, mean) / float(n);
        normalise_row(in, y + r * n, n, mean, 1.0f / std::sqrt(variance + eps), scale_.data(), bias_.data());
      }
    }, rows_per_task(n));
  }

 private:
  std::vector<float> scale_, bias_;
};

// The number of elements LayerNormalization normalises together (the dims from `axis` on).
int64_t layernorm_size(const Graph& g, const Node& node) {
  const Dims dims = g.type(node.inputs[0]).shape.concrete();
  int64_t axis = attr_int(node, "axis");
  if (axis < 0) axis += int64_t(dims.size());
  int64_t size = 1;
  for (size_t d = size_t(std::max<int64_t>(axis, 0)); d < dims.size(); ++d) size *= dims[d];
  return size;
}

std::string layernorm_rejects(const Graph& g, const Node& node) {
  const TensorType& x = g.type(node.inputs[0]);
  if (x.dtype != DType::F32 || !x.shape.fully_known() || x.rank() == 0) return "not f32 with a known shape";
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (node.outputs[i] != kNoValue) return "the mean / inv_std outputs are read";
  const int64_t size = layernorm_size(g, node);
  if (size == 0) return "empty";
  const Tensor* scale = constant_input(g, node, 1);
  const Tensor* bias = constant_input(g, node, 2);
  if (!scale || (node.has_input(2) && !bias)) return "scale or bias is not constant";
  if (scale->numel() != size || (bias && bias->numel() != size)) return "scale or bias broadcasts";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_layernorm(const Graph& g, const Node& node) {
  const std::vector<double> scale = constant_input(g, node, 1)->to_double_vector();
  std::vector<float> bias(scale.size(), 0.0f);
  if (const Tensor* b = constant_input(g, node, 2)) {
    const std::vector<double> v = b->to_double_vector();
    bias.assign(v.begin(), v.end());
  }
  return std::make_shared<LayerNormKernel>(std::vector<float>(scale.begin(), scale.end()), std::move(bias));
}

}  // namespace

extern const Tactic kSoftmaxLanes{"softmax.lanes", OpKind::Softmax, softmax_rejects, prepare_softmax};
extern const Tactic kLogSoftmaxLanes{"softmax.lanes", OpKind::LogSoftmax, softmax_rejects, prepare_softmax};
extern const Tactic kLayerNormLanes{"layernorm.lanes", OpKind::LayerNormalization, layernorm_rejects, prepare_layernorm};

}  // namespace nnc::cpu
