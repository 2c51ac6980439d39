// ops/op_def.h — what defines an op: schema, shape/type inference, reference kernel.
//
// One op (or one family of ops differing only in a scalar function) lives in one ops/*.cpp
// file that ends with `extern const OpDef kName{...}` and is listed in ops/all_ops.cpp.
//
//   infer(InferContext&)       output types from input types, attributes and, where known,
//                              input values (constants at compile time, everything at run
//                              time). Throws BadInput naming the node on a mismatch.
//   reference(KernelContext&)  the plainly right CPU kernel. Outputs arrive allocated with the
//                              shapes infer() returned; kernels never allocate outputs.
//
// ONNX's older opsets are mapped onto the newest form by the importer, using `legacy` (an
// attribute that later opsets made an input) and `upgrade` (anything else), so kernels only
// know one semantics.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/graph.h"

namespace nnc {

struct AttrSpec {
  std::string_view name;
  AttrType type;
  std::optional<AttrValue> default_value;  // nullopt: required, unless `optional` is set
  bool optional = false;                   // may be absent with no default (e.g. Conv pads)
};

// "Before opset `before`, attribute `attr` was input `input`": the importer turns the
// attribute into a constant input so kernels see only the newer form.
struct LegacyAttr {
  int before;
  std::string_view attr;
  int input;
  bool scalar = false;          // a scalar input (Clip min/max, Pad value), else 1-D
  bool like_input0 = false;     // the constant takes input 0's dtype (else i64 / f32)
};

struct InferContext {
  const Node& node;
  std::span<const TensorType> inputs;   // one per node input; omitted optionals are default
  std::span<const Tensor* const> values;  // known input values or nullptr
  int opset = 17;

  int input_count() const { return node.input_count(); }
  bool has_input(int i) const { return node.has_input(i); }
  const TensorType& in(int i) const { return inputs[size_t(i)]; }
  const Tensor* value(int i) const {  // nullptr when unknown or absent
    return has_input(i) ? values[size_t(i)] : nullptr;
  }
};

// Runs a subgraph (If/Loop bodies) with the given inputs; values captured from enclosing
// graphs are found by name by the interpreter.
using SubgraphRunner = std::function<std::vector<Tensor>(const Graph&, const std::vector<Tensor>&)>;

struct KernelContext {
  const Node& node;
  std::span<const Tensor* const> inputs;  // nullptr for omitted optional inputs
  std::span<Tensor> outputs;              // allocated by the caller from infer()'s shapes
  const SubgraphRunner* run_subgraph = nullptr;

  bool has_input(int i) const { return i < int(inputs.size()) && inputs[size_t(i)] != nullptr; }
  const Tensor& in(int i) const { return *inputs[size_t(i)]; }
  Tensor& out(int i) { return outputs[size_t(i)]; }
};

using InferFn = std::vector<TensorType> (*)(InferContext&);
using ReferenceFn = void (*)(KernelContext&);
// Rewrites an old-opset node in place into the form the kernels expect (rare; most ops use
// `legacy`). `add_const` makes a constant value the node can take as an input.
struct UpgradeContext {
  int opset;
  std::function<ValueId(Tensor)> add_const;
};
using UpgradeFn = void (*)(Node&, UpgradeContext&);

// Another ecosystem's name for an op (a custom-op node that mmdeploy or a TensorRT plugin
// writes): the importer maps a node of that (domain, op_type) onto the op, then calls `adapt`
// to turn its attributes into the op's own.
struct ForeignName {
  std::string_view domain;
  bool any_domain = false;  // exporters put plugin nodes in whatever domain they like
  std::string_view op_type;
  void (*adapt)(Node&) = nullptr;
};

struct OpDef {
  OpKind kind;
  std::string_view onnx_name;        // op_type in ONNX
  std::string_view domain = "";      // "" is ai.onnx
  int min_inputs = 1;
  int max_inputs = 1;                // -1: variadic
  int min_outputs = 1;
  int max_outputs = 1;
  std::vector<AttrSpec> attrs;
  InferFn infer = nullptr;
  ReferenceFn reference = nullptr;
  std::vector<LegacyAttr> legacy;
  UpgradeFn upgrade = nullptr;
  int since_opset = 1;  // the importer refuses nodes from older opsets than this
  // The kernel assigns k.out(i) itself (If, Loop: output shapes are known only after running
  // the body). Everyone else gets outputs allocated from infer().
  bool allocates_outputs = false;
  std::vector<ForeignName> foreign_names;
};

const OpDef& op_def(OpKind kind);
const OpDef* find_onnx_op(std::string_view domain, std::string_view onnx_name);
// The op an ONNX node of another ecosystem's custom domain stands for (OpDef::foreign_names),
// with the name entry that matched; {nullptr, nullptr} if none.
std::pair<const OpDef*, const ForeignName*> find_foreign_op(std::string_view domain, std::string_view op_type);
std::span<const OpDef* const> all_op_defs();

// --- attribute access with the schema's defaults -------------------------------------------
// Missing required attributes and wrong types throw BadInput naming the node.
int64_t attr_int(const Node& n, std::string_view name);
float attr_float(const Node& n, std::string_view name);
std::string attr_string(const Node& n, std::string_view name);
std::vector<int64_t> attr_ints(const Node& n, std::string_view name);
std::vector<float> attr_floats(const Node& n, std::string_view name);
const Tensor& attr_tensor(const Node& n, std::string_view name);
const Graph& attr_graph(const Node& n, std::string_view name);

// --- helpers shared by many ops -------------------------------------------------------------
// Throws BadInput prefixed with describe(node).
template <typename... Args>
[[noreturn]] void node_error(const Node& n, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(ErrorKind::BadInput,
              describe(n) + ": " + fmt::format(format, std::forward<Args>(args)...));
}

// Normalises a possibly negative axis against `rank`; throws naming the node if out of range.
int normalize_axis(const Node& n, int64_t axis, int rank);
// Numpy-style broadcast of several shapes (symbolic dims allowed); throws naming the node.
Shape broadcast_shapes(const Node& n, std::span<const Shape> shapes);
// Rank `rank`, every dim unknown: for an output whose rank comes from the declared length of a
// shape-like input. That length is the file's word, so it is checked (not negative, within the
// rank limit of core/limits.h) before anything is allocated for it.
Shape unknown_dims_of_rank(const Node& n, int64_t rank);
Dims broadcast_dims(const Node& n, std::span<const Dims> dims);
// The shape of a concrete-valued input: requires the value (throws naming the node otherwise).
const Tensor& required_value(InferContext& c, int input, std::string_view what);
// Output types must be concrete when all inputs are; helper for "same as input 0".
std::vector<TensorType> same_as_input0(InferContext& c);
// Checks an input's dtype is one of `allowed`, naming the node and input otherwise.
void expect_dtype(const Node& n, int input, DType actual, std::initializer_list<DType> allowed);
// Index of element `out_index` (row-major in out_dims) in a tensor of `in_dims` broadcast to
// out_dims.
int64_t broadcast_index(int64_t out_index, const Dims& out_dims, const Dims& in_dims);

}  // namespace nnc
