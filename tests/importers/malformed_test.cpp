// Malformed and unsupported ONNX models: each must be a clear error (BadInput or Unsupported,
// exit code 2 from the CLI) naming the problem and, where there is one, the node. The models
// are built here with the protobuf API so every case is readable in this file.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

#include "core/limits.h"
#include "importers/onnx/onnx_importer.h"
#include "onnx/onnx.pb.h"

using namespace nnc;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  const fs::path dir = fs::temp_directory_path() / fmt::format("nnc_malformed_{}", ::getpid());
  fs::create_directories(dir);
  return dir;
}

onnx::ValueInfoProto* add_value_info(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
                                     const std::string& name, std::vector<int64_t> dims) {
  onnx::ValueInfoProto* v = list->Add();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  return v;
}

onnx::NodeProto* add_node(onnx::GraphProto* g, const std::string& op, const std::string& name,
                          std::vector<std::string> inputs, std::vector<std::string> outputs) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (auto& i : inputs) n->add_input(i);
  for (auto& o : outputs) n->add_output(o);
  return n;
}

// A valid model: y = Relu(x + w), x f32[2,3], w an initializer.
onnx::ModelProto valid_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("valid");
  add_value_info(g->mutable_input(), "x", {2, 3});
  add_value_info(g->mutable_output(), "y", {2, 3});
  onnx::TensorProto* w = g->add_initializer();
  w->set_name("w");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(2);
  w->add_dims(3);
  for (int i = 0; i < 6; ++i) w->add_float_data(float(i));
  add_node(g, "Add", "add_1", {"x", "w"}, {"s"});
  add_node(g, "Relu", "relu_2", {"s"}, {"y"});
  return m;
}

std::string bytes_of(const onnx::ModelProto& m) { return m.SerializeAsString(); }

// Imports `bytes` and checks the error's kind and that its message contains `needle`.
void expect_import_error(const std::string& bytes, ErrorKind kind, const std::string& needle, const fs::path& dir = {}) {
  try {
    import_onnx_bytes(bytes, dir);
    FAIL("import succeeded but should have failed with: " << needle);
  } catch (const Error& e) {
    INFO("message: " << std::string(e.what()));
    CHECK(e.kind() == kind);
    CHECK(std::string(e.what()).find(needle) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("importer: the valid base model imports (so each case below breaks exactly one thing)") {
  const Graph g = import_onnx_bytes(bytes_of(valid_model()), {});
  CHECK(g.nodes.size() == 2);
}

TEST_CASE("importer: an empty file is refused") { expect_import_error("", ErrorKind::BadInput, "empty"); }

TEST_CASE("importer: a truncated model is refused") {
  const std::string bytes = bytes_of(valid_model());
  expect_import_error(bytes.substr(0, bytes.size() / 2), ErrorKind::BadInput, "protobuf parsing failed");
}

TEST_CASE("importer: text that is not protobuf is refused") {
  expect_import_error("this is not an onnx model at all\n", ErrorKind::BadInput, "not a valid ONNX model");
}

TEST_CASE("importer: an input no node, initializer or graph input produces is named") {
  onnx::ModelProto m = valid_model();
  m.mutable_graph()->mutable_node(1)->set_input(0, "nowhere");
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "node 'relu_2' (Relu, opset 17): input 'nowhere' is not produced");
}

TEST_CASE("importer: a cycle names the nodes that wait on each other") {
  onnx::ModelProto m = valid_model();
  m.mutable_graph()->mutable_node(0)->set_input(0, "y");  // add reads relu's output, relu reads add's
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "has a cycle");
}

TEST_CASE("importer: an initializer whose data does not match its shape is refused before allocating") {
  onnx::ModelProto m = valid_model();
  onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_raw_data(std::string(20, '\0'));  // 5 floats for a [2,3] tensor
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "initializer 'w': raw_data has 20 bytes but f32[2,3] needs 24");
}

TEST_CASE("importer: an attribute of the wrong type names the node and the attribute") {
  onnx::ModelProto m = valid_model();
  onnx::NodeProto* n = add_node(m.mutable_graph(), "Softmax", "softmax_3", {"y"}, {"z"});
  onnx::AttributeProto* a = n->add_attribute();
  a->set_name("axis");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s("last");
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "node 'softmax_3' (Softmax, opset 17): attribute 'axis' is string but must be int");
}

TEST_CASE("importer: absurd dims are refused without allocating") {
  onnx::ModelProto m = valid_model();
  onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_dims();
  w->add_dims(int64_t(1) << 40);
  w->add_dims(int64_t(1) << 40);
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "over the tensor bytes limit");
}

TEST_CASE("importer: missing external data names the file") {
  const fs::path dir = temp_dir();
  onnx::ModelProto m = valid_model();
  onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* entry = w->add_external_data();
  entry->set_key("location");
  entry->set_value("weights.bin");
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "weights.bin", dir);
}

TEST_CASE("importer: external data outside the model's directory is refused") {
  const fs::path dir = temp_dir() / "model";
  fs::create_directories(dir);
  { std::ofstream(dir.parent_path() / "secret.bin") << std::string(24, 'x'); }
  onnx::ModelProto m = valid_model();
  onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* entry = w->add_external_data();
  entry->set_key("location");
  entry->set_value("../secret.bin");
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "outside the model's directory", dir);
}

TEST_CASE("importer: external data within the model's directory loads") {
  const fs::path dir = temp_dir() / "ext_ok";
  fs::create_directories(dir);
  const float values[6] = {1, 2, 3, 4, 5, 6};
  { std::ofstream(dir / "w.bin", std::ios::binary).write(reinterpret_cast<const char*>(values), sizeof values); }
  onnx::ModelProto m = valid_model();
  onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* entry = w->add_external_data();
  entry->set_key("location");
  entry->set_value("w.bin");
  const Graph g = import_onnx_bytes(bytes_of(m), dir);
  const Tensor* data = g.const_data(g.find("w"));
  REQUIRE(data != nullptr);
  CHECK(data->data<float>()[5] == 6.0f);
}

TEST_CASE("importer: every unsupported op is reported at once with op, domain, opset and nodes") {
  onnx::ModelProto m = valid_model();
  add_node(m.mutable_graph(), "FancyOp", "fancy_a", {"y"}, {"f1"});
  add_node(m.mutable_graph(), "FancyOp", "fancy_b", {"f1"}, {"f2"});
  onnx::NodeProto* custom = add_node(m.mutable_graph(), "MyPlugin", "plugin_7", {"f2"}, {"f3"});
  custom->set_domain("com.acme");
  auto* o = m.add_opset_import();
  o->set_domain("com.acme");
  o->set_version(1);
  try {
    import_onnx_bytes(bytes_of(m), {});
    FAIL("expected an error");
  } catch (const Error& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(e.kind() == ErrorKind::Unsupported);
    CHECK(msg.find("2 ops nnc does not support") != std::string::npos);
    CHECK(msg.find("FancyOp") != std::string::npos);
    CHECK(msg.find("fancy_a, fancy_b") != std::string::npos);
    CHECK(msg.find("com.acme v1") != std::string::npos);
    CHECK(msg.find("plugin_7") != std::string::npos);
  }
}

TEST_CASE("importer: a value defined twice is refused (values are assigned once)") {
  onnx::ModelProto m = valid_model();
  m.mutable_graph()->mutable_node(1)->set_output(0, "s");
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "output 's' is already defined");
}

TEST_CASE("importer: shapes that do not broadcast name the node and both shapes") {
  onnx::ModelProto m = valid_model();
  m.mutable_graph()->mutable_initializer(0)->set_dims(1, 4);
  for (int i = 0; i < 2; ++i) m.mutable_graph()->mutable_initializer(0)->add_float_data(0);
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "node 'add_1' (Add)");
}

TEST_CASE("importer: an attribute the op does not have is refused, not ignored") {
  onnx::ModelProto m = valid_model();
  onnx::AttributeProto* a = m.mutable_graph()->mutable_node(1)->add_attribute();
  a->set_name("alpha");  // Relu has none; LeakyRelu's alpha would be silently dropped
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(0.1f);
  expect_import_error(bytes_of(m), ErrorKind::Unsupported, "node 'relu_2' (Relu, opset 17): attribute 'alpha' is not one nnc knows");
}

TEST_CASE("importer: an opset newer than nnc knows is refused") {
  onnx::ModelProto m = valid_model();
  m.mutable_opset_import(0)->set_version(99);
  expect_import_error(bytes_of(m), ErrorKind::Unsupported, "opset 99");
}

TEST_CASE("importer: a model with no graph is refused") {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.add_opset_import()->set_version(17);
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "no graph");
}

#ifdef NNC_CLI_PATH
TEST_CASE("nnc CLI: malformed models exit with code 2 and a message, never a crash") {
  const fs::path dir = temp_dir();
  const std::string truncated = bytes_of(valid_model()).substr(0, 30);
  const std::vector<std::pair<std::string, std::string>> files = {
      {"empty.onnx", ""}, {"truncated.onnx", truncated}, {"text.onnx", "graph is not here\n"}};
  for (const auto& [name, content] : files) {
    std::ofstream(dir / name, std::ios::binary) << content;
    const std::string command = fmt::format("{} inspect {} > {} 2>&1", NNC_CLI_PATH, (dir / name).string(), (dir / "out.txt").string());
    const int status = std::system(command.c_str());
    INFO(name);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    std::ifstream out(dir / "out.txt");
    const std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
    CHECK(text.find("nnc: error:") != std::string::npos);
  }
  const int missing = std::system(fmt::format("{} inspect {} > /dev/null 2>&1", NNC_CLI_PATH, (dir / "nope.onnx").string()).c_str());
  CHECK(WEXITSTATUS(missing) == 2);
  const int bad_usage = std::system(fmt::format("{} run --no-such-option > /dev/null 2>&1", NNC_CLI_PATH).c_str());
  CHECK(WEXITSTATUS(bad_usage) == 2);
}
#endif

TEST_CASE("importer: the node, rank, graph-bytes and nesting limits name their variable") {
  const ResourceLimits saved = resource_limits();
  ResourceLimits low;
  low.max_nodes = 1;
  set_resource_limits(low);
  expect_import_error(bytes_of(valid_model()), ErrorKind::BadInput, "NNC_MAX_NODES");
  low = ResourceLimits();
  low.max_rank = 1;
  set_resource_limits(low);
  expect_import_error(bytes_of(valid_model()), ErrorKind::BadInput, "rank is 2, over the rank limit of 1");
  low = ResourceLimits();
  low.max_graph_bytes = 16;  // the initializer holds 24
  set_resource_limits(low);
  expect_import_error(bytes_of(valid_model()), ErrorKind::BadInput, "NNC_MAX_GRAPH_BYTES");

  // Ifs nested 20 deep, each then-branch holding the next If (protobuf itself refuses messages
  // nested over 100 deep: 33 Ifs).
  onnx::ModelProto m = valid_model();
  onnx::GraphProto* g = m.mutable_graph();
  g->clear_node();
  g->clear_initializer();
  add_node(g, "Relu", "relu", {"x"}, {"y"});
  onnx::GraphProto* outer = g;
  for (int i = 0; i < 20; ++i) {
    onnx::NodeProto* n = add_node(outer, "If", fmt::format("if_{}", i), {"c"}, {fmt::format("r{}", i)});
    onnx::AttributeProto* then_branch = n->add_attribute();
    then_branch->set_name("then_branch");
    then_branch->set_type(onnx::AttributeProto::GRAPH);
    outer = then_branch->mutable_g();
    outer->set_name(fmt::format("then_{}", i));
  }
  add_value_info(g->mutable_input(), "c", {});
  low = ResourceLimits();
  low.max_subgraph_depth = 10;
  set_resource_limits(low);
  expect_import_error(bytes_of(m), ErrorKind::BadInput, "subgraph depth limit of 10 (set NNC_MAX_SUBGRAPH_DEPTH");
  set_resource_limits(saved);
}
