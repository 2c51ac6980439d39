// ops/graph_builder.h — builds graphs in code with names and types filled in:
//
//   GraphBuilder b("tiny");
//   ValueId x = b.input("x", {DType::F32, Shape(Dims{1, 3, 8, 8})});
//   ValueId w = b.constant("w", weights);
//   ValueId y = b.op(OpKind::Conv, {x, w}, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
//   b.output(b.op(OpKind::Relu, {y}));
//   Graph g = b.build();  // verified
//
// Each op's output types are inferred as it is added, so a shape mistake is reported at the
// line that made it, naming the node.
#pragma once

#include "core/graph.h"

namespace nnc {

class GraphBuilder {
 public:
  explicit GraphBuilder(std::string name, int opset = 17);

  ValueId input(std::string name, TensorType type);
  ValueId constant(std::string name, Tensor data);
  // Adds a node with one output; `name` defaults to "<op>_<n>" and names the output too.
  ValueId op(OpKind kind, std::vector<ValueId> inputs, std::vector<Attribute> attrs = {}, std::string name = "");
  // Adds a node with `outputs` outputs, named "<name>" , "<name>.1", ...
  std::vector<ValueId> op(OpKind kind, std::vector<ValueId> inputs, int outputs, std::vector<Attribute> attrs,
                          std::string name = "");
  void output(ValueId value);

  Graph& graph() { return graph_; }
  Graph build() const;  // a verified copy

 private:
  Graph graph_;
  int counter_ = 0;
};

}  // namespace nnc
