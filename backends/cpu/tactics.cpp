// backends/cpu/tactics.cpp — the list of CPU tactics (each defined in its own file).
#include "backends/cpu/tactic.h"

#include <vector>

namespace nnc::cpu {

extern const Tactic kConvPointwiseGemm, kConvIm2colGemm, kConvDirectRows, kConvWinogradF2x2, kConvWinogradF4x4;
extern const Tactic kMatMulPackedGemm, kMatMulBatchedGemm, kGemmPackedGemm;
extern const Tactic kResizeSeparable2d, kMaxPoolDirect2d;
extern const Tactic kAddFlat, kSubFlat, kMulFlat, kDivFlat;
extern const Tactic kGroupNormFusedLanes, kInstanceNormFusedLanes;
extern const Tactic kReluVectorised, kLeakyReluVectorised, kSigmoidVectorised, kHardSigmoidVectorised,
    kHardSwishVectorised, kTanhVectorised;
extern const Tactic kSoftmaxLanes, kLogSoftmaxLanes, kLayerNormLanes;
extern const Tactic kReduceSumRows, kReduceMeanRows, kReduceMaxRows, kReduceMinRows;
extern const Tactic kTransposeBlocked, kGridSampleBilinearTaps;
extern const Tactic kQConvVnniGemm, kQConvDirectRows, kQMatMulVnniGemm, kQMatMulRows, kMatMulIntegerVnniGemm, kQuantizeVectorised, kDequantizeVectorised;
extern const Tactic kDeformAttnFusedTaps, kDeformConvIm2colGemm;

std::span<const Tactic> cpu_tactics() {
  static const Tactic all[] = {
      kConvPointwiseGemm, kConvIm2colGemm, kConvWinogradF2x2, kConvWinogradF4x4, kConvDirectRows,
      kMatMulPackedGemm,  kMatMulBatchedGemm, kGemmPackedGemm, kResizeSeparable2d, kMaxPoolDirect2d,
      kAddFlat,           kSubFlat,           kMulFlat,        kDivFlat,
      kGroupNormFusedLanes, kInstanceNormFusedLanes, kReluVectorised, kLeakyReluVectorised, kSigmoidVectorised,
      kHardSigmoidVectorised, kHardSwishVectorised, kTanhVectorised, kSoftmaxLanes, kLogSoftmaxLanes, kLayerNormLanes,
      kReduceSumRows, kReduceMeanRows, kReduceMaxRows, kReduceMinRows, kTransposeBlocked,
      kGridSampleBilinearTaps, kQConvVnniGemm, kQConvDirectRows, kQMatMulVnniGemm, kQMatMulRows, kMatMulIntegerVnniGemm, kQuantizeVectorised, kDequantizeVectorised, kDeformAttnFusedTaps,
      kDeformConvIm2colGemm};
  return all;
}

namespace {
std::vector<Tactic>& registry() {
  static std::vector<Tactic> all(cpu_tactics().begin(), cpu_tactics().end());
  return all;
}
}  // namespace

std::span<const Tactic> registered_tactics() { return registry(); }

void register_tactics(std::span<const Tactic> more) {
  for (const Tactic& t : more) {
    bool known = false;
    for (const Tactic& r : registry()) known = known || (r.name == t.name && r.op == t.op);
    if (!known) registry().push_back(t);
  }
}

const Tensor* constant_input(const Graph& graph, const Node& node, int input) {
  if (!node.has_input(input)) return nullptr;
  const Value& v = graph.value(node.inputs[size_t(input)]);
  return v.kind == ValueKind::Const && v.data ? v.data.get() : nullptr;
}

std::string conv2d_rejects(const Graph& graph, const Node& node) {
  const TensorType& x = graph.type(node.inputs[0]);
  if (x.dtype != DType::F32 || !x.shape.fully_known() || x.rank() != 4) return "not a 2-D f32 conv with known shapes";
  if (!constant_input(graph, node, 1)) return "weights are not constant";
  if (node.has_input(2) && !constant_input(graph, node, 2)) return "bias is not constant";
  return "";
}

}  // namespace nnc::cpu
