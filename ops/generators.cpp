// ops/generators.cpp — ops that make tensors from attributes and small inputs rather than
// transforming their data. https://onnx.ai/onnx/operators/
//   Constant         (opsets 1, 9, 11, 12, 13)  the tensor in one of its value* attributes
//   ConstantOfShape  (opset 9)   the shape given by input 0, filled with `value` (f32 0)
//   Range            (opset 11)  start, start + delta, ... while before limit:
//                                ceil((limit - start) / delta) elements, at least 0
//   OneHot           (opsets 9, 11)  a new axis of size depth, `on` where the index points and
//                                `off` elsewhere; negative indices count from depth, indices
//                                outside [-depth, depth) give an all-`off` row
//   EyeLike          (opset 9)   ones on diagonal k of a 2-D shape, in `dtype` or the input's
// Shapes that come from input values (ConstantOfShape, Range, OneHot's depth) are unknown until
// those values are; sizes from untrusted values go through checked_numel before anything is
// allocated.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/op_def.h"

namespace nnc {
namespace {

// --- Constant ---------------------------------------------------------------------------------
Tensor constant_value(const Node& n) {
  int given = 0;
  for (const char* name : {"value", "sparse_value", "value_float", "value_floats", "value_int",
                           "value_ints", "value_string", "value_strings"})
    given += n.has_attr(name) ? 1 : 0;
  if (given != 1) node_error(n, "needs exactly one value attribute, got {}", given);
  if (n.has_attr("value")) return attr_tensor(n, "value");
  if (n.has_attr("value_float")) return Tensor::scalar(attr_float(n, "value_float"));
  if (n.has_attr("value_int")) return Tensor::scalar(attr_int(n, "value_int"));
  if (n.has_attr("value_floats")) {
    const std::vector<float> v = attr_floats(n, "value_floats");
    return Tensor::from_vector<float>({int64_t(v.size())}, v);
  }
  if (n.has_attr("value_ints")) {
    const std::vector<int64_t> v = attr_ints(n, "value_ints");
    return Tensor::from_vector<int64_t>({int64_t(v.size())}, v);
  }
  fail(ErrorKind::Unsupported, "{}: string and sparse constants are not supported", describe(n));
}

std::vector<TensorType> infer_constant(InferContext& c) { return {constant_value(c.node).type()}; }

void constant(KernelContext& k) {
  const Tensor value = constant_value(k.node);
  if (value.nbytes() > 0) std::memcpy(k.out(0).bytes(), value.bytes(), value.nbytes());
}

// --- ConstantOfShape --------------------------------------------------------------------------
Tensor fill_value(const Node& n) {
  if (!n.has_attr("value")) return Tensor::scalar(0.0f);
  const Tensor& value = attr_tensor(n, "value");
  if (value.numel() != 1)
    node_error(n, "attribute 'value' must hold one element, not {}", value.numel());
  return value;
}

std::vector<TensorType> infer_constant_of_shape(InferContext& c) {
  const DType dtype = fill_value(c.node).dtype();
  expect_dtype(c.node, 0, c.in(0).dtype, {DType::I64});
  const Tensor* shape = c.value(0);
  if (!shape) {
    const Shape& s = c.in(0).shape;
    if (s.rank_known && s.rank() == 1 && s.dims[0].known())
      return {{dtype, unknown_dims_of_rank(c.node, s.dims[0].value)}};
    return {{dtype, Shape::unknown_rank()}};
  }
  if (shape->rank() != 1)
    node_error(c.node, "input 0 (shape) must be 1-D, not {}", to_string(shape->dims()));
  const Dims dims = shape->to_int_vector();
  checked_numel(dims, dtype, describe(c.node));  // negative or absurd sizes
  return {{dtype, Shape(dims)}};
}

void constant_of_shape(KernelContext& k) {
  const Tensor value = fill_value(k.node);
  Tensor& y = k.out(0);
  const size_t element = dtype_size(y.dtype());
  for (int64_t i = 0; i < y.numel(); ++i)
    std::memcpy(y.bytes() + size_t(i) * element, value.bytes(), element);
}

// --- Range ------------------------------------------------------------------------------------
const Tensor& scalar_input(const Node& n, const Tensor& t, int input) {
  if (t.numel() != 1)
    node_error(n, "input {} must be a scalar, not shape {}", input, to_string(t.dims()));
  return t;
}

// Element count of the range; integers are counted exactly in 128 bits.
int64_t range_count(const Node& n, const Tensor& start, const Tensor& limit, const Tensor& delta) {
  double count;
  if (is_integer(start.dtype())) {
    const __int128 s = start.get_int(0), l = limit.get_int(0), d = delta.get_int(0);
    if (d == 0) node_error(n, "delta is 0");
    const __int128 distance = l - s;
    __int128 q = distance / d;
    if (q * d != distance && ((distance > 0) == (d > 0))) ++q;  // ceil for same signs
    count = q > 0 ? double(q) : 0;
  } else {
    const double s = start.get_double(0), l = limit.get_double(0), d = delta.get_double(0);
    if (d == 0) node_error(n, "delta is 0");
    count = std::ceil((l - s) / d);
    if (!std::isfinite(count))
      node_error(n, "range from {} to {} by {} has no finite length", s, l, d);
    count = std::max(count, 0.0);
  }
  if (count > 9e18) node_error(n, "range has {} elements, more than any tensor can hold", count);
  checked_numel({int64_t(count)}, start.dtype(), describe(n));
  return int64_t(count);
}

std::vector<TensorType> infer_range(InferContext& c) {
  const DType dtype = c.in(0).dtype;
  for (int i = 0; i < 3; ++i) {
    expect_dtype(c.node, i, c.in(i).dtype,
                 {DType::F32, DType::F64, DType::F16, DType::BF16, DType::I8, DType::I16,
                  DType::I32, DType::I64, DType::U8, DType::U16, DType::U32, DType::U64});
    if (c.in(i).dtype != dtype)
      node_error(c.node, "input {} is {} but start is {}; all three must match", i,
                 dtype_name(c.in(i).dtype), dtype_name(dtype));
  }
  if (!c.value(0) || !c.value(1) || !c.value(2)) return {{dtype, Shape({Dim()})}};
  const Tensor& start = scalar_input(c.node, *c.value(0), 0);
  const Tensor& limit = scalar_input(c.node, *c.value(1), 1);
  const Tensor& delta = scalar_input(c.node, *c.value(2), 2);
  return {{dtype, Shape(Dims{range_count(c.node, start, limit, delta)})}};
}

void range(KernelContext& k) {
  Tensor& y = k.out(0);
  visit_dtype(y.dtype(), [&]<typename T>() {
    T* out = y.data<T>();
    if constexpr (std::is_integral_v<T>) {  // exact, wrapping like the type would
      const int64_t start = k.in(0).get_int(0), delta = k.in(2).get_int(0);
      for (int64_t i = 0; i < y.numel(); ++i)
        out[i] = T(uint64_t(start) + uint64_t(i) * uint64_t(delta));
    } else {
      const double start = k.in(0).get_double(0), delta = k.in(2).get_double(0);
      for (int64_t i = 0; i < y.numel(); ++i) out[i] = from_double<T>(start + double(i) * delta);
    }
  });
}

// --- OneHot -----------------------------------------------------------------------------------
int64_t depth_of(const Node& n, const Tensor& depth) {
  if (depth.numel() != 1)
    node_error(n, "input 1 (depth) must hold one value, not {}", depth.numel());
  const double d = depth.get_double(0);
  if (!(d >= 1 && d < 9e18)) node_error(n, "depth is {}; it must be a positive count", d);
  return int64_t(d);
}

std::vector<TensorType> infer_one_hot(InferContext& c) {
  const TensorType& indices = c.in(0);
  const TensorType& values = c.in(2);
  if (values.shape.fully_known() && product(values.shape.concrete()) != 2)
    node_error(c.node, "input 2 (values) must hold [off, on], not shape {}",
               to_string(values.shape));
  if (!indices.shape.rank_known) return {{values.dtype, Shape::unknown_rank()}};
  const int rank = indices.rank() + 1;
  const int axis = normalize_axis(c.node, attr_int(c.node, "axis"), rank);
  std::vector<Dim> out = indices.shape.dims;
  out.insert(out.begin() + axis, c.value(1) ? Dim(depth_of(c.node, *c.value(1))) : Dim());
  const Shape shape(out);
  if (shape.fully_known()) checked_numel(shape.concrete(), values.dtype, describe(c.node));
  return {{values.dtype, shape}};
}

void one_hot(KernelContext& k) {
  const Tensor& indices = k.in(0);
  Tensor& y = k.out(0);
  const int axis = normalize_axis(k.node, attr_int(k.node, "axis"), indices.rank() + 1);
  const int64_t depth = depth_of(k.node, k.in(1));
  const size_t element = dtype_size(y.dtype());
  const std::byte* off = k.in(2).bytes();
  const std::byte* on = off + element;
  for (int64_t i = 0; i < y.numel(); ++i)
    std::memcpy(y.bytes() + size_t(i) * element, off, element);
  // indices = [outer..., inner...] around the new axis; out = [outer..., depth, inner...]
  const int64_t inner = product(std::span(indices.dims()).subspan(size_t(axis)));
  const std::vector<double> values = indices.to_double_vector();
  for (size_t e = 0; e < values.size(); ++e) {
    double index = std::trunc(values[e]);
    if (index < 0) index += double(depth);
    if (!(index >= 0 && index < double(depth))) continue;  // out of range: the row stays `off`
    const int64_t o = int64_t(e) / inner, i = int64_t(e) % inner;
    std::memcpy(y.bytes() + size_t((o * depth + int64_t(index)) * inner + i) * element, on,
                element);
  }
}

// --- EyeLike ----------------------------------------------------------------------------------
// ONNX TensorProto.DataType codes of the types EyeLike may produce.
DType eye_like_dtype(const Node& n, int64_t code) {
  if (const std::optional<DType> dtype = dtype_from_onnx_code(code)) return *dtype;
  node_error(n, "attribute 'dtype' is {}, not a numeric ONNX data type", code);
}

std::vector<TensorType> infer_eye_like(InferContext& c) {
  const TensorType& x = c.in(0);
  const DType dtype =
      c.node.has_attr("dtype") ? eye_like_dtype(c.node, attr_int(c.node, "dtype")) : x.dtype;
  if (x.shape.rank_known && x.rank() != 2)
    node_error(c.node, "input 0 {} must be 2-D", to_string(x));
  return {{dtype, x.shape.rank_known ? x.shape : Shape({Dim(), Dim()})}};
}

void eye_like(KernelContext& k) {
  Tensor& y = k.out(0);
  const int64_t rows = y.dims()[0], cols = y.dims()[1], diagonal = attr_int(k.node, "k");
  // The diagonal's rows, r in [max(0, −k), min(rows, cols − k)); a k beyond the matrix (any
  // int64, fuzzed up to INT64_MAX) has none, and r + k is only formed for rows on the diagonal.
  if (diagonal >= cols || diagonal <= -rows) return;
  const int64_t first = std::max<int64_t>(0, -diagonal), last = std::min<int64_t>(rows, cols - diagonal);
  visit_dtype(y.dtype(), [&]<typename T>() {
    T* out = y.data<T>();
    for (int64_t r = first; r < last; ++r) out[r * cols + r + diagonal] = from_double<T>(1.0);
  });
}

}  // namespace

extern const OpDef kConstant{
    .kind = OpKind::Constant,
    .onnx_name = "Constant",
    .min_inputs = 0,
    .max_inputs = 0,
    .attrs = {AttrSpec{.name = "value", .type = AttrType::Tensor, .optional = true},
              AttrSpec{.name = "value_float", .type = AttrType::Float, .optional = true},
              AttrSpec{.name = "value_floats", .type = AttrType::Floats, .optional = true},
              AttrSpec{.name = "value_int", .type = AttrType::Int, .optional = true},
              AttrSpec{.name = "value_ints", .type = AttrType::Ints, .optional = true},
              AttrSpec{.name = "value_string", .type = AttrType::String, .optional = true},
              AttrSpec{.name = "value_strings", .type = AttrType::Strings, .optional = true}},
    .infer = infer_constant,
    .reference = constant,
};

extern const OpDef kConstantOfShape{
    .kind = OpKind::ConstantOfShape,
    .onnx_name = "ConstantOfShape",
    .attrs = {AttrSpec{.name = "value", .type = AttrType::Tensor, .optional = true}},
    .infer = infer_constant_of_shape,
    .reference = constant_of_shape,
};

extern const OpDef kRange{.kind = OpKind::Range,
                          .onnx_name = "Range",
                          .min_inputs = 3,
                          .max_inputs = 3,
                          .infer = infer_range,
                          .reference = range};

extern const OpDef kOneHot{.kind = OpKind::OneHot,
                           .onnx_name = "OneHot",
                           .min_inputs = 3,
                           .max_inputs = 3,
                           .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{-1}}},
                           .infer = infer_one_hot,
                           .reference = one_hot};

extern const OpDef kEyeLike{
    .kind = OpKind::EyeLike,
    .onnx_name = "EyeLike",
    .attrs = {AttrSpec{.name = "dtype", .type = AttrType::Int, .optional = true},
              AttrSpec{"k", AttrType::Int, int64_t{0}}},
    .infer = infer_eye_like,
    .reference = eye_like,
};

}  // namespace nnc
