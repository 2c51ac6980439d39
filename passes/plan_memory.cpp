// passes/plan_memory.cpp — lifetimes over the final schedule, then one arena.
//
// 1. Buffers. Every intermediate with a known shape gets a buffer, except graph outputs (the
//    caller keeps those) and outputs of ops that size them at run time. Two rules let values
//    share a buffer:
//      zero-copy Concat (passes/eliminate_concat.cpp): each input is a slice of the output's
//        buffer, at the byte offset where the Concat would have copied it;
//      in place: an elementwise op (Relu, Add, ...) whose input dies at this node and has the
//        output's size writes its output over the input.
// 2. Lifetimes. A buffer is live from the first node that writes any of its values to the last
//    node that reads any of them (node indices in execution order, inclusive).
// 3. Offsets, greedy by size: biggest buffer first, each at the lowest 64-byte-aligned offset
//    that overlaps no already placed buffer live at the same time. (Largest-first is the
//    heuristic TFLite's and ONNX Runtime's planners use; on U-Nets it lands on the bound.)
// The report compares the arena with the naive sum (every intermediate allocated separately)
// and with the lower bound no placement can beat: the most bytes live at any one step.
#include "passes/plan_memory.h"

#include <algorithm>
#include <numeric>

#include "ops/interpreter.h"
#include "ops/op_def.h"

namespace nnc {
namespace {

constexpr int64_t kAlignment = 64;

int64_t aligned(int64_t bytes) { return (std::max<int64_t>(bytes, 1) + kAlignment - 1) / kAlignment * kAlignment; }

int64_t byte_size(const TensorType& t) { return product(t.shape.concrete()) * int64_t(dtype_size(t.dtype)); }

// Ops whose reference kernels read element i of an input before writing element i of the output
// and touch nothing else of it: the output may overwrite an input of the same shape.
bool elementwise(OpKind op) {
  switch (op) {
    case OpKind::Relu: case OpKind::LeakyRelu: case OpKind::Sigmoid: case OpKind::Tanh: case OpKind::HardSigmoid:
    case OpKind::HardSwish: case OpKind::Gelu: case OpKind::Exp: case OpKind::Neg: case OpKind::Abs:
    case OpKind::Sqrt: case OpKind::Add: case OpKind::Sub: case OpKind::Mul: case OpKind::Div:
      return true;
    default:
      return false;
  }
}

struct Buffer {
  int64_t bytes = 0;
  int first = 0, last = 0;  // node indices, inclusive
  int64_t offset = -1;
};

}  // namespace

MemoryPlan plan_memory(const Graph& g) {
  MemoryPlan plan;
  const size_t value_count = g.values.size(), node_count = g.nodes.size();
  plan.offset.assign(value_count, -1);
  plan.skip_node.assign(node_count, false);
  plan.in_place_node.assign(node_count, false);

  // Which node writes each value and which reads it last.
  std::vector<int> producer(value_count, -1), last_use(value_count, -1);
  for (size_t n = 0; n < node_count; ++n) {
    for (ValueId v : g.nodes[n].inputs)
      if (v != kNoValue) last_use[size_t(v)] = int(n);
    for (ValueId v : g.nodes[n].outputs)
      if (v != kNoValue) producer[size_t(v)] = int(n);
    for (const std::string& name : captured_names(g.nodes[n]))  // read inside an If/Loop body
      if (const ValueId v = g.find(name); v != kNoValue) last_use[size_t(v)] = std::max(last_use[size_t(v)], int(n));
  }
  std::vector<bool> planned(value_count, false);
  for (size_t n = 0; n < node_count; ++n) {
    const Node& node = g.nodes[n];
    const bool subgraphs = std::any_of(node.attrs.begin(), node.attrs.end(),
                                       [](const Attribute& a) { return attr_type(a.value) == AttrType::Graph; });
    if (op_def(node.op).allocates_outputs || subgraphs) continue;
    for (ValueId v : node.outputs)
      if (v != kNoValue && !g.is_output(v) && g.type(v).shape.fully_known()) planned[size_t(v)] = true;
  }

  // Each planned value's buffer (a representative value) and its byte offset inside it.
  std::vector<ValueId> buffer_of(value_count, kNoValue);
  std::vector<int64_t> offset_in_buffer(value_count, 0);
  std::vector<bool> shared(value_count, false);  // member of a zero-copy Concat's buffer
  for (size_t v = 0; v < value_count; ++v)
    if (planned[v]) buffer_of[v] = ValueId(v);

  for (size_t n = 0; n < node_count; ++n) {
    const Node& node = g.nodes[n];
    if (node.op != OpKind::Concat || attr_int(node, "zero_copy") == 0) continue;
    const ValueId out = node.outputs[0];
    bool ok = planned[size_t(out)] && !shared[size_t(out)];
    for (ValueId v : node.inputs) ok = ok && v != kNoValue && planned[size_t(v)] && !shared[size_t(v)] && v != out;
    if (!ok) continue;  // then the Concat simply copies
    int64_t at = 0;
    for (ValueId v : node.inputs) {
      buffer_of[size_t(v)] = out;
      offset_in_buffer[size_t(v)] = at;
      shared[size_t(v)] = true;
      at += byte_size(g.type(v));
    }
    shared[size_t(out)] = true;
    plan.skip_node[n] = true;
    ++plan.zero_copy_concats;
  }

  for (size_t n = 0; n < node_count; ++n) {
    const Node& node = g.nodes[n];
    if (!elementwise(node.op) || node.outputs.size() != 1) continue;
    const ValueId out = node.outputs[0];
    if (!planned[size_t(out)] || shared[size_t(out)]) continue;  // shared here: a Concat slice
    for (ValueId in : node.inputs) {
      if (in == kNoValue || !planned[size_t(in)] || last_use[size_t(in)] != int(n) || shared[size_t(in)]) continue;
      if (std::count(node.inputs.begin(), node.inputs.end(), in) != 1) continue;  // Mul(x, x) reads x twice
      if (g.type(in).dtype != g.type(out).dtype || byte_size(g.type(in)) != byte_size(g.type(out))) continue;
      buffer_of[size_t(out)] = buffer_of[size_t(in)];  // chains (x -> Relu -> Add) share one buffer
      plan.in_place_node[n] = true;
      ++plan.in_place;
      break;
    }
  }

  // Buffers and their lifetimes.
  std::vector<Buffer> buffers(value_count);
  std::vector<bool> is_buffer(value_count, false);
  for (size_t v = 0; v < value_count; ++v) {
    if (!planned[v]) continue;
    ++plan.planned_values;
    plan.naive_bytes += aligned(byte_size(g.type(ValueId(v))));
    const size_t b = size_t(buffer_of[v]);
    Buffer& buffer = buffers[b];
    const int first = producer[v], last = std::max(producer[v], last_use[v]);
    if (!is_buffer[b]) {
      is_buffer[b] = true;
      buffer = Buffer{aligned(byte_size(g.type(ValueId(b)))), first, last};
    }
    buffer.first = std::min(buffer.first, first);
    buffer.last = std::max(buffer.last, last);
  }
  std::vector<size_t> order;
  for (size_t b = 0; b < value_count; ++b)
    if (is_buffer[b]) order.push_back(b);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });

  std::vector<size_t> placed;
  for (size_t b : order) {
    Buffer& buffer = buffers[b];
    std::vector<std::pair<int64_t, int64_t>> busy;  // [begin, end) of buffers live at the same time
    for (size_t other : placed) {
      const Buffer& o = buffers[other];
      if (o.first <= buffer.last && buffer.first <= o.last) busy.emplace_back(o.offset, o.offset + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    int64_t at = 0;
    for (const auto& [begin, end] : busy) {
      if (at + buffer.bytes <= begin) break;
      at = std::max(at, end);
    }
    buffer.offset = at;
    plan.arena_bytes = std::max(plan.arena_bytes, at + buffer.bytes);
    placed.push_back(b);
  }
  for (size_t v = 0; v < value_count; ++v)
    if (planned[v]) plan.offset[v] = buffers[size_t(buffer_of[v])].offset + offset_in_buffer[v];

  // The lower bound: the most bytes live at one step.
  std::vector<int64_t> live(node_count + 1, 0);
  for (size_t b : order) {
    live[size_t(buffers[b].first)] += buffers[b].bytes;
    live[size_t(buffers[b].last) + 1] -= buffers[b].bytes;
  }
  int64_t running = 0;
  for (int64_t delta : live) plan.lower_bound_bytes = std::max(plan.lower_bound_bytes, running += delta);
  return plan;
}

std::string describe(const MemoryPlan& plan) {
  const double mib = 1 << 20;
  return fmt::format(
      "memory plan: arena {:.2f} MiB for {} intermediates ({} in place, {} zero-copy Concats); naive sum {:.2f} MiB, "
      "lower bound {:.2f} MiB (arena/bound {:.3f})",
      double(plan.arena_bytes) / mib, plan.planned_values, plan.in_place, plan.zero_copy_concats,
      double(plan.naive_bytes) / mib, double(plan.lower_bound_bytes) / mib,
      plan.lower_bound_bytes ? double(plan.arena_bytes) / double(plan.lower_bound_bytes) : 1.0);
}

}  // namespace nnc
