// Fuzz target, structure-aware: a valid ONNX model is edited as a model, not as bytes. The custom
// mutator parses the input as a ModelProto and changes one thing a person (or a buggy exporter)
// could change: a dim, an attribute's value, an input's wiring, an element type, the node order,
// the opset, an op type, an initializer's shape; it falls back to byte mutations when the input
// does not parse. So most inputs get past the protobuf parser and the verifier into shape
// inference, constant folding and, when the graph verifies and is small, the whole compiler:
// the reference interpreter, the -O2 pass pipeline, memory planning, the tuner (which checks
// every fast tactic against the reference kernel) and a planned run, on seeded random inputs.
//
// Without libFuzzer (ctest's nnc_fuzz_onnx_model) only LLVMFuzzerTestOneInput is built: the
// seeds and the regressions replay through the same path.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/tuner.h"
#include "core/api.h"
#include "core/ir_text.h"
#include "importers/onnx/onnx_importer.h"
#include "onnx/onnx.pb.h"
#include "ops/cost.h"
#include "ops/interpreter.h"
#include "passes/pipeline.h"
#include "passes/plan_memory.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using nnc::Graph;
using nnc::Tensor;

// --- running a model that verified ------------------------------------------------------------

// Executing is worth its time only on graphs that run in milliseconds under the sanitizers:
// known shapes, no subgraphs (a Loop's trip count multiplies its body), small tensors.
constexpr int64_t kMaxRunElements = 1 << 13;  // per tensor
constexpr double kMaxRunWork = 1e7;           // FLOPs plus elements touched, whole graph
constexpr size_t kMaxRunNodes = 64;

bool small_enough_to_run(const Graph& g) {
  if (g.nodes.size() > kMaxRunNodes || g.outputs.empty()) return false;
  double work = 0;
  // Element count, or -1 when unknown or over kMaxRunElements (declared dims can be anything).
  const auto elements = [&](nnc::ValueId id) -> int64_t {
    if (id == nnc::kNoValue) return 0;
    const nnc::TensorType& t = g.type(id);
    if (!t.shape.fully_known()) return -1;
    int64_t n = 1;
    for (int64_t d : t.shape.concrete()) {
      if (d > kMaxRunElements) return -1;
      n *= d;
      if (n > kMaxRunElements) return -1;
    }
    return n;
  };
  for (const nnc::Node& n : g.nodes) {
    for (const nnc::Attribute& a : n.attrs)
      if (std::holds_alternative<std::shared_ptr<Graph>>(a.value)) return false;
    for (const auto* list : {&n.inputs, &n.outputs})
      for (nnc::ValueId id : *list) {
        const int64_t e = elements(id);
        if (e < 0) return false;
        work += double(e);
      }
    work += nnc::estimate_flops(g, n);
  }
  for (nnc::ValueId id : g.inputs) {
    if (elements(id) < 0) return false;
  }
  return work <= kMaxRunWork;
}

// Seeded by the model bytes, so a saved input replays exactly. Integers are small (0..3 and
// a few negatives) so that index, axis and shape inputs land in range often, and out of it
// sometimes.
std::vector<Tensor> random_inputs(const Graph& g, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Tensor> inputs;
  for (nnc::ValueId id : g.inputs) {
    const nnc::TensorType& t = g.type(id);
    const nnc::Dims dims = t.shape.concrete();
    int64_t count = 1;
    for (int64_t d : dims) count *= d;
    std::vector<double> values(static_cast<size_t>(count), 0.0);
    std::uniform_real_distribution<double> real(-3.0, 3.0);
    std::uniform_int_distribution<int> small(-1, 3);
    for (double& v : values) v = nnc::is_float(t.dtype) ? real(rng) : double(small(rng));
    if (t.dtype == nnc::DType::Bool || !nnc::is_signed(t.dtype))
      for (double& v : values) v = std::abs(v);
    inputs.push_back(Tensor::from_vector<double>(dims, values).cast(t.dtype));
  }
  return inputs;
}

void compile_and_run(const std::string& bytes) {
  Graph reference = nnc::import_onnx_bytes(bytes, {});
  (void)nnc::print_ir(reference);
  if (!small_enough_to_run(reference)) return;
  const std::vector<Tensor> inputs = random_inputs(reference, nnc::crc32(bytes.data(), bytes.size()));
  const std::vector<Tensor> expected = nnc::run_reference(reference, inputs);

  Graph optimized = nnc::import_onnx_bytes(bytes, {});
  nnc::PipelineResult passes = nnc::run_pipeline(optimized, nnc::PipelineOptions{});
  nnc::MemoryPlan plan = nnc::plan_memory(optimized);
  nnc::cpu::TuneOptions tuning;
  tuning.runs = 1;
  tuning.prefer_tactics = true;  // run the fast kernels, not just the reference ones
  nnc::cpu::TuningResult tuned = nnc::cpu::tune(optimized, tuning);
  const nnc::Model model(std::move(optimized), "fuzz.onnx", std::move(passes), std::move(plan), std::move(tuned));
  std::map<std::string, Tensor> named;
  for (size_t i = 0; i < inputs.size(); ++i) named.emplace(reference.value(reference.inputs[i]).name, inputs[i]);
  const std::map<std::string, Tensor> outputs = nnc::Session(model).run(named);
  // Values may differ (NaN, ties, tactics within tolerance); what the compiler must keep is
  // which outputs there are and their shapes and types.
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string& name = reference.value(reference.outputs[i]).name;
    const auto it = outputs.find(name);
    if (it == outputs.end() || it->second.dims() != expected[i].dims() || it->second.dtype() != expected[i].dtype()) {
      std::fprintf(stderr, "fuzz finding: output '%s' of the optimized plan differs in shape or type from the reference\n",
                   name.c_str());
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  nnc::fuzz::lower_limits_for_fuzzing();
  nnc::set_thread_count(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nnc::fuzz::expect_clean_refusal([&] { compile_and_run(std::string(nnc::fuzz::as_bytes(data, size))); });
  return 0;
}

#ifdef NNC_LIBFUZZER
// --- the mutator ------------------------------------------------------------------------------

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

namespace {

class ModelMutator {
 public:
  ModelMutator(onnx::ModelProto& model, unsigned seed) : model_(model), rng_(seed) {}

  // One edit; false when the model has nothing the chosen edit applies to.
  bool mutate_once() {
    onnx::GraphProto& g = *model_.mutable_graph();
    switch (pick(11)) {
      case 0: return mutate_dim(g);
      case 1: return mutate_attribute(g);
      case 2: return add_attribute(g);
      case 3: return rewire_input(g);
      case 4: return mutate_elem_type(g);
      case 5: return swap_nodes(g);
      case 6: return mutate_opset();
      case 7: return mutate_op_type(g);
      case 8: return remove_or_duplicate_node(g);
      case 9: return mutate_initializer(g);
      default: return mutate_graph_io(g);
    }
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  template <typename T>
  const T& pick_from(const std::vector<T>& options) { return options[size_t(pick(int(options.size())))]; }

  int64_t interesting_int(int64_t current) {
    static const std::vector<int64_t> kValues = {0, 1, 2, 3, 4, 7, 16, -1, -2, -3, 255, 256, 1 << 16, 1LL << 31,
                                                 std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
    switch (pick(3)) {
      case 0: return int64_t(uint64_t(current) + 1);  // wraps at the ends, as intended
      case 1: return int64_t(uint64_t(current) - 1);
      default: return pick_from(kValues);
    }
  }
  float interesting_float() {
    static const std::vector<float> kValues = {0.0f, 1.0f, -1.0f, 0.5f, 2.0f, 1e-12f, 1e30f, -1e30f,
                                               std::numeric_limits<float>::quiet_NaN(),
                                               std::numeric_limits<float>::infinity(),
                                               -std::numeric_limits<float>::infinity()};
    return pick_from(kValues);
  }
  std::string interesting_string() {
    static const std::vector<std::string> kValues = {
        "", "nearest", "linear", "cubic", "bilinear", "bicubic", "constant", "reflect", "edge", "wrap",
        "zeros", "border", "reflection", "half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel",
        "tf_crop_and_resize", "round_prefer_floor", "floor", "ceil", "SAME_UPPER", "SAME_LOWER", "VALID",
        "NOTSET", "DCR", "CRD", "avg", "max", "Relu", "Tanh", "Sigmoid", "ij,jk->ik", "bij,bjk->bik", "ii->i",
        "...ij->...ji", "i,i", "forward", "reverse", "bidirectional", "tanh"};
    return pick_from(kValues);
  }

  // Every value name the graph knows: where rewiring draws from.
  std::vector<std::string> value_names(const onnx::GraphProto& g) {
    std::vector<std::string> names = {""};
    for (const auto& v : g.input()) names.push_back(v.name());
    for (const auto& t : g.initializer()) names.push_back(t.name());
    for (const auto& n : g.node())
      for (const auto& o : n.output()) names.push_back(o);
    return names;
  }

  onnx::TypeProto* pick_type(onnx::GraphProto& g) {
    std::vector<onnx::ValueInfoProto*> infos;
    for (auto& v : *g.mutable_input()) infos.push_back(&v);
    for (auto& v : *g.mutable_output()) infos.push_back(&v);
    for (auto& v : *g.mutable_value_info()) infos.push_back(&v);
    if (infos.empty()) return nullptr;
    return infos[size_t(pick(int(infos.size())))]->mutable_type();
  }

  bool mutate_dim(onnx::GraphProto& g) {
    onnx::TypeProto* type = pick_type(g);
    if (!type || !type->has_tensor_type()) return false;
    onnx::TensorShapeProto* shape = type->mutable_tensor_type()->mutable_shape();
    switch (pick(4)) {
      case 0: shape->add_dim()->set_dim_value(pick(5)); return true;
      case 1:
        if (shape->dim_size() == 0) return false;
        shape->mutable_dim()->RemoveLast();
        return true;
      default: {
        if (shape->dim_size() == 0) return false;
        onnx::TensorShapeProto::Dimension* dim = shape->mutable_dim(pick(shape->dim_size()));
        if (pick(4) == 0) dim->set_dim_param(pick(2) ? "N" : "batch");
        else dim->set_dim_value(interesting_int(dim->has_dim_value() ? dim->dim_value() : 1));
        return true;
      }
    }
  }

  onnx::NodeProto* pick_node(onnx::GraphProto& g) {
    return g.node_size() ? g.mutable_node(pick(g.node_size())) : nullptr;
  }

  void set_random_value(onnx::AttributeProto& a) {
    switch (a.type()) {
      case onnx::AttributeProto::INT: a.set_i(interesting_int(a.i())); break;
      case onnx::AttributeProto::FLOAT: a.set_f(interesting_float()); break;
      case onnx::AttributeProto::STRING: a.set_s(interesting_string()); break;
      case onnx::AttributeProto::INTS:
        if (a.ints_size() == 0 || pick(4) == 0) a.add_ints(interesting_int(0));
        else if (pick(4) == 0) a.mutable_ints()->RemoveLast();
        else a.set_ints(pick(a.ints_size()), interesting_int(a.ints(0)));
        break;
      case onnx::AttributeProto::FLOATS:
        if (a.floats_size() == 0 || pick(4) == 0) a.add_floats(interesting_float());
        else a.set_floats(pick(a.floats_size()), interesting_float());
        break;
      default: a.set_type(onnx::AttributeProto::AttributeType(pick(11)));  // UNDEFINED .. SPARSE_TENSOR: unexpected
    }
  }

  bool mutate_attribute(onnx::GraphProto& g) {
    onnx::NodeProto* n = pick_node(g);
    if (!n || n->attribute_size() == 0) return false;
    const int i = pick(n->attribute_size());
    if (pick(8) == 0) n->mutable_attribute()->DeleteSubrange(i, 1);
    else set_random_value(*n->mutable_attribute(i));
    return true;
  }

  bool add_attribute(onnx::GraphProto& g) {
    static const std::vector<std::pair<std::string, onnx::AttributeProto::AttributeType>> kAttrs = {
        {"axis", onnx::AttributeProto::INT},         {"axes", onnx::AttributeProto::INTS},
        {"perm", onnx::AttributeProto::INTS},        {"kernel_shape", onnx::AttributeProto::INTS},
        {"pads", onnx::AttributeProto::INTS},        {"strides", onnx::AttributeProto::INTS},
        {"dilations", onnx::AttributeProto::INTS},   {"group", onnx::AttributeProto::INT},
        {"keepdims", onnx::AttributeProto::INT},     {"mode", onnx::AttributeProto::STRING},
        {"auto_pad", onnx::AttributeProto::STRING},  {"transA", onnx::AttributeProto::INT},
        {"transB", onnx::AttributeProto::INT},       {"alpha", onnx::AttributeProto::FLOAT},
        {"beta", onnx::AttributeProto::FLOAT},       {"epsilon", onnx::AttributeProto::FLOAT},
        {"to", onnx::AttributeProto::INT},           {"split", onnx::AttributeProto::INTS},
        {"ceil_mode", onnx::AttributeProto::INT},    {"count_include_pad", onnx::AttributeProto::INT},
        {"output_padding", onnx::AttributeProto::INTS}, {"scales", onnx::AttributeProto::FLOATS},
        {"equation", onnx::AttributeProto::STRING},  {"blocksize", onnx::AttributeProto::INT},
        {"k", onnx::AttributeProto::INT},            {"largest", onnx::AttributeProto::INT}};
    onnx::NodeProto* n = pick_node(g);
    if (!n) return false;
    const auto& [name, type] = pick_from(kAttrs);
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(type);
    set_random_value(*a);
    return true;
  }

  bool rewire_input(onnx::GraphProto& g) {
    onnx::NodeProto* n = pick_node(g);
    if (!n) return false;
    const std::string name = pick_from(value_names(g));
    if (n->input_size() == 0 || pick(5) == 0) n->add_input(name);
    else if (pick(6) == 0) n->mutable_input()->RemoveLast();
    else n->set_input(pick(n->input_size()), name);
    return true;
  }

  bool mutate_elem_type(onnx::GraphProto& g) {
    const int code = pick(18);  // 0 (undefined) .. 17, past the types nnc knows
    if (pick(3) == 0 && g.initializer_size()) {
      g.mutable_initializer(pick(g.initializer_size()))->set_data_type(code);
      return true;
    }
    onnx::TypeProto* type = pick_type(g);
    if (!type || !type->has_tensor_type()) return false;
    type->mutable_tensor_type()->set_elem_type(code);
    return true;
  }

  bool swap_nodes(onnx::GraphProto& g) {
    if (g.node_size() < 2) return false;
    g.mutable_node()->SwapElements(pick(g.node_size()), pick(g.node_size()));
    return true;
  }

  bool mutate_opset() {
    for (auto& opset : *model_.mutable_opset_import())
      if (opset.domain().empty() || opset.domain() == "ai.onnx") {
        opset.set_version(pick(8) == 0 ? interesting_int(opset.version()) : 1 + pick(21));
        return true;
      }
    return false;
  }

  bool mutate_op_type(onnx::GraphProto& g) {
    static const std::vector<std::string> kOps = {
        "Add", "Mul", "Sub", "Div", "Pow", "MatMul", "Gemm", "Conv", "ConvTranspose", "Relu", "Sigmoid",
        "Tanh", "Softmax", "LogSoftmax", "Concat", "Split", "Slice", "Gather", "GatherElements", "GatherND",
        "ScatterND", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Expand", "Tile", "Pad",
        "Resize", "Upsample", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization",
        "InstanceNormalization", "LayerNormalization", "GroupNormalization", "ReduceMean", "ReduceSum",
        "ReduceMax", "ArgMax", "TopK", "Where", "Equal", "Less", "Not", "Cast", "Clip", "Shape", "Size",
        "ConstantOfShape", "Range", "NonZero", "CumSum", "Einsum", "DepthToSpace", "SpaceToDepth",
        "GridSample", "LSTM", "GRU", "QuantizeLinear", "DequantizeLinear", "QLinearConv", "QLinearMatMul",
        "MatMulInteger", "ConvInteger", "DynamicQuantizeLinear", "Identity", "Dropout", "Erf", "Sqrt",
        "Det", "NonMaxSuppression", "RoiAlign", "Trilu", "OneHot", "Mod", "BitShift", "NoSuchOp"};
    onnx::NodeProto* n = pick_node(g);
    if (!n) return false;
    n->set_op_type(pick_from(kOps));
    return true;
  }

  bool remove_or_duplicate_node(onnx::GraphProto& g) {
    if (g.node_size() == 0) return false;
    const int i = pick(g.node_size());
    if (pick(2) == 0) {
      g.mutable_node()->DeleteSubrange(i, 1);
    } else {
      onnx::NodeProto copy = g.node(i);
      if (pick(2) == 0)  // a fresh output that a later rewire may pick up; else a duplicate definition
        for (auto& o : *copy.mutable_output()) o += "_copy";
      *g.add_node() = copy;
    }
    return true;
  }

  bool mutate_initializer(onnx::GraphProto& g) {
    if (g.initializer_size() == 0) return false;
    onnx::TensorProto& t = *g.mutable_initializer(pick(g.initializer_size()));
    switch (pick(4)) {
      case 0:
        if (t.dims_size() == 0) t.add_dims(pick(4));
        else t.set_dims(pick(t.dims_size()), interesting_int(t.dims(0)));
        return true;
      case 1:
        if (t.dims_size() == 0) return false;
        t.mutable_dims()->RemoveLast();
        return true;
      case 2:
        if (t.raw_data().empty()) return false;
        t.mutable_raw_data()->resize(size_t(pick(int(t.raw_data().size()))));
        return true;
      default:  // a value that folding and kernels then meet
        if (t.raw_data().size() < 4) return false;
        {
          const float v = interesting_float();
          const size_t at = size_t(pick(int(t.raw_data().size() / 4))) * 4;
          std::memcpy(t.mutable_raw_data()->data() + at, &v, sizeof v);
        }
        return true;
    }
  }

  bool mutate_graph_io(onnx::GraphProto& g) {
    switch (pick(3)) {
      case 0:
        if (g.output_size() == 0) return false;
        g.mutable_output(pick(g.output_size()))->set_name(pick_from(value_names(g)));
        return true;
      case 1:
        if (g.input_size() == 0) return false;
        g.mutable_input()->DeleteSubrange(pick(g.input_size()), 1);
        return true;
      default: {
        if (g.node_size() == 0) return false;
        const onnx::NodeProto& n = g.node(pick(g.node_size()));
        if (n.output_size() == 0) return false;
        g.add_output()->set_name(n.output(pick(n.output_size())));
        return true;
      }
    }
  }

  onnx::ModelProto& model_;
  std::mt19937 rng_;
};

}  // namespace

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size, unsigned int seed) {
  onnx::ModelProto model;
  // One input in eight gets byte mutations anyway: the parser and odd encodings stay covered.
  if (seed % 8 == 0 || !model.ParseFromArray(data, int(size))) return LLVMFuzzerMutate(data, size, max_size);
  ModelMutator mutator(model, seed);
  for (int tries = 0; tries < 8 && !mutator.mutate_once(); ++tries) {
  }
  const std::string bytes = model.SerializeAsString();
  if (bytes.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, bytes.data(), bytes.size());
  return bytes.size();
}
#endif
