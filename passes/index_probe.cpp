// passes/index_probe.cpp — see index_probe.h.
#include "passes/index_probe.h"

#include <algorithm>

#include "ops/interpreter.h"

namespace nnc {

bool is_relayout(OpKind op) {
  switch (op) {
    case OpKind::Reshape: case OpKind::Transpose: case OpKind::Squeeze: case OpKind::Unsqueeze:
    case OpKind::Flatten: case OpKind::Identity: case OpKind::Split: case OpKind::Slice: case OpKind::Gather:
      return true;
    default:
      return false;
  }
}

Tensor iota(const Dims& dims, DType dtype) {
  Tensor t(dtype, dims);
  for (int64_t i = 0; i < t.numel(); ++i) {
    if (dtype == DType::F32) t.data<float>()[i] = float(i);
    else t.data<int64_t>()[i] = i;
  }
  return t;
}

std::map<ValueId, Tensor> run_nodes(const Graph& g, std::vector<int> nodes, std::map<ValueId, Tensor> known) {
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  for (int index : nodes) {
    const Node& n = g.nodes[size_t(index)];
    std::vector<const Tensor*> inputs;
    for (ValueId v : n.inputs) {
      if (v == kNoValue) inputs.push_back(nullptr);
      else if (const Tensor* c = g.const_data(v)) inputs.push_back(c);
      else inputs.push_back(&known.at(v));
    }
    std::vector<Tensor> outputs = run_node(n, inputs, g.opset);
    for (size_t i = 0; i < outputs.size(); ++i)
      if (n.outputs[i] != kNoValue) known[n.outputs[i]] = std::move(outputs[i]);
  }
  return known;
}

}  // namespace nnc
