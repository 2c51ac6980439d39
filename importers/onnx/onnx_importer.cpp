// importers/onnx/onnx_importer.cpp — builds an nnc Graph from an ONNX ModelProto.
//
// Order of work: check the envelope (IR version, opsets), convert initializers and inputs,
// sort the nodes topologically (real exports are not always sorted), convert each node
// (attributes, legacy opset forms, subgraphs), then infer types, fold shape subgraphs and verify.
// Unsupported ops are collected and reported all at once, grouped by op.
#include "importers/onnx/onnx_importer.h"

#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "core/ir_text.h"
#include "core/limits.h"
#include "importers/onnx/tensor_proto.h"
#include "onnx/onnx.pb.h"
#include "ops/op_def.h"
#include "ops/shape_inference.h"
#include "passes/fold_constants.h"

namespace nnc {
namespace fs = std::filesystem;
using namespace onnx_import;

namespace {

constexpr int kMinOpset = 1;
constexpr int kMaxOpset = 19;
constexpr int kMaxIrVersion = 9;

// ONNX op types that are another op under an older name.
struct Alias {
  std::string_view onnx_name;
  OpKind kind;
  int as_opset;  // the upgrade hook sees this opset (the old form's)
};
constexpr Alias kAliases[] = {
    {"Upsample", OpKind::Resize, 10},          // Upsample(X, scales) is Resize-10 with asymmetric coords
    {"Scatter", OpKind::ScatterElements, 11},  // deprecated name, same semantics
};

// A lexical scope for subgraphs: names visible from enclosing graphs.
struct Scope {
  const Graph* graph = nullptr;
  const Scope* parent = nullptr;
  bool defines(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent)
      if (s->graph && s->graph->find(name) != kNoValue) return true;
    return false;
  }
};

struct UnsupportedOp {
  std::string op_type, domain;
  int opset = 0;
  std::vector<std::string> nodes;
};

bool equal_simple(const AttrValue& a, const AttrValue& b) {
  if (a.index() != b.index()) return false;
  if (const auto* x = std::get_if<int64_t>(&a)) return *x == std::get<int64_t>(b);
  if (const auto* x = std::get_if<float>(&a)) return *x == std::get<float>(b);
  if (const auto* x = std::get_if<std::string>(&a)) return *x == std::get<std::string>(b);
  if (const auto* x = std::get_if<std::vector<int64_t>>(&a)) return *x == std::get<std::vector<int64_t>>(b);
  if (const auto* x = std::get_if<std::vector<float>>(&a)) return *x == std::get<std::vector<float>>(b);
  if (const auto* x = std::get_if<std::vector<std::string>>(&a)) return *x == std::get<std::vector<std::string>>(b);
  return false;
}

// Names every intermediate value after the node that produces it ("/stage1/conv/Conv" ->
// %stage1.conv.Conv), so the IR text reads like the model's module tree rather than exporter
// numbering ("onnx::Conv_123"). Graph inputs and outputs keep their ONNX names (users refer to
// them), and so do values a subgraph captures by name.
void name_values_after_nodes(Graph& g) {
  std::set<std::string> captured;
  std::vector<const Graph*> stack;
  for (const Node& n : g.nodes)
    for (const Attribute& a : n.attrs)
      if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&a.value); sub && *sub) stack.push_back(sub->get());
  while (!stack.empty()) {
    const Graph* sub = stack.back();
    stack.pop_back();
    for (const Value& v : sub->values)
      if (v.kind == ValueKind::Outer) captured.insert(v.name);
    for (const Node& n : sub->nodes)
      for (const Attribute& a : n.attrs)
        if (const auto* inner = std::get_if<std::shared_ptr<Graph>>(&a.value); inner && *inner) stack.push_back(inner->get());
  }
  for (const Node& n : g.nodes) {
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      const ValueId id = n.outputs[i];
      if (id == kNoValue || g.is_output(id) || captured.contains(g.value(id).name)) continue;
      const std::string base = sanitize_name(n.name) + (i == 0 ? "" : fmt::format(".{}", i));
      if (g.value(id).name == base) continue;
      g.rename_value(id, g.unique_value_name(base));
    }
  }
}

class Importer {
 public:
  Importer(fs::path model_dir, const ImportOptions& options) : model_dir_(std::move(model_dir)), options_(options) {}

  Graph import_model(const onnx::ModelProto& model);

 private:
  Graph convert_graph(const onnx::GraphProto& proto, const Scope* outer, int depth);
  std::vector<int> sorted_node_order(const onnx::GraphProto& proto, const Graph& g, const Scope* outer);
  void convert_node(const onnx::NodeProto& proto, int index, Graph& g, const Scope& scope, int depth);
  AttrValue convert_attr(const onnx::AttributeProto& a, const std::string& where, const Scope& scope, int depth);
  // A TensorProto as a Tensor, counted against the graph-bytes limit.
  Tensor read_constant(const onnx::TensorProto& proto, const std::string& what);
  TensorType convert_type(const onnx::ValueInfoProto& info, const std::string& where);
  int opset_of(const std::string& domain) const;

  fs::path model_dir_;
  const ImportOptions& options_;
  std::map<std::string, int> opsets_;  // domain -> version
  std::map<std::string, UnsupportedOp> unsupported_;
  std::set<std::string> node_names_;
  uint64_t node_count_ = 0;      // nodes read so far, subgraphs included (the nodes limit)
  uint64_t constant_bytes_ = 0;  // bytes of initializers and tensor attributes (the graph-bytes limit)
};

int Importer::opset_of(const std::string& domain) const {
  const auto it = opsets_.find(domain == "ai.onnx" ? "" : domain);
  return it == opsets_.end() ? 0 : it->second;
}

Graph Importer::import_model(const onnx::ModelProto& model) {
  if (!model.has_ir_version()) bad_input("no ir_version: this is not an ONNX model");
  if (model.ir_version() < 3 || model.ir_version() > kMaxIrVersion)
    fail(ErrorKind::Unsupported, "IR version {} is not supported (nnc reads 3 to {})", model.ir_version(), kMaxIrVersion);
  for (const auto& o : model.opset_import())
    opsets_[o.domain() == "ai.onnx" ? "" : o.domain()] = int(o.version());
  // A model made only of other domains' ops (ai.onnx.preview.training) may import no ai.onnx
  // opset; a node of the default domain in it is refused in convert_node.
  if (model.opset_import_size() == 0) bad_input("the model imports no opset");
  const int opset = opset_of("") == 0 ? kMaxOpset : opset_of("");
  if (opset < kMinOpset || opset > kMaxOpset)
    fail(ErrorKind::Unsupported, "opset {} is not supported (nnc reads opsets up to {})", opset, kMaxOpset);
  if (!model.has_graph()) bad_input("the model has no graph");

  Graph g = convert_graph(model.graph(), nullptr, 0);
  g.opset = opset;
  if (!unsupported_.empty()) {
    std::string message = fmt::format("the model uses {} op{} nnc does not support:", unsupported_.size(),
                                      unsupported_.size() == 1 ? "" : "s");
    for (const auto& [key, u] : unsupported_) {
      std::string names;
      for (size_t i = 0; i < u.nodes.size() && i < 5; ++i) names += (i ? ", " : "") + u.nodes[i];
      if (u.nodes.size() > 5) names += fmt::format(", ... ({} more)", u.nodes.size() - 5);
      message += fmt::format("\n  {:<24} {} v{}  {} node{}: {}", u.op_type, u.domain.empty() ? "ai.onnx" : u.domain,
                             u.opset, u.nodes.size(), u.nodes.size() == 1 ? "" : "s", names);
    }
    throw Error(ErrorKind::Unsupported, message);
  }
  for (const auto& [name, dims] : options_.input_shapes)
    if (g.find(name) == kNoValue || g.value(g.find(name)).kind != ValueKind::Input)
      bad_input("--input-shape names '{}', which is not an input of the model", name);

  name_values_after_nodes(g);
  infer_types(g);
  if (options_.fold_constants) {
    // Folding a shape read can make the next node's inputs constant; repeat until stable.
    while (fold_constants(g).changed()) infer_types(g);
    g.compact_values();
  }
  verify(g, /*from_file=*/true);
  return g;
}

TensorType Importer::convert_type(const onnx::ValueInfoProto& info, const std::string& where) {
  if (!info.has_type() || !info.type().has_tensor_type())
    fail(ErrorKind::Unsupported, "{} '{}' is not a tensor (sequences, maps and optionals are not supported)",
         where, info.name());
  const auto& tt = info.type().tensor_type();
  const std::optional<DType> dtype = dtype_from_onnx(tt.elem_type());
  if (!dtype)
    fail(ErrorKind::Unsupported, "{} '{}' has element type {}, which nnc does not support", where, info.name(),
         onnx_type_name(tt.elem_type()));
  TensorType type{*dtype, Shape::unknown_rank()};
  if (tt.has_shape()) {
    check_limit(fmt::format("{} '{}''s rank", where, info.name()), "rank", uint64_t(tt.shape().dim_size()));
    std::vector<Dim> dims;
    for (const auto& d : tt.shape().dim()) {
      if (d.has_dim_value()) {
        if (d.dim_value() < 0) bad_input("{} '{}' has negative dimension {}", where, info.name(), d.dim_value());
        // No tensor within the byte limit has a longer axis (but for empty ones, refused too):
        // bounding declared dims keeps every later shape sum and product far from overflow.
        if (uint64_t(d.dim_value()) > resource_limits().max_tensor_bytes)
          check_limit(fmt::format("{} '{}''s dimension", where, info.name()), "tensor bytes", uint64_t(d.dim_value()));
        dims.emplace_back(d.dim_value());
      } else if (d.has_dim_param() && !d.dim_param().empty()) {
        dims.push_back(Dim::named(d.dim_param()));
      } else {
        dims.emplace_back();
      }
    }
    type.shape = Shape(std::move(dims));
  }
  return type;
}

// Kahn's algorithm, taking ready nodes in file order so sorted files keep their order.
std::vector<int> Importer::sorted_node_order(const onnx::GraphProto& proto, const Graph& g, const Scope* outer) {
  const int count = proto.node_size();
  std::map<std::string, int> producer;
  for (int i = 0; i < count; ++i)
    for (const std::string& out : proto.node(i).output())
      if (!out.empty()) producer.emplace(out, i);

  // Names a node reads, including those its subgraphs capture from this graph.
  auto reads = [&](const onnx::NodeProto& n) {
    std::vector<std::string> names(n.input().begin(), n.input().end());
    std::vector<const onnx::GraphProto*> stack;
    for (const auto& a : n.attribute()) {
      if (a.has_g()) stack.push_back(&a.g());
      for (const auto& sub : a.graphs()) stack.push_back(&sub);
    }
    for (size_t depth = 0; !stack.empty() && depth < 100000; ++depth) {
      const onnx::GraphProto* sub = stack.back();
      stack.pop_back();
      for (const auto& sn : sub->node()) {
        names.insert(names.end(), sn.input().begin(), sn.input().end());
        for (const auto& a : sn.attribute())
          if (a.has_g()) stack.push_back(&a.g());
      }
    }
    return names;
  };

  std::vector<std::vector<int>> users(static_cast<size_t>(count));
  std::vector<int> pending(size_t(count), 0);
  for (int i = 0; i < count; ++i) {
    std::set<int> deps;
    for (const std::string& name : reads(proto.node(i))) {
      const auto it = producer.find(name);
      if (it != producer.end() && it->second != i) deps.insert(it->second);
      else if (it != producer.end() && it->second == i && !name.empty() &&
               std::find(proto.node(i).input().begin(), proto.node(i).input().end(), name) != proto.node(i).input().end())
        bad_input("node '{}' ({}) reads its own output '{}' (a cycle)", proto.node(i).name(), proto.node(i).op_type(), name);
    }
    pending[size_t(i)] = int(deps.size());
    for (int d : deps) users[size_t(d)].push_back(i);
  }
  std::set<int> ready;
  for (int i = 0; i < count; ++i)
    if (pending[size_t(i)] == 0) ready.insert(i);
  std::vector<int> order;
  while (!ready.empty()) {
    const int i = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(i);
    for (int u : users[size_t(i)])
      if (--pending[size_t(u)] == 0) ready.insert(u);
  }
  if (int(order.size()) != count) {
    std::string names;
    int listed = 0;
    for (int i = 0; i < count && listed < 6; ++i)
      if (pending[size_t(i)] > 0) {
        names += fmt::format("{}'{}' ({})", listed ? ", " : "", proto.node(i).name(), proto.node(i).op_type());
        ++listed;
      }
    bad_input("graph '{}' has a cycle: these nodes wait on each other: {}", proto.name(), names);
  }
  return order;
}

Graph Importer::convert_graph(const onnx::GraphProto& proto, const Scope* outer, int depth) {
  check_limit(fmt::format("graph '{}''s subgraph nesting depth", proto.name()), "subgraph depth", uint64_t(depth));
  node_count_ += uint64_t(proto.node_size());
  check_limit("the model's node count (subgraphs included)", "nodes", node_count_);
  Graph g;
  g.name = proto.name().empty() ? "main" : proto.name();
  g.opset = opset_of("");
  if (proto.sparse_initializer_size() > 0)
    fail(ErrorKind::Unsupported, "graph '{}' has sparse initializers, which nnc does not support", g.name);

  for (const onnx::TensorProto& init : proto.initializer()) {
    const std::string what = fmt::format("initializer '{}'", init.name());
    if (init.name().empty()) bad_input("an initializer has no name");
    if (g.find(init.name()) != kNoValue) bad_input("{} is defined twice", what);
    g.add_const(init.name(), read_constant(init, what));
  }
  for (const onnx::ValueInfoProto& info : proto.input()) {
    if (info.name().empty()) bad_input("graph '{}' has an input without a name", g.name);
    const ValueId existing = g.find(info.name());
    if (existing != kNoValue) {
      if (g.value(existing).kind == ValueKind::Const) continue;  // IR < 4 lists initializers as inputs
      bad_input("graph input '{}' is listed twice", info.name());
    }
    TensorType type = convert_type(info, "input");
    if (depth == 0) {
      const auto it = options_.input_shapes.find(info.name());
      if (it != options_.input_shapes.end()) {
        if (type.shape.rank_known && type.rank() != int(it->second.size()))
          bad_input("--input-shape gives '{}' rank {} but the model declares {}", info.name(), it->second.size(),
                    to_string(type));
        type.shape = Shape(it->second);
      }
    }
    g.add_input(info.name(), type);
  }

  const Scope scope{&g, outer};
  for (int index : sorted_node_order(proto, g, outer)) convert_node(proto.node(index), index, g, scope, depth);

  for (const onnx::ValueInfoProto& info : proto.output()) {
    const ValueId id = g.find(info.name());
    if (id == kNoValue) {
      if (outer && outer->defines(info.name())) {  // a subgraph may return an outer value
        g.outputs.push_back(g.add_outer(info.name(), {}));
        continue;
      }
      bad_input("graph output '{}' is not produced by any node, initializer or input", info.name());
    }
    g.outputs.push_back(id);
  }
  return g;
}

Tensor Importer::read_constant(const onnx::TensorProto& proto, const std::string& what) {
  Tensor t = tensor_from_proto(proto, what, model_dir_);
  constant_bytes_ += t.nbytes();
  check_limit("the bytes of the model's constants", "graph bytes", constant_bytes_);
  return t;
}

AttrValue Importer::convert_attr(const onnx::AttributeProto& a, const std::string& where, const Scope& scope, int depth) {
  using AP = onnx::AttributeProto;
  AP::AttributeType type = a.type();
  if (type == AP::UNDEFINED) {  // old writers leave the type out; deduce it from the field set
    if (a.has_f()) type = AP::FLOAT;
    else if (a.has_i()) type = AP::INT;
    else if (a.has_s()) type = AP::STRING;
    else if (a.has_t()) type = AP::TENSOR;
    else if (a.has_g()) type = AP::GRAPH;
    else if (a.floats_size()) type = AP::FLOATS;
    else if (a.ints_size()) type = AP::INTS;
    else if (a.strings_size()) type = AP::STRINGS;
  }
  switch (type) {
    case AP::FLOAT: return a.f();
    case AP::INT: return int64_t(a.i());
    case AP::STRING: return a.s();
    case AP::FLOATS: return std::vector<float>(a.floats().begin(), a.floats().end());
    case AP::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case AP::STRINGS: return std::vector<std::string>(a.strings().begin(), a.strings().end());
    case AP::TENSOR: return read_constant(a.t(), fmt::format("{}: attribute '{}'", where, a.name()));
    case AP::GRAPH: return std::make_shared<Graph>(convert_graph(a.g(), &scope, depth + 1));
    default:
      fail(ErrorKind::Unsupported, "{}: attribute '{}' has type {}, which nnc does not support", where, a.name(),
           AP::AttributeType_Name(type));
  }
}

void Importer::convert_node(const onnx::NodeProto& proto, int index, Graph& g, const Scope& scope, int depth) {
  const std::string& domain = proto.domain() == "ai.onnx" ? std::string() : proto.domain();
  int opset = opset_of(domain);
  const OpDef* def = find_onnx_op(domain, proto.op_type());
  const ForeignName* foreign = nullptr;
  if (!def) std::tie(def, foreign) = find_foreign_op(domain, proto.op_type());
  if (!def && domain.empty())
    for (const Alias& alias : kAliases)
      if (alias.onnx_name == proto.op_type()) {
        def = &op_def(alias.kind);
        opset = std::min(opset, alias.as_opset);
      }

  std::string name = proto.name().empty() ? fmt::format("{}_{}", proto.op_type(), index) : proto.name();
  if (node_names_.contains(name)) {  // names must be unique across the whole model
    std::string base = name;
    for (int i = 1; node_names_.contains(name); ++i) name = fmt::format("{}.{}", base, i);
  }
  node_names_.insert(name);
  const std::string where = fmt::format("node '{}' ({}, opset {})", name, proto.op_type(), opset);
  if (opset == 0)
    bad_input("node '{}' ({}) is in domain '{}', which the model does not import", name, proto.op_type(),
              domain.empty() ? "ai.onnx" : domain);

  std::vector<ValueId> outputs;
  for (const std::string& out : proto.output()) {
    if (out.empty()) {
      outputs.push_back(kNoValue);
      continue;
    }
    if (g.find(out) != kNoValue)
      bad_input("{}: output '{}' is already defined (by another node, an initializer or an input)", where, out);
    outputs.push_back(g.add_value(out));
  }
  // A foreign node's domain has its own versions (mmcv 1): since_opset speaks of ai.onnx's.
  if (!def || (!foreign && def->since_opset > opset)) {
    UnsupportedOp& u = unsupported_[proto.op_type() + "|" + domain];
    u.op_type = proto.op_type();
    u.domain = domain;
    u.opset = opset;
    u.nodes.push_back(name);
    return;
  }

  std::vector<ValueId> inputs;
  for (const std::string& in : proto.input()) {
    if (in.empty()) {
      inputs.push_back(kNoValue);
      continue;
    }
    ValueId id = g.find(in);
    if (id == kNoValue && scope.parent && scope.parent->defines(in)) id = g.add_outer(in, {});
    if (id == kNoValue)
      bad_input("{}: input '{}' is not produced by any node, initializer or graph input", where, in);
    inputs.push_back(id);
  }

  Node& node = g.add_node(def->kind, name, std::move(inputs), std::move(outputs));
  node.sources.push_back(proto.name().empty() ? name : proto.name());
  for (const onnx::AttributeProto& a : proto.attribute()) {
    if (a.name().empty()) bad_input("{}: an attribute has no name", where);
    if (node.has_attr(a.name())) bad_input("{}: attribute '{}' is given twice", where, a.name());
    AttrValue value = convert_attr(a, where, scope, depth);
    const AttrSpec* spec = nullptr;
    for (const AttrSpec& s : def->attrs)
      if (s.name == a.name()) spec = &s;
    if (spec && spec->type == AttrType::Float && std::holds_alternative<int64_t>(value))
      value = float(std::get<int64_t>(value));  // some writers store whole floats as ints
    if (spec && spec->type != attr_type(value))
      bad_input("{}: attribute '{}' is {} but must be {}", where, a.name(), attr_type_name(attr_type(value)),
                attr_type_name(spec->type));
    // Attributes equal to their default are dropped so the IR text shows only what matters.
    if (spec && spec->default_value && equal_simple(value, *spec->default_value)) continue;
    node.attrs.push_back({a.name(), std::move(value)});
  }

  // Older opsets: attributes that later became inputs.
  for (const LegacyAttr& legacy : def->legacy) {
    if (opset >= legacy.before) continue;
    const AttrValue* value = node.find_attr(legacy.attr);
    if (!value) continue;
    Tensor t;
    if (const auto* ints = std::get_if<std::vector<int64_t>>(value)) t = Tensor::from_vector<int64_t>({int64_t(ints->size())}, *ints);
    else if (const auto* i = std::get_if<int64_t>(value)) t = legacy.scalar ? Tensor::scalar<int64_t>(*i) : Tensor::from_vector<int64_t>({1}, {*i});
    else if (const auto* fs = std::get_if<std::vector<float>>(value)) t = Tensor::from_vector<float>({int64_t(fs->size())}, *fs);
    else if (const auto* f = std::get_if<float>(value)) t = legacy.scalar ? Tensor::scalar<float>(*f) : Tensor::from_vector<float>({1}, {*f});
    else bad_input("{}: attribute '{}' has an unexpected type", where, legacy.attr);
    if (legacy.like_input0 && node.has_input(0)) {
      const DType like = g.type(node.inputs[0]).dtype;
      // Input types are not inferred yet for node outputs; graph inputs and constants know theirs.
      if (g.value(node.inputs[0]).kind != ValueKind::NodeOutput) t = t.cast(like);
    }
    const ValueId c = g.add_const(g.unique_value_name(name + "." + std::string(legacy.attr)), std::move(t));
    if (int(node.inputs.size()) <= legacy.input) node.inputs.resize(size_t(legacy.input) + 1, kNoValue);
    node.inputs[size_t(legacy.input)] = c;
    node.erase_attr(legacy.attr);
  }
  if (foreign && foreign->adapt) foreign->adapt(node);
  if (def->upgrade) {
    UpgradeContext context{opset, [&](Tensor t) {
                             return g.add_const(g.unique_value_name(name + ".const"), std::move(t));
                           }};
    def->upgrade(node, context);
  }
  // Attributes older opsets had whose meaning nnc's form of the op already covers.
  struct RetiredAttr {
    OpKind op;
    std::string_view attr;
    int before;
  };
  static constexpr RetiredAttr kRetired[] = {
      {OpKind::Gemm, "broadcast", 7},  // C broadcasts unidirectionally, as it always does from opset 7
  };
  for (const RetiredAttr& r : kRetired)
    if (node.op == r.op && opset < r.before) node.erase_attr(r.attr);
  // An attribute the op's schema does not know would be silently ignored, computing something
  // other than what the file asks for (ONNX Runtime refuses such models too).
  for (const Attribute& a : node.attrs) {
    bool known = false;
    for (const AttrSpec& spec : def->attrs) known |= spec.name == a.name;
    if (!known)
      fail(ErrorKind::Unsupported, "{}: attribute '{}' is not one nnc knows for {}; ignoring it could give wrong results",
           where, a.name, proto.op_type());
  }
}

}  // namespace

bool looks_like_onnx(const std::string& head) {
  // ModelProto starts with field 1 (ir_version, varint: byte 0x08) in every writer we know.
  return !head.empty() && head[0] == 0x08;
}

Graph import_onnx_bytes(const std::string& bytes, const fs::path& model_dir, const ImportOptions& options) {
  if (bytes.empty()) bad_input("the file is empty");
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes))
    bad_input("not a valid ONNX model: protobuf parsing failed after reading {} bytes (truncated or not ONNX)",
              bytes.size());
  Importer importer(model_dir, options);
  return importer.import_model(model);
}

Graph import_onnx_file(const fs::path& path, const ImportOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) bad_input("{}: no such file", path.string());
  if (fs::is_directory(path, ec)) bad_input("{}: is a directory, not an ONNX file", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_input("{}: cannot open file", path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return import_onnx_bytes(bytes, path.parent_path().empty() ? fs::path(".") : path.parent_path(), options);
  } catch (const Error& e) {
    throw with_context(e, path.string() + ": ");
  }
}

}  // namespace nnc

namespace nnc {

std::map<std::string, std::string> read_onnx_metadata(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_input("{}: cannot open file", path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes)) bad_input("{}: not a valid ONNX model (protobuf parsing failed)", path.string());
  std::map<std::string, std::string> out;
  for (const auto& p : model.metadata_props()) out[p.key()] = p.value();
  return out;
}

}  // namespace nnc
