// passes/fold_constants.cpp — evaluate nodes whose inputs are all known.
//
//   before:  const @shape i64[4] [1,16,8,8]
//            %s  i64[2]  = Slice  @shape, @zero, @two
//            %r  f32[..] = Reshape %x, %s
//   after:   const @s i64[2] [1,16]
//            %r  f32[..] = Reshape %x, @s
//
// A node folds when every input is a constant (or omitted) and it has no subgraph. Shape
// reads fold too: Shape, Size and the static dims of a value's type are known even when its data
// is not, which is what turns exported shape subgraphs (Shape -> Gather -> Concat -> Reshape)
// into constants once input shapes are fixed. Folding runs the reference kernel, so it is as right
// as the kernels. Refuses outputs larger than kMaxFoldedBytes: folding would trade a cheap
// broadcast (Expand, ConstantOfShape) for a large weight; and nodes costing more than
// kMaxFoldedFlops: a 40-byte model can ask for a MatMul of two 4096x4096 ConstantOfShapes,
// which the reference kernel would spend minutes on at import. Leaves alone a DequantizeLinear of
// 8-bit weights read by Conv/Gemm/MatMul: the integer weights are what fold-quantized-ops and
// the INT8 kernels want (a pre-quantized QDQ model keeps its own weight scales).
#include "passes/fold_constants.h"

#include "ops/cost.h"
#include "ops/interpreter.h"
#include "ops/op_def.h"

namespace nnc {
namespace {

constexpr size_t kMaxFoldedBytes = 64 << 20;
constexpr double kMaxFoldedFlops = 1e9;

bool has_subgraph(const Node& n) {
  for (const Attribute& a : n.attrs)
    if (std::holds_alternative<std::shared_ptr<Graph>>(a.value)) return true;
  return false;
}

// Shape and Size need only their input's type, not its data.
std::optional<Tensor> fold_shape_read(const Graph& g, const Node& n) {
  if (n.op != OpKind::Shape && n.op != OpKind::Size) return std::nullopt;
  const TensorType& t = g.type(n.inputs[0]);
  if (!t.shape.fully_known()) return std::nullopt;
  Tensor data(t.dtype, t.shape.concrete());  // zeros: only the shape is read
  const Tensor* in[] = {&data};
  return run_node(n, in, g.opset)[0];
}

bool is_integer_weight_dequantize(const Graph& g, const Node& n, const std::vector<std::vector<int>>& consumers) {
  if (n.op != OpKind::DequantizeLinear || !g.is_const(n.inputs[0])) return false;
  const DType t = g.type(n.inputs[0]).dtype;
  if (t != DType::U8 && t != DType::I8) return false;
  const std::vector<int>& readers = consumers[size_t(n.outputs[0])];
  if (readers.empty() || g.is_output(n.outputs[0])) return false;
  for (int r : readers) {
    const OpKind op = g.nodes[size_t(r)].op;
    if (op != OpKind::Conv && op != OpKind::Gemm && op != OpKind::MatMul) return false;
  }
  return true;
}

}  // namespace

PassReport fold_constants(Graph& g) {
  PassReport report("fold-constants");
  std::vector<bool> remove(g.nodes.size(), false);
  const std::vector<std::vector<int>> consumers = g.consumers();
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (has_subgraph(n)) continue;
    if (is_integer_weight_dequantize(g, n, consumers)) continue;
    std::vector<Tensor> results;
    if (std::optional<Tensor> shape = fold_shape_read(g, n)) {
      results.push_back(std::move(*shape));
    } else {
      std::vector<const Tensor*> inputs(n.inputs.size(), nullptr);
      bool all_known = true;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        if (n.inputs[k] == kNoValue) continue;
        inputs[k] = g.const_data(n.inputs[k]);
        all_known = all_known && inputs[k] != nullptr;
      }
      if (!all_known) continue;
      // Only fold when the result is small; infer first to know its size without computing it.
      bool too_big = false;
      for (ValueId out : n.outputs) {
        const TensorType& t = g.type(out);
        if (t.shape.fully_known() && size_t(product(t.shape.concrete())) * dtype_size(t.dtype) > kMaxFoldedBytes)
          too_big = true;
      }
      if (too_big) {
        report.refused(n, "output is larger than {} MiB", kMaxFoldedBytes >> 20);
        continue;
      }
      if (estimate_flops(g, n) > kMaxFoldedFlops) {
        report.refused(n, "costs over {:g} FLOPs", kMaxFoldedFlops);
        continue;
      }
      results = run_node(n, inputs, g.opset);
    }
    // The folded value keeps the output's name, so every later dump still says the same thing.
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      const ValueId out = n.outputs[k];
      if (out == kNoValue) continue;
      Value& v = g.value(out);
      v.kind = ValueKind::Const;
      v.type = results[k].type();
      v.data = std::make_shared<const Tensor>(std::move(results[k]));
      v.data_text.clear();
    }
    remove[i] = true;
    report.rewrote(n, "evaluated at compile time");
  }
  g.erase_nodes(remove);
  report.summary("folded {} nodes into constants", report.rewrites());
  return report;
}

}  // namespace nnc
