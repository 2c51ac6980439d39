#include "ops/shape_inference.h"

#include <set>

#include "ops/op_def.h"

namespace nnc {
namespace {

OuterTypeLookup scope_of(const Graph& graph, const OuterTypeLookup& outer) {
  return [&graph, outer](const std::string& name) -> const TensorType* {
    const ValueId id = graph.find(name);
    if (id != kNoValue && graph.value(id).kind != ValueKind::Outer) return &graph.type(id);
    return outer ? outer(name) : nullptr;
  };
}

void check_attr_types(const Node& n) {
  const OpDef& def = op_def(n.op);
  for (const Attribute& a : n.attrs)
    for (const AttrSpec& spec : def.attrs)
      if (spec.name == a.name && spec.type != attr_type(a.value))
        node_error(n, "attribute '{}' is {} but must be {}", a.name, attr_type_name(attr_type(a.value)),
                   attr_type_name(spec.type));
}

void check_arity(const Node& n) {
  const OpDef& def = op_def(n.op);
  const int in = int(n.inputs.size());
  const int given = n.input_count();
  if (given < def.min_inputs || (def.max_inputs >= 0 && in > def.max_inputs))
    node_error(n, "has {} inputs; {} takes {}", in, op_name(n.op),
               def.max_inputs < 0 ? fmt::format("at least {}", def.min_inputs)
               : def.min_inputs == def.max_inputs ? fmt::format("{}", def.min_inputs)
                                                  : fmt::format("{} to {}", def.min_inputs, def.max_inputs));
  for (int i = 0; i < def.min_inputs; ++i)
    if (!n.has_input(i)) node_error(n, "required input {} is missing", i);
  // A variadic tail (Concat's tensors, Loop's carried values) has no optional members: an
  // empty name there is a broken file, not an omitted input (found by tests/fuzz).
  if (def.max_inputs < 0)
    for (int i = def.min_inputs; i < in; ++i)
      if (!n.has_input(i)) node_error(n, "input {} is empty; {} takes no optional inputs there", i, op_name(n.op));
  const int out = int(n.outputs.size());
  if (out < def.min_outputs || out > def.max_outputs)
    node_error(n, "has {} outputs; {} produces {} to {}", out, op_name(n.op), def.min_outputs,
               def.max_outputs);
}

}  // namespace

void infer_types(Graph& graph, const OuterTypeLookup& outer) {
  const OuterTypeLookup scope = scope_of(graph, outer);
  for (Value& v : graph.values)
    if (v.kind == ValueKind::Outer)
      if (const TensorType* t = outer ? outer(v.name) : nullptr) v.type = *t;

  std::vector<TensorType> input_types;
  std::vector<const Tensor*> input_values;
  for (Node& node : graph.nodes) {
    check_arity(node);
    check_attr_types(node);
    for (Attribute& a : node.attrs)
      if (auto* sub = std::get_if<std::shared_ptr<Graph>>(&a.value))
        if (*sub) infer_types(**sub, scope);
    input_types.assign(node.inputs.size(), TensorType{});
    input_values.assign(node.inputs.size(), nullptr);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      if (node.inputs[i] == kNoValue) continue;
      input_types[i] = graph.type(node.inputs[i]);
      input_values[i] = graph.const_data(node.inputs[i]);
    }
    const OpDef& def = op_def(node.op);
    if (!def.infer) fail(ErrorKind::Unsupported, "{}: nnc cannot infer shapes for {} yet", describe(node), op_name(node.op));
    InferContext context{node, input_types, input_values, graph.opset};
    const std::vector<TensorType> out = def.infer(context);
    check_internal(out.size() >= node.outputs.size(), "infer returned fewer types than outputs");
    for (size_t i = 0; i < node.outputs.size(); ++i)
      if (node.outputs[i] != kNoValue) graph.value(node.outputs[i]).type = out[i];
  }
}

void verify(const Graph& graph, bool from_file, const OuterTypeLookup& outer) {
  const ErrorKind kind = from_file ? ErrorKind::BadInput : ErrorKind::Internal;
  std::vector<bool> defined(graph.values.size(), false);
  for (size_t i = 0; i < graph.values.size(); ++i) {
    const ValueKind k = graph.values[i].kind;
    if (k == ValueKind::Const || k == ValueKind::Outer) defined[i] = true;
  }
  for (ValueId v : graph.inputs) {
    if (v < 0 || size_t(v) >= graph.values.size() || graph.value(v).kind != ValueKind::Input)
      fail(kind, "graph '{}': input list names a value that is not an input", graph.name);
    defined[size_t(v)] = true;
  }
  const OuterTypeLookup scope = scope_of(graph, outer);
  std::set<std::string> node_names;
  for (const Node& node : graph.nodes) {
    if (!node_names.insert(node.name).second)
      fail(kind, "graph '{}': two nodes are named '{}'", graph.name, node.name);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const ValueId v = node.inputs[i];
      if (v == kNoValue) continue;
      if (v < 0 || size_t(v) >= graph.values.size())
        fail(kind, "{}: input {} refers to no value", describe(node), i);
      if (!defined[size_t(v)])
        fail(kind, "{}: input '{}' is used before it is defined (not in topological order, or a cycle)",
             describe(node), graph.value(v).name);
    }
    for (ValueId v : node.outputs) {
      if (v == kNoValue) continue;
      if (v < 0 || size_t(v) >= graph.values.size())
        fail(kind, "{}: an output refers to no value", describe(node));
      if (defined[size_t(v)] || graph.value(v).kind != ValueKind::NodeOutput)
        fail(kind, "{}: output '{}' is already defined (values are assigned once)", describe(node),
             graph.value(v).name);
      defined[size_t(v)] = true;
    }
    check_arity(node);
    check_attr_types(node);
    for (const Attribute& a : node.attrs)
      if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&a.value))
        if (*sub) verify(**sub, from_file, scope);
  }
  for (ValueId v : graph.outputs)
    if (v < 0 || size_t(v) >= graph.values.size() || !defined[size_t(v)])
      fail(kind, "graph '{}': output is never computed", graph.name);

  // Declared types must be what inference derives.
  Graph copy = graph;
  infer_types(copy, outer);
  for (size_t i = 0; i < graph.values.size(); ++i)
    if (graph.values[i].kind == ValueKind::NodeOutput && defined[i] &&
        !(copy.values[i].type == graph.values[i].type))
      fail(kind, "graph '{}': value '{}' is declared {} but its producer gives {}", graph.name,
           graph.values[i].name, to_string(graph.values[i].type), to_string(copy.values[i].type));
}

}  // namespace nnc
