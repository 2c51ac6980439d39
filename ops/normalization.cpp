// ops/normalization.cpp — BatchNormalization (inference), InstanceNormalization,
// LayerNormalization, GroupNormalization, LpNormalization, MeanVarianceNormalization, LRN.
// https://onnx.ai/onnx/operators/ (each op's page); opsets up to 18.
//
// All of them are "centre and/or scale over some axes": statistics are computed in double over
// contiguous lanes where the layout allows ([N, C, spatial] puts a channel's or a group's
// elements next to each other; LayerNormalization normalises the trailing dims), and through
// generic index arithmetic for MeanVarianceNormalization's arbitrary axes.
//   BatchNormalization  y = scale·(x − mean)/√(var + ε) + B per channel; training_mode=1 (batch
//                       statistics) is refused: nnc runs inference.
//   GroupNormalization  opset 18 gives scale and bias per group ([G]); nnc also accepts them
//                       per channel ([C], as opset 21 and the fuse-group-norm pass use) — the
//                       two agree when G == C, so the shape decides unambiguously.
#include <cmath>
#include <functional>
#include <span>

#include "ops/epilogue.h"
#include "ops/op_def.h"

namespace nnc {
namespace {

void expect_float(const Node& n, const TensorType& t, int input) {
  if (!is_float(t.dtype)) node_error(n, "input {} has type {}; {} takes float types", input, dtype_name(t.dtype), op_name(n.op));
}

// Normalises `count` lanes of `size` contiguous values each: y = (x − mean)·inv_std·scale + bias,
// where scale/bias for element j of lane l come from the callbacks.
template <typename T, typename Param>
void normalize_lanes(const T* x, T* y, int64_t count, int64_t size, double epsilon, bool center, Param param,
                     double* means = nullptr, double* inv_stds = nullptr) {
  for (int64_t l = 0; l < count; ++l) {
    const T* in = x + l * size;
    double mean = 0;
    if (center) {
      for (int64_t j = 0; j < size; ++j) mean += to_double(in[j]);
      mean /= double(std::max<int64_t>(size, 1));
    }
    double var = 0;
    for (int64_t j = 0; j < size; ++j) var += (to_double(in[j]) - mean) * (to_double(in[j]) - mean);
    var /= double(std::max<int64_t>(size, 1));
    const double inv_std = 1.0 / std::sqrt(var + epsilon);
    if (means) means[l] = mean;
    if (inv_stds) inv_stds[l] = inv_std;
    for (int64_t j = 0; j < size; ++j) {
      const auto [scale, bias] = param(l, j);
      y[l * size + j] = from_double<T>((to_double(in[j]) - mean) * inv_std * scale + bias);
    }
  }
}

template <typename F>
void float_types(const Node& n, DType dtype, F&& f) {
  visit_dtype(dtype, [&]<typename T>() {
    if constexpr (std::is_integral_v<T>) node_error(n, "{} takes float types", op_name(n.op));
    else f.template operator()<T>();
  });
}

// ---- BatchNormalization ------------------------------------------------------------------

std::vector<TensorType> infer_batchnorm(InferContext& c) {
  const Node& n = c.node;
  expect_float(n, c.in(0), 0);
  if (attr_int(n, "training_mode") != 0)
    fail(ErrorKind::Unsupported, "{}: training_mode=1 (batch statistics) is not supported; nnc runs inference",
         describe(n));
  if (n.has_attr("spatial") && attr_int(n, "spatial") == 0)
    fail(ErrorKind::Unsupported, "{}: spatial=0 (per-element statistics) is not supported", describe(n));
  const Shape& x = c.in(0).shape;
  if (x.rank_known && x.rank() < 2) node_error(n, "input has rank {}; BatchNormalization needs [N, C, ...]", x.rank());
  for (int i = 1; i < 5; ++i) {
    const Shape& p = c.in(i).shape;
    if (!p.rank_known || !x.rank_known) continue;
    if (p.rank() != 1) node_error(n, "input {} has shape {}; it must be [C]", i, to_string(p));
    if (p.dims[0].known() && x.dims[1].known() && p.dims[0].value != x.dims[1].value)
      node_error(n, "input {} has {} values but the input has {} channels", i, p.dims[0].value, x.dims[1].value);
  }
  std::vector<TensorType> out = {c.in(0)};
  for (size_t i = 1; i < n.outputs.size(); ++i)
    if (n.outputs[i] != kNoValue)
      fail(ErrorKind::Unsupported, "{}: output {} (running statistics) exists only in training", describe(n), i);
  return out;
}

void reference_batchnorm(KernelContext& k) {
  const Tensor& x = k.in(0);
  const int64_t batch = x.dims()[0], channels = x.dims()[1], spatial = x.numel() / std::max<int64_t>(1, batch * channels);
  const double eps = attr_float(k.node, "epsilon");
  const std::vector<double> scale = k.in(1).to_double_vector(), bias = k.in(2).to_double_vector();
  const std::vector<double> mean = k.in(3).to_double_vector(), var = k.in(4).to_double_vector();
  float_types(k.node, x.dtype(), [&]<typename T>() {
    const T* in = x.data<T>();
    T* out = k.out(0).data<T>();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t ch = 0; ch < channels; ++ch) {
        const double a = scale[size_t(ch)] / std::sqrt(var[size_t(ch)] + eps);
        const double shift = bias[size_t(ch)] - mean[size_t(ch)] * a;
        const int64_t base = (b * channels + ch) * spatial;
        for (int64_t i = 0; i < spatial; ++i) out[base + i] = from_double<T>(to_double(in[base + i]) * a + shift);
      }
  });
}

// ---- InstanceNormalization and GroupNormalization ------------------------------------------

std::vector<TensorType> infer_group(InferContext& c) {
  const Node& n = c.node;
  expect_float(n, c.in(0), 0);
  validate_epilogue(n);
  const Shape& x = c.in(0).shape;
  if (x.rank_known && x.rank() < 2) node_error(n, "input has rank {}; {} needs [N, C, ...]", x.rank(), op_name(n.op));
  const Dim channels = x.rank_known ? x.dims[1] : Dim();
  const int64_t groups = n.op == OpKind::GroupNormalization ? attr_int(n, "num_groups") : -1;
  if (n.op == OpKind::GroupNormalization) {
    if (groups < 1) node_error(n, "num_groups = {} must be at least 1", groups);
    if (channels.known() && channels.value % groups != 0)
      node_error(n, "{} channels are not divisible into num_groups={}", channels.value, groups);
  }
  for (int i = 1; i < 3; ++i) {
    const Shape& p = c.in(i).shape;
    if (!p.rank_known || !p.fully_known() || !channels.known()) continue;
    const int64_t count = p.rank() == 1 ? p.dims[0].value : -1;
    const bool ok = count == channels.value || (n.op == OpKind::GroupNormalization && count == groups);
    if (!ok)
      node_error(n, "input {} has shape {}; it must be [C] = [{}]{}", i, to_string(p), channels.value,
                 n.op == OpKind::GroupNormalization ? fmt::format(" or [num_groups] = [{}]", groups) : "");
  }
  return {c.in(0)};
}

void reference_group(KernelContext& k) {
  const Tensor& x = k.in(0);
  const int64_t batch = x.dims()[0], channels = x.dims()[1];
  const int64_t spatial = x.numel() / std::max<int64_t>(1, batch * channels);
  const int64_t groups = k.node.op == OpKind::GroupNormalization ? attr_int(k.node, "num_groups") : channels;
  const int64_t per_group = channels / groups;
  const std::vector<double> scale = k.in(1).to_double_vector(), bias = k.in(2).to_double_vector();
  const bool per_channel = int64_t(scale.size()) == channels;
  float_types(k.node, x.dtype(), [&]<typename T>() {
    normalize_lanes<T>(x.data<T>(), k.out(0).data<T>(), batch * groups, per_group * spatial,
                       attr_float(k.node, "epsilon"), true, [&](int64_t lane, int64_t j) {
                         const int64_t group = lane % groups;
                         const size_t at = size_t(per_channel ? group * per_group + j / spatial : group);
                         return std::pair{scale[at], bias[at]};
                       });
  });
  if (k.node.has_attr("act")) {  // fused by passes/fuse_activations.cpp, on f32 only
    if (x.dtype() != DType::F32) node_error(k.node, "an act epilogue needs f32, the input is {}", dtype_name(x.dtype()));
    apply_epilogue(k.node, k.out(0).data<float>(), k.out(0).numel());
  }
}

// ---- LayerNormalization ---------------------------------------------------------------------

std::vector<TensorType> infer_layernorm(InferContext& c) {
  const Node& n = c.node;
  expect_float(n, c.in(0), 0);
  const TensorType& x = c.in(0);
  if (!x.shape.rank_known) return {x, TensorType{DType::F32, Shape::unknown_rank()}, TensorType{DType::F32, Shape::unknown_rank()}};
  const int axis = normalize_axis(n, attr_int(n, "axis"), x.rank());
  // Scale and B broadcast one way onto X's normalized dims [axis:] (the kernel indexes them so;
  // found by tests/fuzz). Inference runs again on concrete shapes before every execution.
  const std::span<const Dim> normalized(x.shape.dims.begin() + axis, x.shape.dims.end());
  for (int i = 1; i < 3; ++i) {
    if (!c.has_input(i) || !c.in(i).shape.rank_known) continue;
    const Shape& p = c.in(i).shape;
    bool fits = p.rank() <= int(normalized.size());
    for (int d = 0; fits && d < p.rank(); ++d) {
      const Dim& pd = p.dims[size_t(d)];
      const Dim& xd = normalized[normalized.size() - size_t(p.rank()) + size_t(d)];
      fits = !(pd.known() && xd.known() && pd.value != 1 && pd.value != xd.value);
    }
    if (!fits)
      node_error(n, "input {} has shape {}, which does not broadcast to X's normalized dims {} (axis {})", i,
                 to_string(p), to_string(Shape(std::vector<Dim>(normalized.begin(), normalized.end()))), axis);
  }
  std::vector<Dim> stat(x.shape.dims.begin(), x.shape.dims.begin() + axis);
  stat.resize(size_t(x.rank()), Dim(1));
  const DType stash = attr_int(n, "stash_type") == 1 ? DType::F32 : x.dtype;
  return {x, TensorType{stash, Shape(stat)}, TensorType{stash, Shape(stat)}};
}

void reference_layernorm(KernelContext& k) {
  const Tensor& x = k.in(0);
  const int axis = normalize_axis(k.node, attr_int(k.node, "axis"), x.rank());
  const Dims normalized(x.dims().begin() + axis, x.dims().end());
  const int64_t size = product(normalized), lanes = x.numel() / std::max<int64_t>(1, size);
  const Tensor& scale = k.in(1);
  const Tensor* bias = k.has_input(2) ? &k.in(2) : nullptr;
  std::vector<double> means(static_cast<size_t>(lanes)), inv_stds(static_cast<size_t>(lanes));
  float_types(k.node, x.dtype(), [&]<typename T>() {
    normalize_lanes<T>(
        x.data<T>(), k.out(0).data<T>(), lanes, size, attr_float(k.node, "epsilon"), true,
        [&](int64_t, int64_t j) {
          return std::pair{scale.get_double(broadcast_index(j, normalized, scale.dims())),
                           bias ? bias->get_double(broadcast_index(j, normalized, bias->dims())) : 0.0};
        },
        means.data(), inv_stds.data());
  });
  for (int out = 1; out < 3; ++out) {
    if (int(k.outputs.size()) <= out || k.out(out).empty_storage()) continue;
    Tensor& t = k.out(out);
    const std::vector<double>& v = out == 1 ? means : inv_stds;
    visit_dtype(t.dtype(), [&]<typename T>() {
      for (int64_t l = 0; l < lanes; ++l) t.data<T>()[l] = from_double<T>(v[size_t(l)]);
    });
  }
}

// ---- LpNormalization, MeanVarianceNormalization, LRN ------------------------------------------

std::vector<TensorType> infer_same_float(InferContext& c) {
  expect_float(c.node, c.in(0), 0);
  const Node& n = c.node;
  if (n.op == OpKind::LpNormalization) {
    const int64_t p = attr_int(n, "p");
    if (p != 1 && p != 2) node_error(n, "p = {}; LpNormalization supports 1 and 2", p);
    if (c.in(0).shape.rank_known) normalize_axis(n, attr_int(n, "axis"), c.in(0).rank());
  }
  if (n.op == OpKind::LRN) {
    if (attr_int(n, "size") < 1) node_error(n, "size = {} must be at least 1", attr_int(n, "size"));
    if (c.in(0).shape.rank_known && c.in(0).rank() < 3) node_error(n, "input has rank {}; LRN needs [N, C, ...]", c.in(0).rank());
  }
  if (n.op == OpKind::MeanVarianceNormalization && c.in(0).shape.rank_known)
    for (int64_t a : attr_ints(n, "axes")) normalize_axis(n, a, c.in(0).rank());
  return {c.in(0)};
}

// Sums `f(x)` over the reduced axes into a keepdims-shaped accumulator.
std::vector<double> reduce_keepdims(const Tensor& x, const Dims& kept, const std::function<double(double, int64_t)>& f) {
  std::vector<double> acc(size_t(product(kept)), 0.0);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const int64_t r = broadcast_index(i, x.dims(), kept);
    acc[size_t(r)] += f(x.get_double(i), r);
  }
  return acc;
}

void reference_mvn(KernelContext& k) {
  const Tensor& x = k.in(0);
  std::vector<bool> reduced(size_t(x.rank()), false);
  for (int64_t a : attr_ints(k.node, "axes")) reduced[size_t(normalize_axis(k.node, a, x.rank()))] = true;
  Dims kept = x.dims();
  int64_t count = 1;
  for (size_t a = 0; a < kept.size(); ++a)
    if (reduced[a]) count *= kept[a], kept[a] = 1;
  std::vector<double> mean = reduce_keepdims(x, kept, [](double v, int64_t) { return v; });
  for (double& m : mean) m /= double(std::max<int64_t>(count, 1));
  std::vector<double> var = reduce_keepdims(x, kept, [&](double v, int64_t r) {
    return (v - mean[size_t(r)]) * (v - mean[size_t(r)]);
  });
  for (double& v : var) v /= double(std::max<int64_t>(count, 1));
  Tensor& y = k.out(0);
  float_types(k.node, x.dtype(), [&]<typename T>() {
    for (int64_t i = 0; i < x.numel(); ++i) {
      const size_t r = size_t(broadcast_index(i, x.dims(), kept));
      y.data<T>()[i] = from_double<T>((x.get_double(i) - mean[r]) / (std::sqrt(var[r]) + 1e-9));
    }
  });
}

void reference_lp(KernelContext& k) {
  const Tensor& x = k.in(0);
  const int axis = normalize_axis(k.node, attr_int(k.node, "axis"), x.rank());
  const int64_t p = attr_int(k.node, "p");
  const int64_t n = x.dims()[size_t(axis)], inner = product(std::span(x.dims()).subspan(size_t(axis) + 1));
  const int64_t outer = x.numel() / std::max<int64_t>(1, n * inner);
  float_types(k.node, x.dtype(), [&]<typename T>() {
    const T* in = x.data<T>();
    T* out = k.out(0).data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        double norm = 0;
        for (int64_t j = 0; j < n; ++j) {
          const double v = to_double(in[(o * n + j) * inner + i]);
          norm += p == 1 ? std::abs(v) : v * v;
        }
        if (p == 2) norm = std::sqrt(norm);
        for (int64_t j = 0; j < n; ++j) {
          const int64_t at = (o * n + j) * inner + i;
          out[at] = from_double<T>(norm == 0 ? 0.0 : to_double(in[at]) / norm);
        }
      }
  });
}

void reference_lrn(KernelContext& k) {
  const Tensor& x = k.in(0);
  const double alpha = attr_float(k.node, "alpha"), beta = attr_float(k.node, "beta"), bias = attr_float(k.node, "bias");
  const int64_t size = attr_int(k.node, "size");
  const int64_t batch = x.dims()[0], channels = x.dims()[1], spatial = x.numel() / std::max<int64_t>(1, batch * channels);
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  float_types(k.node, x.dtype(), [&]<typename T>() {
    const T* in = x.data<T>();
    T* out = k.out(0).data<T>();
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t c = 0; c < channels; ++c)
        for (int64_t s = 0; s < spatial; ++s) {
          double square_sum = 0;
          for (int64_t j = std::max<int64_t>(0, c - before); j <= std::min(channels - 1, c + after); ++j) {
            const double v = to_double(in[(b * channels + j) * spatial + s]);
            square_sum += v * v;
          }
          const int64_t at = (b * channels + c) * spatial + s;
          out[at] = from_double<T>(to_double(in[at]) / std::pow(bias + alpha / double(size) * square_sum, beta));
        }
  });
}

}  // namespace

extern const OpDef kBatchNormalization{
    .kind = OpKind::BatchNormalization,
    .onnx_name = "BatchNormalization",
    .min_inputs = 5,
    .max_inputs = 5,
    .max_outputs = 5,
    .attrs = {AttrSpec{"epsilon", AttrType::Float, 1e-5f}, AttrSpec{"momentum", AttrType::Float, 0.9f},
              AttrSpec{"training_mode", AttrType::Int, int64_t{0}},
              AttrSpec{.name = "spatial", .type = AttrType::Int, .optional = true},
              AttrSpec{.name = "is_test", .type = AttrType::Int, .optional = true},
              AttrSpec{.name = "consumed_inputs", .type = AttrType::Ints, .optional = true}},
    .infer = infer_batchnorm,
    .reference = reference_batchnorm};

extern const OpDef kInstanceNormalization{.kind = OpKind::InstanceNormalization,
                                          .onnx_name = "InstanceNormalization",
                                          .min_inputs = 3,
                                          .max_inputs = 3,
                                          .attrs = with_epilogue_attrs({AttrSpec{"epsilon", AttrType::Float, 1e-5f}}),
                                          .infer = infer_group,
                                          .reference = reference_group};

extern const OpDef kGroupNormalization{
    .kind = OpKind::GroupNormalization,
    .onnx_name = "GroupNormalization",
    .min_inputs = 3,
    .max_inputs = 3,
    .attrs = with_epilogue_attrs({AttrSpec{"epsilon", AttrType::Float, 1e-5f}, AttrSpec{"num_groups", AttrType::Int, std::nullopt}}),
    .infer = infer_group,
    .reference = reference_group,
    .since_opset = 18};

extern const OpDef kLayerNormalization{
    .kind = OpKind::LayerNormalization,
    .onnx_name = "LayerNormalization",
    .min_inputs = 2,
    .max_inputs = 3,
    .max_outputs = 3,
    .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{-1}}, AttrSpec{"epsilon", AttrType::Float, 1e-5f},
              AttrSpec{"stash_type", AttrType::Int, int64_t{1}}},
    .infer = infer_layernorm,
    .reference = reference_layernorm,
    .since_opset = 17};

extern const OpDef kLpNormalization{.kind = OpKind::LpNormalization,
                                    .onnx_name = "LpNormalization",
                                    .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{-1}},
                                              AttrSpec{"p", AttrType::Int, int64_t{2}}},
                                    .infer = infer_same_float,
                                    .reference = reference_lp};

extern const OpDef kMeanVarianceNormalization{
    .kind = OpKind::MeanVarianceNormalization,
    .onnx_name = "MeanVarianceNormalization",
    .attrs = {AttrSpec{"axes", AttrType::Ints, std::vector<int64_t>{0, 2, 3}}},
    .infer = infer_same_float,
    .reference = reference_mvn};

extern const OpDef kLRN{.kind = OpKind::LRN,
                        .onnx_name = "LRN",
                        .attrs = {AttrSpec{"alpha", AttrType::Float, 1e-4f}, AttrSpec{"beta", AttrType::Float, 0.75f},
                                  AttrSpec{"bias", AttrType::Float, 1.0f}, AttrSpec{"size", AttrType::Int, std::nullopt}},
                        .infer = infer_same_float,
                        .reference = reference_lrn};

}  // namespace nnc
