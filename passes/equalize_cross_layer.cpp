// passes/equalize_cross_layer.cpp — cross-layer equalization (Nagel et al., "Data-Free
// Quantization Through Weight Equalization and Bias Correction", ICCV 2019), for INT8.
//
// For two Convs in a row, A -> act -> B, with a positively homogeneous activation between them
// (none, Relu, LeakyRelu: act(x / s) = act(x) / s for s > 0), scaling A's output channel i by
// 1/s_i and B's input channel i by s_i leaves the function unchanged. Per-channel weight
// quantization then loses least when the two ranges are equal:
//
//   r1_i = max |W_A[i, ...]|,  r2_i = max |W_B[:, i, ...]|,  s_i = sqrt(r1_i / r2_i)
//   W_A[i] /= s_i,  b_A[i] /= s_i,  W_B[:, i] *= s_i      (both ranges become sqrt(r1_i · r2_i))
//
// B need not read A directly: A's output may pass through ops that commute with a positive
// per-channel scale (MaxPool, Resize, Relu, LeakyRelu) and channel Concats (then B's input
// channels from the Concat's offset on are A's); every Conv it reaches is scaled, and r2_i is
// the largest of their ranges. U2Net's stage outputs go both to a pool and the next stage and,
// through a Concat, to the decoder: both readers are scaled. Anything else on the way (an Add,
// a graph output) and A is left alone, the reason noted. A chain is equalized pair by pair,
// sweeping until the scales settle (at most 20 sweeps). A must be a group-1 f32 Conv with
// constant weights no other node reads and no residual input. The rewrite writes new constants
// (`<w>.equalized`); it runs only under `nnc quantize --cle`, before insert-quantizers, and the
// model computes what it did (up to f32 rounding).
#include "passes/equalize_cross_layer.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "ops/epilogue.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

bool positively_homogeneous(const Node& n) {
  const Activation::Kind k = Activation::of(n).kind;
  return k == Activation::Kind::None || k == Activation::Kind::Relu || k == Activation::Kind::LeakyRelu;
}

// A constant 4-D f32 weight that no other node reads.
bool own_weights(const Graph& g, const Uses& uses, ValueId w) {
  const Tensor* t = g.const_data(w);
  return t && t->dtype() == DType::F32 && t->rank() == 4 && uses.consumers[size_t(w)].size() == 1;
}

bool group_one(const Node& n) { return !n.has_attr("group") || attr_int(n, "group") == 1; }

// A Conv whose input channels [offset, offset + channels) are A's output channels.
struct Reader {
  int node;
  int64_t offset;
};

struct Pair {
  int first;
  std::vector<Reader> readers;
};

// Follows A's output through the ops that commute with a positive per-channel scale (MaxPool,
// Resize, Relu, LeakyRelu, channel Concat) to the Convs that read it; false, with `why`, when
// anything else reads it on the way (an Add, a graph output, a Sigmoid...).
bool collect_readers(const Graph& g, const Uses& uses, ValueId v, int64_t offset, std::vector<Reader>& readers,
                     std::string& why, int depth = 0) {
  if (g.is_output(v)) return why = "its output is a graph output", false;
  if (depth > 16) return why = "too deep a path to its readers", false;
  for (int c : uses.consumers[size_t(v)]) {
    const Node& n = g.nodes[size_t(c)];
    int uses_of_v = 0;
    for (ValueId in : n.inputs) uses_of_v += in == v;
    if (n.op == OpKind::Conv) {
      if (n.inputs[0] != v || uses_of_v != 1) return why = fmt::format("'{}' reads it other than as its data input", n.name), false;
      if (!group_one(n)) return why = fmt::format("'{}' is a grouped Conv", n.name), false;
      if (!own_weights(g, uses, n.inputs[1])) return why = fmt::format("'{}' has shared or non-constant weights", n.name), false;
      readers.push_back({c, offset});
      continue;
    }
    const bool passes_scale =
        (n.op == OpKind::MaxPool && (n.outputs.size() == 1 || n.outputs[1] == kNoValue)) ||
        (n.op == OpKind::Resize && !(n.has_attr("coordinate_transformation_mode") &&
                                      attr_string(n, "coordinate_transformation_mode") == "tf_crop_and_resize")) ||
        n.op == OpKind::Relu || (n.op == OpKind::LeakyRelu);
    if (passes_scale && n.inputs[0] == v && uses_of_v == 1) {
      if (!collect_readers(g, uses, n.outputs[0], offset, readers, why, depth + 1)) return false;
      continue;
    }
    if (n.op == OpKind::Concat && attr_int(n, "axis") == 1 && uses_of_v == 1 && g.type(v).rank() == 4) {
      int64_t before = 0;
      for (ValueId in : n.inputs) {
        if (in == v) break;
        const TensorType& t = g.type(in);
        if (!t.shape.fully_known() || t.rank() != 4) return why = "a Concat input of unknown shape", false;
        before += t.shape.concrete()[1];
      }
      if (!collect_readers(g, uses, n.outputs[0], offset + before, readers, why, depth + 1)) return false;
      continue;
    }
    return why = fmt::format("'{}' ({}) reads it, and does not commute with scaling", n.name, op_name(n.op)), false;
  }
  return true;
}

// Why A (at `index`) cannot be equalized with its readers; "" when it can (fills `pair`), "-"
// when A is not a Conv (not worth a note).
std::string match(const Graph& g, const Uses& uses, int index, Pair& pair) {
  const Node& a = g.nodes[size_t(index)];
  if (a.op != OpKind::Conv || a.outputs.empty()) return "-";
  if (!group_one(a)) return "a grouped Conv";
  if (a.has_input(3)) return "it adds a residual (scaling would change it)";
  if (!positively_homogeneous(a)) return fmt::format("activation {} does not commute with scaling", attr_string(a, "act"));
  if (!own_weights(g, uses, a.inputs[1])) return "weights not constant or shared";
  if (a.has_input(2) && (!g.const_data(a.inputs[2]) || uses.consumers[size_t(a.inputs[2])].size() != 1))
    return "bias not constant or shared";
  std::vector<Reader> readers;
  std::string why;
  if (!collect_readers(g, uses, a.outputs[0], 0, readers, why)) return why;
  if (readers.empty()) return "-";
  const int64_t channels = g.const_data(a.inputs[1])->dims()[0];
  for (const Reader& r : readers)
    if (g.const_data(g.nodes[size_t(r.node)].inputs[1])->dims()[1] < r.offset + channels)
      return "a reader's channels do not line up";
  pair = {index, std::move(readers)};
  return "";
}

}  // namespace

PassReport equalize_cross_layer(Graph& g) {
  PassReport report("equalize-cross-layer");
  const Uses uses(g);
  std::vector<Pair> pairs;
  for (int i = 0; i < int(g.nodes.size()); ++i) {
    Pair p{};
    const std::string why = match(g, uses, i, p);
    if (why.empty()) pairs.push_back(p);
    else if (why != "-") report.refused(g.nodes[size_t(i)], "{}", why);
  }
  if (pairs.empty()) {
    report.summary("no Conv to equalize");
    return report;
  }
  // Working copies of the weights and biases the pairs touch.
  std::map<ValueId, Tensor> work;
  const auto copy_of = [&](ValueId v) -> Tensor& {
    auto it = work.find(v);
    if (it == work.end()) it = work.emplace(v, g.const_data(v)->clone()).first;
    return it->second;
  };
  int sweeps = 0;
  for (; sweeps < 20; ++sweeps) {
    double largest_step = 0;  // |log s| over all channels of the sweep
    for (const Pair& p : pairs) {
      const Node& a = g.nodes[size_t(p.first)];
      Tensor& wa = copy_of(a.inputs[1]);
      Tensor* bias = a.has_input(2) ? &copy_of(a.inputs[2]) : nullptr;
      std::vector<Tensor*> wr;
      for (const Reader& r : p.readers) wr.push_back(&copy_of(g.nodes[size_t(r.node)].inputs[1]));
      const int64_t channels = wa.dims()[0], per_a = wa.numel() / channels;
      float* wa_data = wa.data<float>();
      // Element e of a reader's weights [O, I, kh, kw] belongs to input channel (e / taps) % I.
      const auto for_reader_channel = [&](size_t reader, int64_t i, const auto& visit) {
        Tensor& w = *wr[reader];
        const int64_t outputs = w.dims()[0], inputs = w.dims()[1], taps = w.dims()[2] * w.dims()[3];
        const int64_t channel = p.readers[reader].offset + i;
        for (int64_t o = 0; o < outputs; ++o)
          for (int64_t t = 0; t < taps; ++t) visit(w.data<float>()[(o * inputs + channel) * taps + t]);
      };
      for (int64_t i = 0; i < channels; ++i) {
        double r1 = 0, r2 = 0;
        for (int64_t e = 0; e < per_a; ++e) r1 = std::max(r1, double(std::fabs(wa_data[i * per_a + e])));
        for (size_t r = 0; r < wr.size(); ++r) for_reader_channel(r, i, [&](float& v) { r2 = std::max(r2, double(std::fabs(v))); });
        if (!(r1 > 0) || !(r2 > 0) || !std::isfinite(r1) || !std::isfinite(r2)) continue;
        const double s = std::sqrt(r1 / r2);
        if (std::fabs(s - 1) < 1e-6) continue;
        largest_step = std::max(largest_step, std::fabs(std::log(s)));
        for (int64_t e = 0; e < per_a; ++e) wa_data[i * per_a + e] = float(wa_data[i * per_a + e] / s);
        if (bias) bias->data<float>()[i] = float(bias->data<float>()[i] / s);
        for (size_t r = 0; r < wr.size(); ++r) for_reader_channel(r, i, [&](float& v) { v = float(v * s); });
      }
    }
    if (largest_step < 1e-3) break;
  }
  // The equalized constants replace the originals in the nodes that read them.
  std::map<ValueId, ValueId> replaced;
  for (auto& [old_value, tensor] : work) {
    const std::string name = g.unique_value_name(g.value(old_value).name + ".equalized");
    replaced[old_value] = g.add_const(name, std::move(tensor));
  }
  for (const Pair& p : pairs) {
    std::vector<int> touched = {p.first};
    for (const Reader& r : p.readers) touched.push_back(r.node);
    for (int index : touched)
      for (ValueId& in : g.nodes[size_t(index)].inputs)
        if (auto it = replaced.find(in); it != replaced.end()) in = it->second;
  }
  for (const Pair& p : pairs) {
    std::vector<std::string> names;
    for (const Reader& r : p.readers) names.push_back(fmt::format("'{}'", g.nodes[size_t(r.node)].name));
    report.rewrote(g.nodes[size_t(p.first)], "output channels equalized with {} (per-channel weight ranges made equal)",
                   fmt::join(names, ", "));
  }
  const int done = std::min(sweeps + 1, 20);
  report.summary("equalized {} Conv{} with their readers in {} sweep{}", pairs.size(), pairs.size() == 1 ? "" : "s", done,
                 done == 1 ? "" : "s");
  return report;
}

}  // namespace nnc
