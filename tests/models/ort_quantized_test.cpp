// Models in the formats ONNX Runtime's quantizer writes (QDQ, and dynamic int8 through
// DynamicQuantizeLinear + MatMulInteger), against ONNX Runtime's own outputs
// (tools/reference/export_ort_quantized.py). The QDQ model must reach the integer kernels
// (QLinearConv, MaxPool on bytes) and still give ORT's numbers.
#include <doctest/doctest.h>

#include <filesystem>

#include "core/api.h"
#include "core/compare.h"
#include "core/npy.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

const fs::path kGolden = fs::path(NNC_SOURCE_DIR) / "tests/data/golden";

Difference against_ort(const std::string& name, const Model& model) {
  const std::map<std::string, Tensor> out = Session(model).run({{"input", read_npy(kGolden / name / "input_0.npy")}});
  return compare(out.at("output"), read_npy(kGolden / name / "output_0.npy"));
}

Model load_at(const std::string& name, int level) {
  LoadOptions options;
  options.passes.level = level;
  return load_model(kGolden / name / "model.onnx", options);
}

}  // namespace

TEST_CASE("ONNX Runtime's QDQ format: Convs and MaxPool become integer ops and give ORT's outputs") {
  const Model optimised = load_at("ort_qdq_cnn", 2);
  const Graph& g = optimised.graph();
  CHECK(g.count(OpKind::QLinearConv) == 2);
  CHECK(g.count(OpKind::Conv) == 0);
  for (const Node& n : g.nodes)
    if (n.op == OpKind::MaxPool) CHECK(g.type(n.outputs[0]).dtype == DType::U8);
  for (int level : {0, 2}) {
    CAPTURE(level);
    const Difference d = against_ort("ort_qdq_cnn", level == 2 ? optimised : load_at("ort_qdq_cnn", 0));
    MESSAGE("QDQ CNN -O" << level << ": max abs " << d.max_abs << " against ORT");
    CHECK(d.max_abs == 0);  // the same integers, requantized the same way
  }
}

TEST_CASE("ONNX Runtime's dynamic int8 format (DynamicQuantizeLinear, MatMulInteger) gives ORT's outputs") {
  for (int level : {0, 2}) {
    CAPTURE(level);
    const Difference d = against_ort("ort_dynamic_mlp", load_at("ort_dynamic_mlp", level));
    MESSAGE("dynamic MLP -O" << level << ": max abs " << d.max_abs << ", rel L2 " << d.rel_l2 << " against ORT");
    CHECK(d.rel_l2 < 1e-6);
  }
}
