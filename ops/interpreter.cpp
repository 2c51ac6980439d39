#include "ops/interpreter.h"

#include <chrono>
#include <cstring>
#include <optional>

#include "ops/op_def.h"

namespace nnc {

// Names that the node's subgraphs (at any depth) read from enclosing scopes.
std::vector<std::string> captured_names(const Node& node) {
  std::vector<std::string> names;
  for (const Attribute& a : node.attrs) {
    const auto* sub = std::get_if<std::shared_ptr<Graph>>(&a.value);
    if (!sub || !*sub) continue;
    for (const Value& v : (*sub)->values)
      if (v.kind == ValueKind::Outer) names.push_back(v.name);
    for (const Node& inner : (*sub)->nodes)
      for (std::string& name : captured_names(inner)) names.push_back(std::move(name));
  }
  return names;
}

std::vector<Tensor> run_node(const Node& node, std::span<const Tensor* const> inputs, int opset,
                             const OuterLookup& outer, const OutputAllocator& allocate, const NodeKernel* kernel) {
  const OpDef& def = op_def(node.op);
  if (!def.infer || !def.reference)
    fail(ErrorKind::Unsupported, "{}: nnc has no kernel for {} yet", describe(node), op_name(node.op));
  std::vector<TensorType> input_types(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i]) input_types[i] = inputs[i]->type();
  InferContext infer_context{node, input_types, inputs, opset};
  const std::vector<TensorType> output_types = def.infer(infer_context);
  check_internal(output_types.size() >= node.outputs.size(), "infer returned too few outputs");

  std::vector<Tensor> outputs;
  outputs.reserve(node.outputs.size());
  if (def.allocates_outputs) outputs.resize(node.outputs.size());
  for (size_t i = 0; i < node.outputs.size() && !def.allocates_outputs; ++i) {
    const TensorType& t = output_types[i];
    if (!t.shape.fully_known())
      fail(ErrorKind::Internal, "{}: output {} has shape {} after inference on concrete inputs",
           describe(node), i, to_string(t));
    if (allocate) outputs.push_back(allocate(int(i), t));
    else outputs.emplace_back(t.dtype, t.shape.concrete());
  }
  const SubgraphRunner runner = [&](const Graph& sub, const std::vector<Tensor>& sub_inputs) {
    return run_reference(sub, sub_inputs, {}, outer);
  };
  KernelContext kernel_context{node, inputs, outputs, &runner};
  if (kernel) kernel->run(kernel_context);
  else def.reference(kernel_context);
  return outputs;
}

std::vector<Tensor> run_reference(const Graph& graph, std::span<const Tensor> inputs,
                                  const InterpreterOptions& options, const OuterLookup& outer) {
  if (inputs.size() != graph.inputs.size())
    bad_input("graph '{}' takes {} inputs, got {}", graph.name, graph.inputs.size(), inputs.size());

  std::vector<std::optional<Tensor>> slots(graph.values.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Value& v = graph.value(graph.inputs[i]);
    const Tensor& t = inputs[i];
    if (t.dtype() != v.type.dtype)
      bad_input("input '{}' must be {} but is {}", v.name, dtype_name(v.type.dtype), dtype_name(t.dtype()));
    if (v.type.shape.rank_known) {
      bool ok = v.type.rank() == t.rank();
      for (int d = 0; ok && d < t.rank(); ++d) {
        const Dim& dim = v.type.shape.dims[size_t(d)];
        if (dim.known() && dim.value != t.dims()[size_t(d)]) ok = false;
      }
      if (!ok)
        bad_input("input '{}' must have shape {} but has {}", v.name, to_string(v.type.shape),
                  to_string(t.dims()));
    }
    slots[size_t(graph.inputs[i])] = t;
  }

  // Last node that reads each value, so tensors can be freed as soon as they are dead. A value
  // captured by a node's subgraph counts as read by that node.
  std::vector<int> last_use(graph.values.size(), -1);
  for (size_t n = 0; n < graph.nodes.size(); ++n) {
    for (ValueId v : graph.nodes[n].inputs)
      if (v != kNoValue) last_use[size_t(v)] = int(n);
    for (const std::string& name : captured_names(graph.nodes[n])) {
      const ValueId v = graph.find(name);
      if (v != kNoValue) last_use[size_t(v)] = int(n);
    }
  }
  for (ValueId v : graph.outputs) last_use[size_t(v)] = int(graph.nodes.size());

  auto get = [&](ValueId id) -> const Tensor* {
    if (slots[size_t(id)]) return &*slots[size_t(id)];
    const Value& v = graph.value(id);
    if (v.kind == ValueKind::Const) {
      if (!v.data) bad_input("constant '@{}' has no data (IR text summarised it as a blob)", v.name);
      return v.data.get();
    }
    if (v.kind == ValueKind::Outer && outer) return outer(v.name);
    return nullptr;
  };
  const OuterLookup scope = [&](const std::string& name) -> const Tensor* {
    const ValueId id = graph.find(name);
    if (id != kNoValue)
      if (const Tensor* t = get(id)) return t;
    return outer ? outer(name) : nullptr;
  };

  // With a memory plan, every planned value is a view into one arena (core/memory_plan.h).
  const MemoryPlan* plan = options.keep_intermediates ? nullptr : options.plan;
  if (plan) check_internal(plan->offset.size() == graph.values.size() && plan->skip_node.size() == graph.nodes.size(),
                           "memory plan made for another graph");
  const std::shared_ptr<std::byte> arena =
      !plan ? nullptr : options.arena ? options.arena : allocate_aligned(size_t(plan->arena_bytes), /*zeroed=*/false);
  size_t n = 0;  // the node running now, for the allocator
  // A planned output is zero-filled like a fresh tensor unless it overwrites its own input; a
  // type that differs from the plan's (never expected) gets storage of its own.
  const OutputAllocator from_arena = [&](int index, const TensorType& t) {
    const ValueId v = graph.nodes[n].outputs[size_t(index)];
    if (v == kNoValue || plan->offset[size_t(v)] < 0 || t != graph.type(v)) return Tensor(t.dtype, t.shape.concrete());
    Tensor view = Tensor::view(arena, size_t(plan->offset[size_t(v)]), t.dtype, t.shape.concrete());
    // Fast kernels write every output element; reference kernels may rely on zeros.
    const bool overwrites = !options.kernels.empty() && options.kernels[n];
    if (!plan->in_place_node[n] && !overwrites) std::memset(view.bytes(), 0, view.nbytes());
    return view;
  };

  if (!options.kernels.empty())
    check_internal(options.kernels.size() == graph.nodes.size(), "kernel list made for another graph");
  std::vector<const Tensor*> node_inputs;
  for (; n < graph.nodes.size(); ++n) {
    const Node& node = graph.nodes[n];
    const auto started = options.timer ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
    std::vector<Tensor> results;
    if (options.before_node) {
      node_inputs.assign(node.inputs.size(), nullptr);
      for (size_t i = 0; i < node.inputs.size(); ++i)
        if (node.inputs[i] != kNoValue) node_inputs[i] = get(node.inputs[i]);
      options.before_node(n, node_inputs);
    }
    if (plan && plan->skip_node[n]) {  // zero-copy Concat: the inputs already fill the output
      const TensorType& t = graph.type(node.outputs[0]);
      results.push_back(Tensor::view(arena, size_t(plan->offset[size_t(node.outputs[0])]), t.dtype, t.shape.concrete()));
    } else {
      node_inputs.assign(node.inputs.size(), nullptr);
      for (size_t i = 0; i < node.inputs.size(); ++i) {
        if (node.inputs[i] == kNoValue) continue;
        node_inputs[i] = get(node.inputs[i]);
        if (!node_inputs[i])
          fail(ErrorKind::Internal, "{}: input '{}' has no value when the node runs", describe(node),
               graph.value(node.inputs[i]).name);
      }
      const NodeKernel* kernel = options.kernels.empty() ? nullptr : options.kernels[n];
      results = run_node(node, node_inputs, graph.opset, scope, plan ? from_arena : nullptr, kernel);
    }
    if (options.timer)
      options.timer(n, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (node.outputs[i] == kNoValue) continue;
      if (options.tap) options.tap(node, int(i), results[i]);
      const bool read_later = last_use[size_t(node.outputs[i])] > int(n);
      if (read_later || options.keep_intermediates) slots[size_t(node.outputs[i])] = std::move(results[i]);
    }
    if (!options.keep_intermediates)
      for (ValueId v : node.inputs)
        if (v != kNoValue && last_use[size_t(v)] == int(n) && graph.value(v).kind == ValueKind::NodeOutput)
          slots[size_t(v)].reset();
  }

  std::vector<Tensor> outputs;
  for (ValueId id : graph.outputs) {
    const Tensor* t = get(id);
    if (!t) fail(ErrorKind::Internal, "graph output '{}' was never computed", graph.value(id).name);
    outputs.push_back(*t);
  }
  return outputs;
}

}  // namespace nnc
