// ops/ms_deform_attn.cpp — MSDeformAttn: multi-scale deformable attention (Deformable DETR,
// BEVFormer). nnc's own op (domain "nnc"); shared/MODELS.md has the spec.
//
//   value               [B, S, M, D]        L feature maps, flattened and concatenated along S
//   spatial_shapes      [L, 2] int64        (H_l, W_l) of each map; S = Σ H_l·W_l
//   level_start_index   [L] int64           where each map starts along S (optional: the
//                                           running sums of H_l·W_l, checked when given)
//   sampling_locations  [B, Q, M, L, P, 2]  normalised (x, y): 0 and 1 are the maps' outer edges
//   attention_weights   [B, Q, M, L, P]
//   -> output           [B, Q, M·D]  (split_heads=1: [B, Q, M, D], TensorRT's plugin layout)
//
//   out[b, q, m, :] = Σ_l Σ_p  A[b,q,m,l,p] · bilinear(map_l of head m, x·W_l − 0.5, y·H_l − 0.5)
//
// with taps outside a map reading zero: exactly grid_sample(bilinear, zeros, align_corners=0)
// at grid 2·loc − 1, which is how PyTorch exports it (fuse-deform-attn turns that back into this
// op). Also imported from mmdeploy's MMCVMultiScaleDeformableAttention and TensorRT's
// MultiscaleDeformableAttnPlugin_TRT custom nodes (same five inputs).
#include "ops/ms_deform_attn.h"

#include "core/limits.h"
#include "ops/op_def.h"

namespace nnc {

DeformAttnLevels deform_attn_levels(const Node& n, const Tensor& shapes, const Tensor* starts, int64_t value_rows) {
  if (shapes.rank() != 2 || shapes.dims()[1] != 2)
    node_error(n, "spatial_shapes must be [L, 2] (height, width per level), got {}", to_string(shapes.dims()));
  const int64_t L = shapes.dims()[0];
  if (L < 1) node_error(n, "spatial_shapes lists no level");
  if (starts && (starts->rank() != 1 || starts->dims()[0] != L))
    node_error(n, "level_start_index must be [{}] (one start per level), got {}", L, to_string(starts->dims()));
  DeformAttnLevels levels;
  int64_t rows = 0;
  for (int64_t l = 0; l < L; ++l) {
    const int64_t H = shapes.get_int(2 * l), W = shapes.get_int(2 * l + 1);
    // Each side below 2^31 keeps H·W and the running sum far from overflowing.
    if (H < 1 || W < 1 || H > INT32_MAX || W > INT32_MAX)
      node_error(n, "level {} has spatial shape {}x{}; each side must be 1 to 2^31-1", l, H, W);
    if (starts && starts->get_int(l) != rows)
      node_error(n, "level_start_index[{}] is {} but levels 0..{} hold {} rows", l, starts->get_int(l), l - 1, rows);
    levels.height.push_back(H);
    levels.width.push_back(W);
    levels.start.push_back(rows);
    rows += H * W;
    if (rows > value_rows)
      node_error(n, "the levels hold {} rows or more, but value has S = {}", rows, value_rows);
  }
  if (rows != value_rows) node_error(n, "the levels hold {} rows (Σ H·W) but value has S = {}", rows, value_rows);
  return levels;
}

namespace {

// Two dims that name the same extent must agree when both are known.
void expect_same(const Node& n, const Dim& a, const Dim& b, std::string_view what) {
  if (a.known() && b.known() && a.value != b.value) node_error(n, "{}: {} vs {}", what, a.value, b.value);
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType &value = c.in(0), &shapes = c.in(1), &locations = c.in(3), &weights = c.in(4);
  expect_dtype(n, 0, value.dtype, {DType::F32});
  expect_dtype(n, 1, shapes.dtype, {DType::I64, DType::I32});
  if (c.has_input(2)) expect_dtype(n, 2, c.in(2).dtype, {DType::I64, DType::I32});
  expect_dtype(n, 3, locations.dtype, {DType::F32});
  expect_dtype(n, 4, weights.dtype, {DType::F32});
  const int64_t split_heads = attr_int(n, "split_heads");
  if (split_heads != 0 && split_heads != 1) node_error(n, "split_heads must be 0 or 1, got {}", split_heads);
  const int out_rank = split_heads ? 4 : 3;
  if (!value.shape.rank_known || !locations.shape.rank_known || !weights.shape.rank_known)
    return {TensorType{DType::F32, Shape(std::vector<Dim>(size_t(out_rank)))}};
  if (value.rank() != 4) node_error(n, "value must be [B, S, heads, D], got rank {}", value.rank());
  if (locations.rank() != 6) node_error(n, "sampling_locations must be [B, Q, heads, L, P, 2], got rank {}", locations.rank());
  if (weights.rank() != 5) node_error(n, "attention_weights must be [B, Q, heads, L, P], got rank {}", weights.rank());
  const std::vector<Dim>&v = value.shape.dims, &loc = locations.shape.dims, &w = weights.shape.dims;
  expect_same(n, loc[5], Dim(2), "sampling_locations' last dim must be 2 (x, y)");
  expect_same(n, v[0], loc[0], "value and sampling_locations differ in batch");
  expect_same(n, v[2], loc[2], "value and sampling_locations differ in heads");
  for (int axis = 0; axis < 5; ++axis)
    expect_same(n, loc[size_t(axis)], w[size_t(axis)],
                fmt::format("sampling_locations and attention_weights differ in dim {}", axis));
  if (shapes.shape.rank_known && shapes.rank() == 2) expect_same(n, shapes.shape.dims[0], loc[3], "spatial_shapes and sampling_locations differ in levels");
  if (const Tensor* s = c.value(1); s && v[1].known()) deform_attn_levels(n, *s, c.value(2), v[1].value);

  const Dim heads_times_d = v[2].known() && v[3].known() ? Dim(v[2].value * v[3].value) : Dim();
  std::vector<Dim> out = {loc[0], loc[1]};
  if (split_heads) out.insert(out.end(), {v[2], v[3]});
  else out.push_back(heads_times_d);
  return {TensorType{DType::F32, Shape(std::move(out))}};
}

// Plainly: every (b, q, m) accumulates its L·P weighted bilinear reads in double.
void reference(KernelContext& k) {
  const Node& n = k.node;
  const Tensor &value = k.in(0), &locations = k.in(3), &weights = k.in(4);
  const Dims& vd = value.dims();
  const int64_t B = vd[0], S = vd[1], M = vd[2], D = vd[3];
  const DeformAttnLevels levels = deform_attn_levels(n, k.in(1), k.has_input(2) ? &k.in(2) : nullptr, S);
  const int64_t Q = locations.dims()[1], L = levels.count(), P = locations.dims()[4];
  const float* v = value.data<float>();
  const float* loc = locations.data<float>();
  const float* attn = weights.data<float>();
  float* out = k.out(0).data<float>();
  std::vector<double> sum(static_cast<size_t>(D));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t q = 0; q < Q; ++q)
      for (int64_t m = 0; m < M; ++m) {
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int64_t l = 0; l < L; ++l)
          for (int64_t p = 0; p < P; ++p) {
            const int64_t point = (((b * Q + q) * M + m) * L + l) * P + p;
            int64_t pixel[4];
            double tap[4];
            deform_attn_taps(loc[2 * point], loc[2 * point + 1], levels.height[size_t(l)], levels.width[size_t(l)], pixel,
                             tap);
            for (int t = 0; t < 4; ++t) {
              const double coefficient = double(attn[point]) * tap[t];
              if (coefficient == 0) continue;  // outside the map (0 · NaN value would be NaN)
              const float* row = v + ((b * S + levels.start[size_t(l)] + pixel[t]) * M + m) * D;
              for (int64_t d = 0; d < D; ++d) sum[size_t(d)] += coefficient * double(row[d]);
            }
          }
        float* o = out + ((b * Q + q) * M + m) * D;
        for (int64_t d = 0; d < D; ++d) o[d] = float(sum[size_t(d)]);
      }
}

// mmdeploy's node carries im2col_step, a batching knob of mmcv's CUDA kernel: no meaning here.
void from_mmdeploy(Node& node) { node.erase_attr("im2col_step"); }
// TensorRT's plugin returns the heads unflattened: [B, Q, M, D].
void from_tensorrt_plugin(Node& node) { node.set_attr("split_heads", int64_t{1}); }

}  // namespace

extern const OpDef kMSDeformAttn{
    .kind = OpKind::MSDeformAttn,
    .onnx_name = "MSDeformAttn",
    .domain = "nnc",
    .min_inputs = 5,
    .max_inputs = 5,
    .attrs = {AttrSpec{"split_heads", AttrType::Int, int64_t{0}}},
    .infer = infer,
    .reference = reference,
    .foreign_names = {ForeignName{.domain = "mmdeploy", .op_type = "MMCVMultiScaleDeformableAttention", .adapt = from_mmdeploy},
                      ForeignName{.any_domain = true, .op_type = "MultiscaleDeformableAttnPlugin_TRT",
                                  .adapt = from_tensorrt_plugin}}};

}  // namespace nnc
