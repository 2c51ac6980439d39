// ops/deform_conv.cpp — DeformConv: deformable convolution v1/v2 (modulated), 2-D.
// ONNX opset 19. https://onnx.ai/onnx/operators/onnx__DeformConv.html
//
//   X [N, C, H, W], W [oC, C/group, kH, kW], offset [N, offset_group·kH·kW·2, oH, oW],
//   B [oC] (optional), mask [N, offset_group·kH·kW, oH, oW] (optional, default 1)
//   -> Y [N, oC, oH, oW]
//
// Like Conv, except that kernel tap (kh, kw) of output (i, j) reads X at the fractional pixel
//   h = i·stride_h − pad_top  + kh·dilation_h + Δy,   w = j·stride_w − pad_left + kw·dilation_w + Δx
// bilinearly (zero outside the image) and multiplies it by the mask. (Δy, Δx) and the mask come
// per offset group (C/offset_group consecutive channels share them): offset channel
// 2·((g·kH + kh)·kW + kw) holds Δy and the next one Δx, as torchvision.ops.deform_conv2d lays
// them out. Also imported from mmcv's (and mmdeploy's) MMCVModulatedDeformConv2d node (DCNv2 in
// BEVFormer-base and PETR's R50-DCN backbones).
#include "ops/deform_conv.h"

#include "ops/op_def.h"
#include "ops/window_geometry.h"

namespace nnc {

DeformConvGeometry deform_conv_geometry(const Node& n, const Dims& x, const Dims& w) {
  const WindowGeometry geo = window_geometry(n, {x[2], x[3]}, {w[2], w[3]}, false);
  return {x[0], x[1], x[2], x[3], w[0], w[1], w[2], w[3], geo.output[0], geo.output[1], geo.stride[0], geo.stride[1],
          geo.dilation[0], geo.dilation[1], geo.pad_begin[0], geo.pad_begin[1], attr_int(n, "group"),
          attr_int(n, "offset_group")};
}

namespace {

void expect_dim(const Node& n, const Dim& actual, int64_t expected, std::string_view what) {
  if (actual.known() && actual.value != expected) node_error(n, "{} is {} but must be {}", what, actual.value, expected);
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType &x = c.in(0), &w = c.in(1);
  for (int i = 0; i < 5; ++i)
    if (c.has_input(i)) expect_dtype(n, i, c.in(i).dtype, {DType::F32});
  const int64_t group = attr_int(n, "group"), offset_group = attr_int(n, "offset_group");
  if (group < 1 || group > (1 << 24)) node_error(n, "group = {} must be between 1 and 2^24", group);
  if (offset_group < 1 || offset_group > (1 << 24)) node_error(n, "offset_group = {} must be between 1 and 2^24", offset_group);
  if (!x.shape.rank_known || !w.shape.rank_known) return {TensorType{DType::F32, Shape(std::vector<Dim>(4))}};
  if (x.rank() != 4 || w.rank() != 4)
    node_error(n, "input and weight have ranks {} and {}; nnc's DeformConv is 2-D ([N, C, H, W])", x.rank(), w.rank());
  if (!w.shape.fully_known()) node_error(n, "the weight's shape must be known");
  const Dims wd = w.shape.concrete();
  if (wd[2] < 1 || wd[3] < 1) node_error(n, "the kernel is {}x{}; it must be at least 1x1", wd[2], wd[3]);
  if (n.has_attr("kernel_shape") && attr_ints(n, "kernel_shape") != std::vector<int64_t>{wd[2], wd[3]})
    node_error(n, "kernel_shape {} differs from the weight's {}x{}", to_string(attr_ints(n, "kernel_shape")), wd[2], wd[3]);
  if (wd[0] % group != 0) node_error(n, "weight has {} output channels, not divisible by group={}", wd[0], group);
  expect_dim(n, x.shape.dims[1], wd[1] * group, fmt::format("input channels (group={} x {} per group)", group, wd[1]));
  if (x.shape.dims[1].known() && x.shape.dims[1].value % offset_group != 0)
    node_error(n, "input has {} channels, not divisible by offset_group={}", x.shape.dims[1].value, offset_group);
  const int64_t taps = offset_group * wd[2] * wd[3];

  std::vector<Dim> out = {x.shape.dims[0], Dim(wd[0]), Dim(), Dim()};
  if (x.shape.dims[2].known() && x.shape.dims[3].known()) {
    const WindowGeometry geo = window_geometry(n, {x.shape.dims[2].value, x.shape.dims[3].value}, {wd[2], wd[3]}, false);
    out[2] = geo.output[0], out[3] = geo.output[1];
  }
  const auto check_per_position = [&](int input, int64_t channels, std::string_view what) {
    const TensorType& t = c.in(input);
    if (!t.shape.rank_known) return;
    if (t.rank() != 4) node_error(n, "{} must be [N, {}, oH, oW], got rank {}", what, channels, t.rank());
    expect_dim(n, t.shape.dims[0], x.shape.dims[0].known() ? x.shape.dims[0].value : t.shape.dims[0].value,
               fmt::format("{}'s batch", what));
    expect_dim(n, t.shape.dims[1], channels, fmt::format("{}'s channels (offset_group x kH x kW{})", what,
                                                          input == 2 ? " x 2" : ""));
    for (int axis : {2, 3})
      if (out[size_t(axis)].known())
        expect_dim(n, t.shape.dims[size_t(axis)], out[size_t(axis)].value, fmt::format("{}'s dim {}", what, axis));
  };
  check_per_position(2, 2 * taps, "offset");
  if (c.has_input(4)) check_per_position(4, taps, "mask");
  if (c.has_input(3)) {
    const TensorType& b = c.in(3);
    if (b.shape.rank_known && (b.rank() != 1 || (b.shape.dims[0].known() && b.shape.dims[0].value != wd[0])))
      node_error(n, "bias has shape {} but the weight has {} output channels", to_string(b.shape), wd[0]);
  }
  return {TensorType{DType::F32, Shape(std::move(out))}};
}

// Plainly, in double: every output sums its group's channels x kernel taps.
void reference(KernelContext& k) {
  const Tensor &x = k.in(0), &w = k.in(1), &offset = k.in(2);
  const DeformConvGeometry g = deform_conv_geometry(k.node, x.dims(), w.dims());
  const float* X = x.data<float>();
  const float* Wt = w.data<float>();
  const float* off = offset.data<float>();
  const float* mask = k.has_input(4) ? k.in(4).data<float>() : nullptr;
  const float* bias = k.has_input(3) ? k.in(3).data<float>() : nullptr;
  float* Y = k.out(0).data<float>();
  const int64_t positions = g.out_h * g.out_w, maps_per_group = g.maps / g.group;
  const int64_t channels_per_offset_group = g.channels / g.offset_group, taps = g.kernel_h * g.kernel_w;
  std::vector<double> sampled(size_t(g.channels * taps));  // one output position's deformed window
  for (int64_t b = 0; b < g.batch; ++b)
    for (int64_t i = 0; i < g.out_h; ++i)
      for (int64_t j = 0; j < g.out_w; ++j) {
        const int64_t position = i * g.out_w + j;
        for (int64_t c = 0; c < g.channels; ++c) {
          const int64_t og = c / channels_per_offset_group;
          const float* plane = X + (b * g.channels + c) * g.height * g.width;
          for (int64_t kh = 0; kh < g.kernel_h; ++kh)
            for (int64_t kw = 0; kw < g.kernel_w; ++kw) {
              const int64_t tap = (og * g.kernel_h + kh) * g.kernel_w + kw;
              const double dy = off[((b * g.offset_group * taps * 2) + 2 * tap) * positions + position];
              const double dx = off[((b * g.offset_group * taps * 2) + 2 * tap + 1) * positions + position];
              const double m = mask ? double(mask[(b * g.offset_group * taps + tap) * positions + position]) : 1.0;
              int64_t pixel[4];
              double weight[4];
              deform_conv_taps(double(i * g.stride_h - g.pad_top + kh * g.dilation_h) + dy,
                               double(j * g.stride_w - g.pad_left + kw * g.dilation_w) + dx, g.height, g.width, pixel,
                               weight);
              double v = 0;
              for (int t = 0; t < 4; ++t)
                if (weight[t] != 0) v += weight[t] * double(plane[pixel[t]]);
              sampled[size_t(c * taps + kh * g.kernel_w + kw)] = m * v;
            }
        }
        for (int64_t o = 0; o < g.maps; ++o) {
          const int64_t first = o / maps_per_group * g.channels_per_group;
          double sum = bias ? double(bias[o]) : 0.0;
          for (int64_t r = 0; r < g.channels_per_group * taps; ++r)
            sum += double(Wt[o * g.channels_per_group * taps + r]) * sampled[size_t(first * taps + r)];
          Y[(b * g.maps + o) * positions + position] = float(sum);
        }
      }
}

// mmcv's MMCVModulatedDeformConv2d: inputs (input, offset, mask, weight[, bias]) and
// stride/padding/dilation/groups/deform_groups, padding symmetric per axis.
void from_mmcv(Node& node) {
  std::vector<ValueId> in = node.inputs;
  in.resize(5, kNoValue);
  node.inputs = {in[0], in[3], in[1], in[4], in[2]};
  while (!node.inputs.empty() && node.inputs.back() == kNoValue) node.inputs.pop_back();
  const auto rename = [&](std::string_view from, std::string to) {
    if (const AttrValue* v = node.find_attr(from)) {
      AttrValue value = *v;
      node.erase_attr(from);
      node.set_attr(std::move(to), std::move(value));
    }
  };
  rename("stride", "strides");
  rename("dilation", "dilations");
  rename("groups", "group");
  rename("deform_groups", "offset_group");
  if (const AttrValue* v = node.find_attr("padding")) {
    std::vector<int64_t> pads;
    if (const auto* p = std::get_if<std::vector<int64_t>>(v); p && p->size() == 2) pads = {(*p)[0], (*p)[1], (*p)[0], (*p)[1]};
    else node_error(node, "padding must be two integers (height, width)");
    node.erase_attr("padding");
    node.set_attr("pads", std::move(pads));
  }
}

}  // namespace

extern const OpDef kDeformConv{
    .kind = OpKind::DeformConv,
    .onnx_name = "DeformConv",
    .min_inputs = 3,
    .max_inputs = 5,
    .attrs = {AttrSpec{.name = "dilations", .type = AttrType::Ints, .optional = true},
              AttrSpec{"group", AttrType::Int, int64_t{1}},
              AttrSpec{.name = "kernel_shape", .type = AttrType::Ints, .optional = true},
              AttrSpec{"offset_group", AttrType::Int, int64_t{1}},
              AttrSpec{.name = "pads", .type = AttrType::Ints, .optional = true},
              AttrSpec{.name = "strides", .type = AttrType::Ints, .optional = true}},
    .infer = infer,
    .reference = reference,
    .since_opset = 19,
    .foreign_names = {ForeignName{.domain = "mmcv", .op_type = "MMCVModulatedDeformConv2d", .adapt = from_mmcv},
                      ForeignName{.domain = "mmdeploy", .op_type = "MMCVModulatedDeformConv2d", .adapt = from_mmcv}}};

}  // namespace nnc
