// core/graph.h — the nnc IR: values, nodes, attributes, subgraphs.
//
// A Graph owns a table of values (graph inputs, constants, node outputs, and for subgraphs the
// values captured from the enclosing graph) and a list of nodes in execution order. Values are
// named; a name is stable across passes ("%conv1" means the same tensor in every dump) and is
// unique within its graph. Nodes refer to values by ValueId (an index into the table); an
// omitted optional input is kNoValue.
//
// Provenance: every node lists the ONNX nodes it came from (`sources`). A pass that fuses nodes
// merges their sources, a pass that creates a node names itself. The IR text prints them as the
// node's trailing comment.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/tensor.h"
#include "ops/op_kind.h"

namespace nnc {

class Graph;
using ValueId = int32_t;
inline constexpr ValueId kNoValue = -1;

enum class ValueKind : uint8_t { Input, Const, NodeOutput, Outer };

struct Value {
  std::string name;  // without the % or @ sigil
  TensorType type;
  ValueKind kind = ValueKind::NodeOutput;
  // Constants: the data (immutable, shared between graph copies). A constant read from IR text
  // written as `blob:...` has no data, only its summary, and cannot be executed.
  std::shared_ptr<const Tensor> data;
  std::string data_text;  // how the IR text wrote the data, kept so it prints back identically
};

// Attribute values, as in ONNX. Floats are f32 because ONNX stores them so.
using AttrValue = std::variant<int64_t, float, std::string, std::vector<int64_t>, std::vector<float>,
                               std::vector<std::string>, Tensor, std::shared_ptr<Graph>>;
enum class AttrType : uint8_t { Int, Float, String, Ints, Floats, Strings, Tensor, Graph };
AttrType attr_type(const AttrValue& v);
std::string_view attr_type_name(AttrType t);

struct Attribute {
  std::string name;
  AttrValue value;
};

struct Node {
  OpKind op = OpKind::Identity;
  std::string name;  // unique, stable; ONNX node name or derived by a pass
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  std::vector<Attribute> attrs;  // in the order the model wrote them
  std::vector<std::string> sources;  // provenance: the ONNX nodes (or passes) it came from

  const AttrValue* find_attr(std::string_view attr_name) const;
  bool has_attr(std::string_view attr_name) const { return find_attr(attr_name) != nullptr; }
  void set_attr(std::string attr_name, AttrValue value);
  bool erase_attr(std::string_view attr_name);
  // Number of inputs actually given (trailing omitted optionals do not count).
  int input_count() const;
  bool has_input(int i) const { return i < int(inputs.size()) && inputs[size_t(i)] != kNoValue; }
};

// "node 'conv1' (Conv)": how errors and reports name a node.
std::string describe(const Node& node);

class Graph {
 public:
  std::string name = "main";
  int opset = 17;  // the ONNX opset whose semantics the ops follow
  std::vector<Value> values;
  std::vector<Node> nodes;  // execution order
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;

  // --- building ---------------------------------------------------------------------------
  ValueId add_input(std::string value_name, TensorType type);
  ValueId add_const(std::string value_name, Tensor data, std::string data_text = "");
  ValueId add_outer(std::string value_name, TensorType type);  // captured from enclosing graph
  ValueId add_value(std::string value_name, TensorType type = {});
  Node& add_node(OpKind op, std::string node_name, std::vector<ValueId> node_inputs,
                 std::vector<ValueId> node_outputs, std::vector<Attribute> attrs = {});
  // A value name not used yet in this graph, derived from `base` ("x", "x.1", "x.2", ...).
  std::string unique_value_name(std::string_view base) const;
  std::string unique_node_name(std::string_view base) const;

  // --- queries ----------------------------------------------------------------------------
  ValueId find(std::string_view value_name) const;  // kNoValue if absent
  Value& value(ValueId id) { return values.at(size_t(id)); }
  const Value& value(ValueId id) const { return values.at(size_t(id)); }
  const TensorType& type(ValueId id) const { return value(id).type; }
  bool is_const(ValueId id) const { return id != kNoValue && value(id).kind == ValueKind::Const; }
  const Tensor* const_data(ValueId id) const;  // nullptr unless a constant with data
  std::vector<ValueId> consts() const;          // constants in table order
  int count(OpKind op) const;

  // Producer node index of each value (-1 for inputs/constants), and consumers (node indices,
  // repeated if a node reads the value twice). Recomputed on each call: passes that edit the
  // graph call them again.
  std::vector<int> producers() const;
  std::vector<std::vector<int>> consumers() const;
  bool is_output(ValueId id) const;

  // --- editing ----------------------------------------------------------------------------
  void rename_value(ValueId id, std::string new_name);
  // Every use of `from` (node inputs, graph outputs) becomes `to`.
  void replace_uses(ValueId from, ValueId to);
  // Removes nodes whose flag is set, keeping order; values stay in the table.
  void erase_nodes(const std::vector<bool>& remove);
  // Drops values nothing refers to (unused constants and dead outputs); renumbers ValueIds.
  void compact_values();

 private:
  void index_name(ValueId id);
  std::unordered_map<std::string, ValueId> name_index_;
};

}  // namespace nnc
