// ops/shape_ops.cpp — ops that change only how a tensor's elements are seen, never their order:
// Identity, Dropout (inference), Reshape, Flatten, Squeeze, Unsqueeze; plus Expand (broadcast
// copy) and the shape queries Shape and Size. https://onnx.ai/onnx/operators/
//
// Opsets: Reshape 5, 13, 14 (allowzero); Squeeze/Unsqueeze 13 made `axes` an input; Dropout 12
// made `ratio` an input and added `training_mode`; Shape 15 added start/end. Older attribute
// forms become inputs in the importer (`legacy`).
//
// Shape arithmetic keeps symbolic dims where that is plainly right: Reshape's 0 copies the input
// dim, and its -1 cancels matching symbols ([N,12,64] -> [N,-1] gives [N,768]). When a shape or
// axes input is computed at run time, inference returns unknown dims instead of failing.
#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include "core/limits.h"
#include "ops/op_def.h"

namespace nnc {
namespace {

void copy_bytes(const Tensor& from, Tensor& to) {
  if (from.nbytes() > 0) std::memcpy(to.bytes(), from.bytes(), from.nbytes());
}

void copy_input0(KernelContext& k) { copy_bytes(k.in(0), k.out(0)); }

// A 1-D i64 input holding a shape or a list of axes.
std::vector<int64_t> int_list(const Node& n, int input, const Tensor& t, std::string_view what) {
  if (t.dtype() != DType::I64)
    node_error(n, "input {} ({}) must be i64, not {}", input, what, dtype_name(t.dtype()));
  if (t.rank() > 1)
    node_error(n, "input {} ({}) must be 1-D but has shape {}", input, what, to_string(t.dims()));
  return t.to_int_vector();
}

// Length of input `i`, a 1-D list of dims or axes whose values are unknown, if its type says.
// Every such list becomes (part of) a rank, so a length past the rank limit is refused here,
// which also keeps the rank arithmetic of the callers far from overflow.
std::optional<int64_t> known_length(InferContext& c, int i) {
  const TensorType& t = c.in(i);
  if (!t.shape.rank_known || t.rank() != 1 || !t.shape.dims[0].known()) return std::nullopt;
  const int64_t length = t.shape.dims[0].value;
  if (length > resource_limits().max_rank)
    check_limit(fmt::format("{}: the length of input {}, a list of dims or axes", describe(c.node), i), "rank",
                uint64_t(length));
  return length;
}


// The product of dims: a number when all are known, the one dim that is not 1 when that is
// symbolic (Flatten of [N,1] keeps N), else unknown.
Dim dim_product(std::span<const Dim> dims) {
  int64_t known = 1;
  const Dim* other = nullptr;
  int others = 0;
  for (const Dim& d : dims) {
    if (d.known())
      known *= d.value;
    else
      other = &d, ++others;
  }
  if (others == 0) return Dim(known);
  if (others == 1 && known == 1 && !other->symbol.empty()) return *other;
  return Dim();
}

// --- Identity, Dropout ------------------------------------------------------------------------
// Dropout at inference is the identity; the optional mask says every element was kept.
// Training mode drops random elements, which nnc refuses; infer sees every value at run time, so
// checking here covers a training_mode computed by the graph too.
void check_inference_mode(const Node& n, const Tensor* ratio, const Tensor* training_mode) {
  double r = 0.5;
  if (ratio) {
    if (!is_float(ratio->dtype()) || ratio->numel() != 1)
      node_error(n, "input 1 (ratio) must be one float");
    r = ratio->get_double(0);
    if (!(r >= 0 && r < 1)) node_error(n, "ratio is {}; it must be in [0, 1)", r);
  }
  if (training_mode && training_mode->numel() == 1 && training_mode->get_int(0) != 0 && r != 0)
    fail(ErrorKind::Unsupported,
         "{}: training_mode=true drops random elements; nnc only runs inference", describe(n));
}

std::vector<TensorType> infer_dropout(InferContext& c) {
  check_inference_mode(c.node, c.value(1), c.value(2));
  return {c.in(0), TensorType{DType::Bool, c.in(0).shape}};
}

void dropout(KernelContext& k) {
  copy_input0(k);
  if (k.outputs.size() > 1) std::fill_n(k.out(1).data<bool>(), k.out(1).numel(), true);
}

// --- Reshape ----------------------------------------------------------------------------------
// The -1 dim: the input's element count over the other output dims'. Symbols shared by both
// sides cancel; anything else unknown makes the result unknown.
Dim inferred_dim(const Node& n, const Shape& in, const std::vector<Dim>& out, size_t minus_one) {
  if (!in.rank_known) return Dim();
  int64_t in_count = 1;
  std::multiset<std::string> symbols;
  for (const Dim& d : in.dims) {
    if (d.known())
      in_count *= d.value;
    else if (!d.symbol.empty())
      symbols.insert(d.symbol);
    else
      return Dim();
  }
  int64_t out_count = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    const Dim& d = out[i];
    if (i == minus_one) continue;
    if (d.known()) {
      if (d.value != 0 && out_count > std::numeric_limits<int64_t>::max() / d.value)
        node_error(n, "shape {} has more elements than any tensor can", to_string(Shape(out)));
      out_count *= d.value;
    } else if (auto s = symbols.find(d.symbol); !d.symbol.empty() && s != symbols.end()) {
      symbols.erase(s);
    } else {
      return Dim();
    }
  }
  if (!symbols.empty()) {  // an input symbol is left over: [N,3] -> [-1,3] is N
    if (symbols.size() == 1 && in_count == out_count) return Dim::named(*symbols.begin());
    return Dim();
  }
  if (out_count == 0)
    node_error(n, "cannot infer the -1 in shape {}: the other dims hold 0 elements",
               to_string(Shape(out)));
  if (in_count % out_count != 0)
    node_error(n, "cannot reshape {} to {}: {} elements do not split into groups of {}",
               to_string(in), to_string(Shape(out)), in_count, out_count);
  return Dim(in_count / out_count);
}

std::vector<TensorType> infer_reshape(InferContext& c) {
  const TensorType& x = c.in(0);
  const Tensor* shape_value = c.value(1);
  if (!shape_value) {
    const auto length = known_length(c, 1);
    return {{x.dtype, length ? unknown_dims_of_rank(c.node, *length) : Shape::unknown_rank()}};
  }
  const std::vector<int64_t> target = int_list(c.node, 1, *shape_value, "shape");
  const bool allowzero = attr_int(c.node, "allowzero") != 0;
  std::vector<Dim> out;
  std::optional<size_t> minus_one;
  for (size_t i = 0; i < target.size(); ++i) {
    const int64_t t = target[i];
    if (t < -1)
      node_error(c.node, "shape [{}] has {} at position {}; entries must be >= -1",
                 fmt::join(target, ","), t, i);
    if (t == -1) {
      if (minus_one) node_error(c.node, "shape [{}] has more than one -1", fmt::join(target, ","));
      minus_one = i;
      out.push_back(Dim());
    } else if (t == 0 && !allowzero) {  // 0 copies the input's dim
      if (!x.shape.rank_known)
        out.push_back(Dim());
      else if (int64_t(i) >= x.rank())
        node_error(c.node, "shape [{}] copies dim {} (a 0) but the input {} has rank {}",
                   fmt::join(target, ","), i, to_string(x.shape), x.rank());
      else
        out.push_back(x.shape.dims[i]);
    } else {
      out.push_back(Dim(t));
    }
  }
  if (allowzero && minus_one && std::count(target.begin(), target.end(), 0) > 0)
    node_error(c.node, "shape [{}] has both 0 and -1, which allowzero=1 forbids",
               fmt::join(target, ","));
  if (minus_one) out[*minus_one] = inferred_dim(c.node, x.shape, out, *minus_one);
  const Shape result(out);
  if (result.fully_known() && x.shape.fully_known()) {
    const int64_t count = checked_numel(result.concrete(), x.dtype, describe(c.node));
    if (count != product(x.shape.concrete()))
      node_error(c.node, "cannot reshape {} ({} elements) to {} ({} elements)", to_string(x.shape),
                 product(x.shape.concrete()), to_string(result), count);
  }
  return {{x.dtype, result}};
}

// --- Flatten ----------------------------------------------------------------------------------
std::vector<TensorType> infer_flatten(InferContext& c) {
  const TensorType& x = c.in(0);
  if (!x.shape.rank_known) return {{x.dtype, unknown_dims_of_rank(c.node, 2)}};
  const int rank = x.rank();
  int64_t axis = attr_int(c.node, "axis");
  if (axis < -rank || axis > rank)
    node_error(c.node, "axis {} is out of range for rank {} (allowed {}..{})", axis, rank, -rank,
               rank);
  if (axis < 0) axis += rank;
  const std::span<const Dim> dims(x.shape.dims);
  return {{x.dtype, Shape({dim_product(dims.first(size_t(axis))),
                           dim_product(dims.subspan(size_t(axis)))})}};
}

// --- Squeeze, Unsqueeze -----------------------------------------------------------------------
std::vector<TensorType> infer_squeeze(InferContext& c) {
  const TensorType& x = c.in(0);
  if (!x.shape.rank_known) return {{x.dtype, Shape::unknown_rank()}};
  const int rank = x.rank();
  std::vector<bool> squeezed(size_t(rank), false);
  if (c.has_input(1)) {
    const Tensor* axes = c.value(1);
    if (!axes) {
      const auto length = known_length(c, 1);
      if (!length || *length > rank) return {{x.dtype, Shape::unknown_rank()}};
      return {{x.dtype, unknown_dims_of_rank(c.node, rank - *length)}};
    }
    for (int64_t a : int_list(c.node, 1, *axes, "axes")) {
      const int d = normalize_axis(c.node, a, rank);
      if (squeezed[size_t(d)]) node_error(c.node, "axis {} is listed twice in axes", a);
      const Dim& dim = x.shape.dims[size_t(d)];
      if (dim.known() && dim.value != 1)
        node_error(c.node, "cannot squeeze axis {} of {}: its size is {}, not 1", a,
                   to_string(x.shape), dim.value);
      squeezed[size_t(d)] = true;
    }
  } else {  // no axes: every dim of size 1 goes, which needs every size known
    for (int d = 0; d < rank; ++d) {
      if (!x.shape.dims[size_t(d)].known()) return {{x.dtype, Shape::unknown_rank()}};
      squeezed[size_t(d)] = x.shape.dims[size_t(d)].value == 1;
    }
  }
  std::vector<Dim> out;
  for (int d = 0; d < rank; ++d)
    if (!squeezed[size_t(d)]) out.push_back(x.shape.dims[size_t(d)]);
  return {{x.dtype, Shape(out)}};
}

std::vector<TensorType> infer_unsqueeze(InferContext& c) {
  const TensorType& x = c.in(0);
  const Tensor* axes = c.value(1);
  if (!axes) {
    const auto length = known_length(c, 1);
    if (!x.shape.rank_known || !length) return {{x.dtype, Shape::unknown_rank()}};
    return {{x.dtype, unknown_dims_of_rank(c.node, x.rank() + *length)}};
  }
  const std::vector<int64_t> list = int_list(c.node, 1, *axes, "axes");
  if (!x.shape.rank_known) return {{x.dtype, Shape::unknown_rank()}};
  const int out_rank = x.rank() + int(list.size());
  std::vector<bool> inserted(size_t(out_rank), false);
  for (int64_t a : list) {
    const int d = normalize_axis(c.node, a, out_rank);  // axes index the output
    if (inserted[size_t(d)]) node_error(c.node, "axis {} is listed twice in axes", a);
    inserted[size_t(d)] = true;
  }
  std::vector<Dim> out;
  size_t next_input_dim = 0;
  for (int d = 0; d < out_rank; ++d)
    out.push_back(inserted[size_t(d)] ? Dim(1) : x.shape.dims[next_input_dim++]);
  return {{x.dtype, Shape(out)}};
}

// --- Expand -----------------------------------------------------------------------------------
std::vector<TensorType> infer_expand(InferContext& c) {
  const TensorType& x = c.in(0);
  const Tensor* shape_value = c.value(1);
  if (!shape_value) {
    const auto length = known_length(c, 1);
    if (!x.shape.rank_known || !length) return {{x.dtype, Shape::unknown_rank()}};
    return {{x.dtype, unknown_dims_of_rank(c.node, std::max<int64_t>(x.rank(), *length))}};
  }
  const std::vector<int64_t> target = int_list(c.node, 1, *shape_value, "shape");
  for (int64_t d : target)
    if (d < 0) node_error(c.node, "shape [{}] has a negative dim", fmt::join(target, ","));
  const Shape shapes[] = {x.shape, Shape(target)};
  const Shape out = broadcast_shapes(c.node, shapes);
  if (out.fully_known()) checked_numel(out.concrete(), x.dtype, describe(c.node));
  return {{x.dtype, out}};
}

// Copies rows of the output: each row comes from one input row, either copied whole (the
// input's last dim matches) or as one repeated element (the input's last dim is 1).
template <typename Word>  // an unsigned integer as wide as the element
void expand_rows(const Tensor& x, Tensor& y) {
  const Dims& out_dims = y.dims();
  const int rank = int(out_dims.size());
  Dims in_dims(size_t(rank), 1);  // input dims aligned to the right, 1 where missing
  std::copy(x.dims().begin(), x.dims().end(), in_dims.end() - x.rank());
  const Dims in_strides = strides_of(in_dims);
  const int64_t row = rank == 0 ? 1 : out_dims.back();
  const bool whole_row = rank == 0 || in_dims.back() == row;
  const Word* in = reinterpret_cast<const Word*>(x.bytes());
  Word* out = reinterpret_cast<Word*>(y.bytes());
  std::vector<int64_t> index(size_t(std::max(rank - 1, 0)), 0);
  int64_t in_offset = 0;
  for (int64_t start = 0; start < y.numel(); start += row) {
    if (whole_row)
      std::copy_n(in + in_offset, row, out + start);
    else
      std::fill_n(out + start, row, in[in_offset]);
    for (int d = rank - 2; d >= 0; --d) {  // next row: advance the odometer over outer dims
      const int64_t step = in_dims[size_t(d)] == 1 ? 0 : in_strides[size_t(d)];
      in_offset += step;
      if (++index[size_t(d)] < out_dims[size_t(d)]) break;
      in_offset -= step * out_dims[size_t(d)];
      index[size_t(d)] = 0;
    }
  }
}

void expand(KernelContext& k) {
  visit_word(k.in(0).dtype(), [&]<typename Word>() { expand_rows<Word>(k.in(0), k.out(0)); });
}

// --- Shape, Size ------------------------------------------------------------------------------
// [start, end) of the dims Shape reports, clamped to the rank as ONNX says.
std::pair<int64_t, int64_t> shape_range(const Node& n, int rank) {
  auto clamp = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  const int64_t start = clamp(attr_int(n, "start"));
  const int64_t end = n.has_attr("end") ? clamp(attr_int(n, "end")) : rank;
  return {start, std::max(start, end)};
}

std::vector<TensorType> infer_shape(InferContext& c) {
  if (!c.in(0).shape.rank_known) return {{DType::I64, unknown_dims_of_rank(c.node, 1)}};
  const auto [start, end] = shape_range(c.node, c.in(0).rank());
  return {{DType::I64, Shape(Dims{end - start})}};
}

void shape(KernelContext& k) {
  const auto [start, end] = shape_range(k.node, k.in(0).rank());
  for (int64_t i = start; i < end; ++i)
    k.out(0).data<int64_t>()[i - start] = k.in(0).dims()[size_t(i)];
}

std::vector<TensorType> infer_size(InferContext&) { return {{DType::I64, Shape(Dims{})}}; }
void size(KernelContext& k) { k.out(0).data<int64_t>()[0] = k.in(0).numel(); }

}  // namespace

extern const OpDef kIdentity{.kind = OpKind::Identity,
                             .onnx_name = "Identity",
                             .infer = same_as_input0,
                             .reference = copy_input0};

extern const OpDef kDropout{
    .kind = OpKind::Dropout,
    .onnx_name = "Dropout",
    .max_inputs = 3,
    .max_outputs = 2,
    .attrs = {AttrSpec{.name = "seed", .type = AttrType::Int, .optional = true}},
    .infer = infer_dropout,
    .reference = dropout,
    .legacy = {{.before = 12, .attr = "ratio", .input = 1, .scalar = true}},
};

extern const OpDef kReshape{
    .kind = OpKind::Reshape,
    .onnx_name = "Reshape",
    .min_inputs = 2,
    .max_inputs = 2,
    .attrs = {AttrSpec{"allowzero", AttrType::Int, int64_t{0}}},
    .infer = infer_reshape,
    .reference = copy_input0,
    .legacy = {{.before = 5, .attr = "shape", .input = 1}},
};

extern const OpDef kFlatten{.kind = OpKind::Flatten,
                            .onnx_name = "Flatten",
                            .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{1}}},
                            .infer = infer_flatten,
                            .reference = copy_input0};

extern const OpDef kSqueeze{
    .kind = OpKind::Squeeze,
    .onnx_name = "Squeeze",
    .max_inputs = 2,
    .infer = infer_squeeze,
    .reference = copy_input0,
    .legacy = {{.before = 13, .attr = "axes", .input = 1}},
};

extern const OpDef kUnsqueeze{
    .kind = OpKind::Unsqueeze,
    .onnx_name = "Unsqueeze",
    .min_inputs = 2,
    .max_inputs = 2,
    .infer = infer_unsqueeze,
    .reference = copy_input0,
    .legacy = {{.before = 13, .attr = "axes", .input = 1}},
};

extern const OpDef kExpand{.kind = OpKind::Expand,
                           .onnx_name = "Expand",
                           .min_inputs = 2,
                           .max_inputs = 2,
                           .infer = infer_expand,
                           .reference = expand};

extern const OpDef kShape{
    .kind = OpKind::Shape,
    .onnx_name = "Shape",
    .attrs = {AttrSpec{"start", AttrType::Int, int64_t{0}},
              AttrSpec{.name = "end", .type = AttrType::Int, .optional = true}},
    .infer = infer_shape,
    .reference = shape};

extern const OpDef kSize{
    .kind = OpKind::Size, .onnx_name = "Size", .infer = infer_size, .reference = size};

}  // namespace nnc
