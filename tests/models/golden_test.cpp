// Golden models: nnc's outputs against PyTorch's, saved by tools/reference/export_goldens.py
// (tests/data/golden/<model>/model.onnx, input_0.npy, output_<k>.npy). Never regenerated from
// nnc. Tolerance: relative L2 under 1e-4 per output (fp32 through a different summation order).
#include <doctest/doctest.h>

#include <filesystem>

#include "core/api.h"
#include "core/compare.h"
#include "core/ir_text.h"
#include "core/npy.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kGoldenDir = fs::path(NNC_SOURCE_DIR) / "tests/data/golden";

void check_golden(const std::string& name) {
  const fs::path dir = kGoldenDir / name;
  REQUIRE_MESSAGE(fs::exists(dir / "model.onnx"), "missing golden model " << dir.string());
  const Model model = load_model(dir / "model.onnx");
  const std::vector<std::string> inputs = model.input_names();
  REQUIRE(inputs.size() == 1);
  const Session session(model);
  const std::map<std::string, Tensor> outputs = session.run({{inputs[0], read_npy(dir / "input_0.npy")}});
  const std::vector<std::string> names = model.output_names();
  for (size_t k = 0; k < names.size(); ++k) {
    const Tensor expected = read_npy(dir / fmt::format("output_{}.npy", k));
    const Tensor& actual = outputs.at(names[k]);
    REQUIRE(actual.dims() == expected.dims());
    const Difference d = compare(actual, expected);
    MESSAGE(fmt::format("{} output {} ({}): rel L2 {:.3g}, max abs {:.3g}", name, k, names[k], d.rel_l2, d.max_abs));
    CHECK(d.rel_l2 < 1e-4);
  }
}

}  // namespace

TEST_CASE("golden: our CNN (Conv/BN/ReLU/MaxPool ceil/bilinear Resize/Concat) matches PyTorch") { check_golden("cnn"); }

TEST_CASE("golden: our transformer block at opset 17 (LayerNormalization, GELU) matches PyTorch") {
  check_golden("transformer");
}

TEST_CASE("golden: the same transformer block at opset 13 (decomposed LayerNorm) matches PyTorch") {
  check_golden("transformer_op13");
}

TEST_CASE("golden: U2NETP at 320x320 with BatchNormalization nodes matches PyTorch on all 7 outputs") {
  check_golden("u2netp");
}

TEST_CASE("golden: torchvision squeezenet1_1 (an architecture we did not write) matches PyTorch") {
  check_golden("squeezenet1_1");
}

TEST_CASE("golden: torchvision shufflenet_v2_x0_5 (channel shuffle via Reshape/Transpose) matches PyTorch") {
  check_golden("shufflenet_v2_x0_5");
}

TEST_CASE("golden: the IR text of U2NETP parses back to the identical text") {
  const Model model = load_model(kGoldenDir / "u2netp/model.onnx");
  const std::string text = print_ir(model.graph());
  CHECK(print_ir(parse_ir(text)) == text);
  CHECK(text.find("= BatchNormalization") != std::string::npos);
}
