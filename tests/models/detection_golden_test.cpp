// The multi-camera 3D detectors at MODELS.md's tiny sizes against PyTorch (tools/reference/
// petr.py and bevformer.py, seeded weights): several named inputs computed on the host, several
// outputs, each within 1e-4 relative L2 at -O0 (the graph as exported) and -O2 (passes, tuned
// tactics, memory plan).
#include <doctest/doctest.h>

#include <filesystem>

#include "core/api.h"
#include "core/compare.h"
#include "core/npy.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

int count_ops(const Graph& g, OpKind op) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op == op;
  return n;
}

// Runs tests/data/golden/<name> at -O0 and -O2; returns the -O2 graph's count of `op`.
int check_detector(const std::string& name, const std::vector<std::string>& inputs,
                   const std::vector<std::string>& outputs, OpKind op) {
  const fs::path dir = fs::path(NNC_SOURCE_DIR) / "tests/data/golden" / name;
  std::map<std::string, Tensor> feeds;
  for (const std::string& input : inputs) feeds[input] = read_npy(dir / (input + ".npy"));
  int fused = 0;
  for (const int level : {0, 2}) {
    LoadOptions options;
    options.passes.level = level;
    const Model model = load_model(dir / "model.onnx", options);
    if (level == 2) fused = count_ops(model.graph(), op);
    const auto got = Session(model).run(feeds);
    for (size_t k = 0; k < outputs.size(); ++k) {
      const Tensor expected = read_npy(dir / fmt::format("output_{}.npy", k));
      REQUIRE(got.at(outputs[k]).dims() == expected.dims());
      const Difference d = compare(got.at(outputs[k]), expected);
      MESSAGE(fmt::format("{} -O{} {}: rel L2 {:.3g}, max abs {:.3g}", name, level, outputs[k], d.rel_l2, d.max_abs));
      CHECK(d.rel_l2 < 1e-4);
    }
  }
  return fused;
}

}  // namespace

TEST_CASE("golden: BEVFormer-tiny matches PyTorch, all six deformable attentions fused") {
  // Temporal and spatial attention in both encoder layers, BEV cross-attention in both decoder
  // layers (the first one's locations and weights are constants: its queries are embeddings).
  CHECK(check_detector("bevformer_tiny", {"img", "can_bus", "prev_bev", "hist_ref", "ref_cam", "bev_mask"},
                       {"bev_embed", "all_cls_scores", "all_bbox_preds"}, OpKind::MSDeformAttn) == 6);
}

TEST_CASE("golden: PETR-tiny matches PyTorch, its LayerNorms rebuilt") {
  // Opset 16 spells LayerNorm out. Per decoder layer: its 3 norms, the shared final norm and the
  // class head's 2 (heads run on every layer's output) = 12, less the first layer's first norm,
  // which constant folding evaluates (the queries start as constants).
  CHECK(check_detector("petr_tiny", {"img", "coords"}, {"all_cls_scores", "all_bbox_preds"},
                       OpKind::LayerNormalization) == 11);
}
