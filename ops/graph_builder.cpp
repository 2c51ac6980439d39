#include "ops/graph_builder.h"

#include "ops/op_def.h"
#include "ops/shape_inference.h"

namespace nnc {

GraphBuilder::GraphBuilder(std::string name, int opset) {
  graph_.name = std::move(name);
  graph_.opset = opset;
}

ValueId GraphBuilder::input(std::string name, TensorType type) { return graph_.add_input(std::move(name), std::move(type)); }

ValueId GraphBuilder::constant(std::string name, Tensor data) { return graph_.add_const(std::move(name), std::move(data)); }

ValueId GraphBuilder::op(OpKind kind, std::vector<ValueId> inputs, std::vector<Attribute> attrs, std::string name) {
  return op(kind, std::move(inputs), 1, std::move(attrs), std::move(name))[0];
}

std::vector<ValueId> GraphBuilder::op(OpKind kind, std::vector<ValueId> inputs, int outputs,
                                      std::vector<Attribute> attrs, std::string name) {
  if (name.empty()) name = fmt::format("{}_{}", op_name(kind), counter_++);
  std::vector<ValueId> out;
  for (int i = 0; i < outputs; ++i)
    out.push_back(graph_.add_value(graph_.unique_value_name(i == 0 ? name : fmt::format("{}.{}", name, i))));
  Node& node = graph_.add_node(kind, graph_.unique_node_name(name), std::move(inputs), out, std::move(attrs));
  node.sources = {node.name};
  // Infer just this node: its inputs are typed already.
  std::vector<TensorType> types;
  std::vector<const Tensor*> values;
  for (ValueId v : node.inputs) {
    types.push_back(v == kNoValue ? TensorType{} : graph_.type(v));
    values.push_back(v == kNoValue ? nullptr : graph_.const_data(v));
  }
  InferContext context{node, types, values, graph_.opset};
  const std::vector<TensorType> inferred = op_def(kind).infer(context);
  for (size_t i = 0; i < out.size(); ++i) graph_.value(out[i]).type = inferred.at(i);
  return out;
}

void GraphBuilder::output(ValueId value) { graph_.outputs.push_back(value); }

Graph GraphBuilder::build() const {
  verify(graph_);
  return graph_;
}

}  // namespace nnc
