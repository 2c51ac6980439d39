// ops/control_flow.cpp — If and Loop: run a subgraph attribute with the interpreter.
//
// Output shapes are known only after the chosen branch or the iterations ran, so both kernels
// allocate their outputs (OpDef::allocates_outputs). Values the bodies read from enclosing
// graphs are found by name (ops/interpreter.cpp keeps them alive until the node ran).
// ONNX: If opsets 1, 11, 13, 16; Loop opsets 1, 11, 13, 16. Sequence- and optional-typed
// values (opset 16's additions) are not supported: the importer refuses them.
#include "core/limits.h"
#include "ops/op_def.h"

namespace nnc {
namespace {


bool truth(const Node& n, const Tensor& cond) {
  if (cond.numel() != 1) node_error(n, "condition must hold one element, has shape {}", to_string(cond.dims()));
  return cond.get_int(0) != 0;
}

// Output types of a branch, used when the condition is not known before running.
std::vector<TensorType> branch_types(const Graph& g) {
  std::vector<TensorType> out;
  for (ValueId id : g.outputs) out.push_back(g.type(id));
  return out;
}

std::vector<TensorType> infer_if(InferContext& c) {
  const Graph& then_branch = attr_graph(c.node, "then_branch");
  const Graph& else_branch = attr_graph(c.node, "else_branch");
  if (then_branch.outputs.size() != else_branch.outputs.size() || then_branch.outputs.size() < c.node.outputs.size())
    node_error(c.node, "then_branch returns {} values and else_branch {}, but the node has {} outputs",
               then_branch.outputs.size(), else_branch.outputs.size(), c.node.outputs.size());
  if (const Tensor* cond = c.value(0)) return branch_types(truth(c.node, *cond) ? then_branch : else_branch);
  std::vector<TensorType> out = branch_types(then_branch);
  const std::vector<TensorType> other = branch_types(else_branch);
  for (size_t i = 0; i < out.size(); ++i)
    if (!(out[i].shape == other[i].shape)) out[i].shape = Shape::unknown_rank();
  return out;
}

void run_if(KernelContext& k) {
  const Graph& branch = attr_graph(k.node, truth(k.node, k.in(0)) ? "then_branch" : "else_branch");
  std::vector<Tensor> results = (*k.run_subgraph)(branch, {});
  for (size_t i = 0; i < k.outputs.size(); ++i) k.out(int(i)) = std::move(results[i]);
}

// Loop(M?, cond?, v_initial...) with body(iteration, cond, v...) -> (cond, v..., scan...).
std::vector<TensorType> infer_loop(InferContext& c) {
  const Graph& body = attr_graph(c.node, "body");
  const size_t carried = c.node.inputs.size() - 2;
  if (body.inputs.size() != carried + 2)
    node_error(c.node, "body takes {} inputs but the loop carries {} values (+ iteration and condition)",
               body.inputs.size(), carried);
  if (body.outputs.size() < carried + 1)
    node_error(c.node, "body returns {} values but must return the condition and {} carried values",
               body.outputs.size(), carried);
  std::vector<TensorType> out;
  for (size_t i = 0; i < carried; ++i) out.push_back(c.in(int(i) + 2));
  for (size_t i = carried + 1; i < body.outputs.size(); ++i) {
    TensorType t = body.type(body.outputs[i]);
    if (t.shape.rank_known) t.shape.dims.insert(t.shape.dims.begin(), Dim());  // one row per iteration
    out.push_back(t);
  }
  return out;
}

void run_loop(KernelContext& k) {
  const Graph& body = attr_graph(k.node, "body");
  // A Loop without a trip count, or with an absurd one, stops at the loop-iterations limit.
  const int64_t max_iterations = resource_limits().max_loop_iterations;
  const int64_t max_trips = k.has_input(0) ? k.in(0).get_int(0) : max_iterations;
  bool cond = k.has_input(1) ? truth(k.node, k.in(1)) : true;
  const size_t carried = k.node.inputs.size() - 2;
  std::vector<Tensor> values;
  for (size_t i = 0; i < carried; ++i) values.push_back(k.in(int(i) + 2));
  const size_t scans = body.outputs.size() - 1 - carried;
  std::vector<std::vector<Tensor>> scan_rows(scans);

  int64_t i = 0;
  for (; i < max_trips && cond; ++i) {
    if (i >= max_iterations)
      check_limit(fmt::format("{}: the iteration count", describe(k.node)), "loop iterations", uint64_t(i) + 1);
    std::vector<Tensor> args{Tensor::scalar<int64_t>(i), Tensor::scalar<bool>(cond)};
    args.insert(args.end(), values.begin(), values.end());
    std::vector<Tensor> results = (*k.run_subgraph)(body, args);
    cond = truth(k.node, results[0]);
    for (size_t v = 0; v < carried; ++v) values[v] = std::move(results[1 + v]);
    for (size_t s = 0; s < scans; ++s) scan_rows[s].push_back(std::move(results[1 + carried + s]));
  }
  for (size_t v = 0; v < carried && v < k.outputs.size(); ++v) k.out(int(v)) = values[v];
  for (size_t s = 0; s < scans && carried + s < k.outputs.size(); ++s) {
    const std::vector<Tensor>& rows = scan_rows[s];
    Dims dims{int64_t(rows.size())};
    DType dtype = body.type(body.outputs[1 + carried + s]).dtype;
    if (!rows.empty()) {
      dtype = rows[0].dtype();
      dims.insert(dims.end(), rows[0].dims().begin(), rows[0].dims().end());
    }
    Tensor stacked(dtype, dims);
    size_t offset = 0;
    for (const Tensor& row : rows) {
      if (row.dims() != rows[0].dims())
        node_error(k.node, "scan output {} changes shape between iterations ({} then {})", s,
                   to_string(rows[0].dims()), to_string(row.dims()));
      std::memcpy(stacked.bytes() + offset, row.bytes(), row.nbytes());
      offset += row.nbytes();
    }
    k.out(int(carried + s)) = std::move(stacked);
  }
}

}  // namespace

extern const OpDef kIf{
    .kind = OpKind::If,
    .onnx_name = "If",
    .min_inputs = 1,
    .max_inputs = 1,
    .min_outputs = 1,
    .max_outputs = 1 << 16,
    .attrs = {{"then_branch", AttrType::Graph, std::nullopt}, {"else_branch", AttrType::Graph, std::nullopt}},
    .infer = infer_if,
    .reference = run_if,
    .allocates_outputs = true,
};

extern const OpDef kLoop{
    .kind = OpKind::Loop,
    .onnx_name = "Loop",
    .min_inputs = 2,
    .max_inputs = -1,
    .min_outputs = 1,
    .max_outputs = 1 << 16,
    .attrs = {{"body", AttrType::Graph, std::nullopt}},
    .infer = infer_loop,
    .reference = run_loop,
    .allocates_outputs = true,
};

}  // namespace nnc
