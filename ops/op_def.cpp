#include "ops/op_def.h"

#include "core/limits.h"

#include <algorithm>

namespace nnc {
namespace {

const AttrSpec* find_spec(const Node& n, std::string_view name) {
  for (const AttrSpec& s : op_def(n.op).attrs)
    if (s.name == name) return &s;
  return nullptr;
}

// The node's attribute, else the schema default; throws if required and missing.
const AttrValue& lookup(const Node& n, std::string_view name, AttrType expected) {
  if (const AttrValue* v = n.find_attr(name)) {
    // ONNX writers sometimes store an int where a float is expected; accept that one widening.
    if (attr_type(*v) != expected)
      node_error(n, "attribute '{}' is {} but must be {}", name, attr_type_name(attr_type(*v)),
                 attr_type_name(expected));
    return *v;
  }
  const AttrSpec* spec = find_spec(n, name);
  check_internal(spec != nullptr, "attribute read that the op's schema does not declare");
  if (!spec->default_value) node_error(n, "missing required attribute '{}'", name);
  return *spec->default_value;
}

}  // namespace

int64_t attr_int(const Node& n, std::string_view name) {
  return std::get<int64_t>(lookup(n, name, AttrType::Int));
}
float attr_float(const Node& n, std::string_view name) {
  return std::get<float>(lookup(n, name, AttrType::Float));
}
std::string attr_string(const Node& n, std::string_view name) {
  return std::get<std::string>(lookup(n, name, AttrType::String));
}
std::vector<int64_t> attr_ints(const Node& n, std::string_view name) {
  return std::get<std::vector<int64_t>>(lookup(n, name, AttrType::Ints));
}
std::vector<float> attr_floats(const Node& n, std::string_view name) {
  return std::get<std::vector<float>>(lookup(n, name, AttrType::Floats));
}
const Tensor& attr_tensor(const Node& n, std::string_view name) {
  return std::get<Tensor>(lookup(n, name, AttrType::Tensor));
}
const Graph& attr_graph(const Node& n, std::string_view name) {
  const auto& g = std::get<std::shared_ptr<Graph>>(lookup(n, name, AttrType::Graph));
  if (!g) node_error(n, "attribute '{}' has no graph", name);
  return *g;
}

int normalize_axis(const Node& n, int64_t axis, int rank) {
  if (axis < -int64_t(rank) || axis >= int64_t(rank))
    node_error(n, "axis {} is out of range for rank {} (allowed {}..{})", axis, rank, -rank, rank - 1);
  return int(axis < 0 ? axis + rank : axis);
}

Shape unknown_dims_of_rank(const Node& n, int64_t rank) {
  if (rank < 0) node_error(n, "the lengths of its inputs give its output a negative rank ({})", rank);
  if (rank > resource_limits().max_rank)
    check_limit(fmt::format("{}: the output rank its inputs declare", describe(n)), "rank", uint64_t(rank));
  return Shape(std::vector<Dim>(size_t(rank), Dim()));
}

Shape broadcast_shapes(const Node& n, std::span<const Shape> shapes) {
  int rank = 0;
  for (const Shape& s : shapes) {
    if (!s.rank_known) return Shape::unknown_rank();
    rank = std::max(rank, s.rank());
  }
  std::vector<Dim> out(size_t(rank), Dim(1));
  for (int i = 0; i < rank; ++i) {
    Dim result(1);
    bool have_symbolic = false;
    for (const Shape& s : shapes) {
      const int j = i - (rank - s.rank());
      if (j < 0) continue;
      const Dim& d = s.dims[size_t(j)];
      if (d.known()) {
        if (d.value == 1) continue;
        if (result.known() && result.value != 1 && result.value != d.value) {
          std::string all;
          for (const Shape& t : shapes) all += (all.empty() ? "" : " and ") + to_string(t);
          node_error(n, "shapes {} do not broadcast: dim {} is {} in one and {} in another", all,
                     i, result.value, d.value);
        }
        result = d;
      } else if (!result.known() || result.value == 1) {
        // A symbolic dim broadcast with 1 stays symbolic; two symbolic dims we cannot compare.
        if (!have_symbolic || d == result) result = d;
        else result = Dim();
        have_symbolic = true;
      }
    }
    out[size_t(i)] = result;
  }
  return Shape(out);
}

Dims broadcast_dims(const Node& n, std::span<const Dims> dims) {
  std::vector<Shape> shapes(dims.begin(), dims.end());
  return broadcast_shapes(n, shapes).concrete();
}

const Tensor& required_value(InferContext& c, int input, std::string_view what) {
  const Tensor* t = c.value(input);
  if (!t)
    fail(ErrorKind::Unsupported,
         "{}: input {} ({}) must be known before running (a constant, or computable from input "
         "shapes); nnc does not support data-dependent {} yet",
         describe(c.node), input, what, what);
  return *t;
}

std::vector<TensorType> same_as_input0(InferContext& c) { return {c.in(0)}; }

void expect_dtype(const Node& n, int input, DType actual, std::initializer_list<DType> allowed) {
  if (std::find(allowed.begin(), allowed.end(), actual) != allowed.end()) return;
  std::string list;
  for (DType t : allowed) list += (list.empty() ? "" : ", ") + std::string(dtype_name(t));
  node_error(n, "input {} has type {}, expected one of {}", input, dtype_name(actual), list);
}

int64_t broadcast_index(int64_t out_index, const Dims& out_dims, const Dims& in_dims) {
  const int out_rank = int(out_dims.size());
  const int in_rank = int(in_dims.size());
  int64_t in_index = 0;
  int64_t in_stride = 1;
  for (int i = out_rank - 1; i >= 0; --i) {
    const int64_t coord = out_index % out_dims[size_t(i)];
    out_index /= out_dims[size_t(i)];
    const int j = i - (out_rank - in_rank);
    if (j < 0) break;
    const int64_t d = in_dims[size_t(j)];
    if (d != 1) in_index += coord * in_stride;
    in_stride *= d;
  }
  return in_index;
}

}  // namespace nnc
