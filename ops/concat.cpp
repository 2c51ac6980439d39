// ops/concat.cpp — Concat: joins inputs along `axis`; all other dims must match.
// ONNX opsets 4, 11 (negative axis), 13. https://onnx.ai/onnx/operators/onnx__Concat.html
//
// Opsets 1-3 defaulted the axis to 1; the upgrade writes that default out. Sizes along the
// axis add when known; a symbolic size there makes the sum unknown. For the other dims a known
// size beats a symbolic one (the runtime check would fail otherwise).
#include <cstring>

#include "ops/op_def.h"

namespace nnc {
namespace {

std::vector<TensorType> infer(InferContext& c) {
  const DType dtype = c.in(0).dtype;
  int rank = -1;
  for (int i = 0; i < c.input_count(); ++i) {
    if (c.in(i).dtype != dtype)
      node_error(c.node, "input {} is {} but input 0 is {}; all inputs must have one type", i,
                 dtype_name(c.in(i).dtype), dtype_name(dtype));
    if (!c.in(i).shape.rank_known) continue;
    if (rank >= 0 && c.in(i).rank() != rank)
      node_error(c.node, "input {} has rank {} but an earlier input has rank {}", i, c.in(i).rank(),
                 rank);
    rank = c.in(i).rank();
  }
  if (rank < 0) return {{dtype, Shape::unknown_rank()}};
  const int axis = normalize_axis(c.node, attr_int(c.node, "axis"), rank);

  std::vector<Dim> out(static_cast<size_t>(rank));
  int64_t axis_sum = 0;
  bool axis_known = true;
  int first = -1;  // the first input of known rank: what mismatches are reported against
  for (int i = 0; i < c.input_count(); ++i) {
    const Shape& s = c.in(i).shape;
    if (!s.rank_known) {
      axis_known = false;
      continue;
    }
    if (first < 0) first = i;
    for (int d = 0; d < rank; ++d) {
      const Dim& dim = s.dims[size_t(d)];
      if (d == axis) {
        if (dim.known())
          axis_sum += dim.value;
        else
          axis_known = false;
        continue;
      }
      Dim& o = out[size_t(d)];
      if (dim.known() && o.known() && dim.value != o.value)
        node_error(c.node, "input {} is {} but input {} is {}; only axis {} may differ", i,
                   to_string(c.in(i)), first, to_string(c.in(first)), axis);
      if (i == first || (dim.known() && !o.known())) o = dim;
    }
  }
  out[size_t(axis)] = axis_known ? Dim(axis_sum) : Dim();
  return {{dtype, Shape(out)}};
}

// For each index over the dims before the axis, copy each input's block in turn.
void reference(KernelContext& k) {
  Tensor& y = k.out(0);
  const int axis = normalize_axis(k.node, attr_int(k.node, "axis"), y.rank());
  const int64_t outer = product(std::span(y.dims()).first(size_t(axis)));
  const size_t element = dtype_size(y.dtype());
  std::byte* dst = y.bytes();
  for (int64_t o = 0; o < outer; ++o)
    for (size_t i = 0; i < k.inputs.size(); ++i) {
      const Tensor& x = k.in(int(i));
      const size_t block = size_t(product(std::span(x.dims()).subspan(size_t(axis)))) * element;
      if (block == 0) continue;
      std::memcpy(dst, x.bytes() + size_t(o) * block, block);
      dst += block;
    }
}

void upgrade(Node& n, UpgradeContext& u) {
  if (u.opset < 4 && !n.has_attr("axis")) n.set_attr("axis", int64_t{1});
}

}  // namespace

extern const OpDef kConcat{
    .kind = OpKind::Concat,
    .onnx_name = "Concat",
    .max_inputs = -1,
    // zero_copy: nnc's own (passes/eliminate_concat.cpp): the memory plan already put the inputs
    // in place, so the planned executor skips the node; the kernel below still copies when run.
    .attrs = {AttrSpec{"axis", AttrType::Int, std::nullopt}, AttrSpec{"zero_copy", AttrType::Int, int64_t{0}}},
    .infer = infer,
    .reference = reference,
    .upgrade = upgrade,
};

}  // namespace nnc
