// passes/fuse_deform_conv.cpp — recognise deformable convolution written with GridSample (how
// DCNv2 has to be exported before ONNX's opset-19 DeformConv: torchvision's and mmcv's ops do
// not export) and make it one DeformConv (ops/deform_conv.cpp).
//
//   before, for each of the K = kH·kW kernel taps t:
//     %px_t, %py_t = base pixel of tap t + offset channels 2t+1, 2t      (constants + Gather/Slice)
//     %grid_t      = Concat(2·px_t/(W−1) − 1, 2·py_t/(H−1) − 1)          [N, oH, oW, 2]
//     %s_t         = GridSample(%x, %grid_t) bilinear zeros align_corners=1   [N, C, oH, oW]
//     %m_t         = Mul(%s_t, Slice(%mask, t))                           (DCNv2; DCNv1 has none)
//   then          %cols = Reshape(Concat(Unsqueeze(%m_t, 2) ...))          [N, C·K, oH, oW]
//                 %y    = Conv(%cols, @w [oC, C·K, 1, 1], @b)
//   after:        %y    = DeformConv(%x, @w' [oC, C, kH, kW], %offset, @b, %mask)  strides pads dilations
//
// As in fuse-deform-attn, spellings are not matched; the rewrite is proved by probes
// (passes/index_probe.h): the stack by index tensors (column c·K + t must be tap t's channel c,
// multiplied by mask channel t), the grids by running their nodes on the offset tensor at zero
// (which gives every tap's base pixel: stride, padding, dilation and the kernel's shape are read
// off it and must fit exactly) and at its own indices (each grid must move by exactly offset
// channel 2t+1 in x and 2t in y, scaled to grid units). One offset group and group 1 only: a
// decomposition that splits channels is left alone, with the reason in the pass report.
#include "passes/fuse_deform_conv.h"

#include <cmath>
#include <set>

#include "ops/op_def.h"
#include "passes/index_probe.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

constexpr size_t kMaxRegion = 400;               // nodes followed back from the Conv's input
constexpr int64_t kMaxProbe = int64_t(1) << 25;  // elements a probe may hold
constexpr int64_t kExactOffsets = int64_t(1) << 20;  // offset indices that f32 grid arithmetic resolves

// Nodes between `starts` and `stop` (exclusive), walking producers through `allowed` nodes;
// false if a path leaves through anything else (a graph input, another op) before `stop`.
// With stop = kNoValue it explores instead: every `allowed` node upstream, leaves skipped.
template <typename Allowed>
bool region_back(const Graph& g, const Uses& uses, const std::vector<ValueId>& starts, ValueId stop, Allowed allowed,
                 std::set<int>& region) {
  const bool explore = stop == kNoValue;
  std::vector<ValueId> todo = starts;
  std::set<ValueId> seen;
  while (!todo.empty()) {
    const ValueId v = todo.back();
    todo.pop_back();
    if (v == stop || !seen.insert(v).second || g.const_data(v)) continue;
    const int index = uses.producer_index(v);
    if (index < 0 || !allowed(g.nodes[size_t(index)]) || region.size() >= kMaxRegion) {
      if (explore && region.size() < kMaxRegion) continue;
      return false;
    }
    region.insert(index);
    for (ValueId in : g.nodes[size_t(index)].inputs)
      if (in != kNoValue) todo.push_back(in);
  }
  return true;
}

// Values of `dims` inside `region` (node outputs), and the region's dynamic leaves: the
// candidates a pattern's canonical input can be.
std::vector<ValueId> candidates_of(const Graph& g, const std::set<int>& region, const Dims& dims) {
  std::vector<ValueId> found;
  std::set<ValueId> produced;
  for (int index : region)
    for (ValueId v : g.nodes[size_t(index)].outputs) produced.insert(v);
  for (int index : region)
    for (ValueId v : g.nodes[size_t(index)].inputs) {
      if (v == kNoValue || g.const_data(v) || !g.type(v).shape.fully_known() || g.type(v).shape.concrete() != dims) continue;
      if (std::find(found.begin(), found.end(), v) == found.end()) found.push_back(v);
    }
  return found;
}

struct Match {
  std::set<int> inner;
  ValueId x = kNoValue, offset = kNoValue, mask = kNoValue;
  int64_t kernel_h = 0, kernel_w = 0, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

class Matcher {
 public:
  Matcher(const Graph& g, const Uses& uses) : g_(g), uses_(uses) {}

  std::string match(int conv_index, Match& m) {
    const Node& conv = g_.nodes[size_t(conv_index)];
    const TensorType& cols_type = g_.type(conv.inputs[0]);
    const Tensor* w = g_.const_data(conv.inputs[1]);
    if (!w || w->rank() != 4 || w->dims()[2] != 1 || w->dims()[3] != 1 || !cols_type.shape.fully_known()) return "";
    // The columns must come from GridSamples (times masks) through data movement only.
    const ValueId cols = conv.inputs[0];
    std::set<int> stack;
    samplers_.clear();
    mask_of_.clear();
    if (!collect_stack(cols, stack) || samplers_.size() < 2) return "";
    const Dims cd = cols_type.shape.concrete();
    const Dims sd = g_.type(samplers_[0]->outputs[0]).shape.concrete();  // [N, C, oH, oW]
    K_ = int64_t(samplers_.size());
    N_ = sd[0], C_ = sd[1], oH_ = sd[2], oW_ = sd[3];
    if (cd != Dims{N_, C_ * K_, oH_, oW_}) return "";
    // From here on it is the skeleton of a decomposed DCN: refusals say why.
    if (attr_int(conv, "group") != 1 || conv.has_attr("act") || conv.input_count() > 3)
      return "the 1x1 convolution is grouped or has a fused epilogue";
    for (const char* a : {"strides", "dilations"})
      if (conv.has_attr(a) && attr_ints(conv, a) != std::vector<int64_t>{1, 1}) return "the 1x1 convolution is strided or dilated";
    if (conv.has_attr("pads") && attr_ints(conv, "pads") != std::vector<int64_t>{0, 0, 0, 0}) return "the 1x1 convolution is padded";
    if (conv.has_attr("auto_pad") && attr_string(conv, "auto_pad") != "NOTSET" && attr_string(conv, "auto_pad") != "VALID")
      return "the 1x1 convolution pads";
    m.x = samplers_[0]->inputs[0];
    for (const Node* s : samplers_) {
      if (s->inputs[0] != m.x) return "the GridSamples read different images (offset groups are not fused)";
      if (attr_string(*s, "mode") != "bilinear" || attr_string(*s, "padding_mode") != "zeros" || attr_int(*s, "align_corners") != 1)
        return fmt::format("{} is not bilinear with zeros padding and align_corners=1", describe(*s));
      if (g_.type(s->outputs[0]).shape.concrete() != sd) return "the taps sample different shapes";
    }
    const Dims xd = g_.type(m.x).shape.concrete();
    H_ = xd[2], W_ = xd[3];
    if (H_ < 2 || W_ < 2) return "the image is 1 pixel high or wide (the decomposition divides by size - 1)";
    if (N_ * C_ * K_ * oH_ * oW_ > kMaxProbe) return "the columns are too large to verify (2^25 elements)";
    const bool masked = !mask_of_.empty();
    if (masked && mask_of_.size() != samplers_.size()) return "some taps are masked and others are not";
    if (std::string why = match_stack_order(stack); !why.empty()) return why;
    if (masked)
      if (std::string why = match_mask(stack, m); !why.empty()) return why;
    if (std::string why = match_grids(m); !why.empty()) return why;
    for (int index : stack) m.inner.insert(index);
    for (const Node* s : samplers_) m.inner.insert(int(s - g_.nodes.data()));
    if (!only_used_inside(g_, uses_, m.inner, conv_index)) return "an intermediate value of the pattern is also read elsewhere";
    return "";
  }

 private:
  // Back from the columns through Reshape/Concat/Unsqueeze/... to Mul(GridSample, mask) or GridSample.
  bool collect_stack(ValueId v, std::set<int>& stack) {
    const int index = uses_.producer_index(v);
    if (index < 0 || stack.size() > kMaxRegion) return false;
    const Node& n = g_.nodes[size_t(index)];
    if (n.op == OpKind::GridSample) {
      if (std::find(samplers_.begin(), samplers_.end(), &n) == samplers_.end()) samplers_.push_back(&n);
      return true;
    }
    if (n.op == OpKind::Mul && n.inputs.size() == 2) {
      for (int side = 0; side < 2; ++side) {
        const Node* s = uses_.producer_of(g_, n.inputs[size_t(side)]);
        if (s && s->op == OpKind::GridSample && !g_.const_data(n.inputs[size_t(1 - side)])) {
          stack.insert(index);
          samplers_.push_back(s);
          mask_of_[s] = n.inputs[size_t(1 - side)];
          return true;
        }
      }
      return false;
    }
    const bool moves = n.op == OpKind::Concat || n.op == OpKind::Unsqueeze || n.op == OpKind::Reshape ||
                       n.op == OpKind::Flatten || n.op == OpKind::Transpose || n.op == OpKind::Identity;
    if (!moves) return false;
    stack.insert(index);
    bool any = false;
    for (ValueId in : n.inputs) {
      if (in == kNoValue || g_.const_data(in)) continue;
      if (!collect_stack(in, stack)) return false;
      any = true;
    }
    return any;
  }

  Dims sample_dims() const { return {N_, C_, oH_, oW_}; }
  int64_t column_index(int64_t n, int64_t c, int64_t t, int64_t pixel) const {
    return ((n * C_ + c) * K_ + t) * oH_ * oW_ + pixel;
  }

  // Column c·K + t holds tap t's channel c: finds each sampler's tap t (stored in tap_).
  std::string match_stack_order(const std::set<int>& stack) {
    const int64_t per = N_ * C_ * oH_ * oW_;
    std::map<ValueId, Tensor> known;
    for (size_t i = 0; i < samplers_.size(); ++i) {
      Tensor t = iota(sample_dims());
      for (int64_t e = 0; e < per; ++e) t.data<int64_t>()[e] += int64_t(i) * per;
      known[samplers_[i]->outputs[0]] = std::move(t);
    }
    for (const auto& [s, mask] : mask_of_) known[mask] = ones(g_.type(mask).shape.concrete());
    const auto probe = run_nodes(g_, {stack.begin(), stack.end()}, known);
    const int64_t* cols = probe.at(cols_value(stack)).data<int64_t>();
    tap_.assign(samplers_.size(), -1);
    for (int64_t t = 0; t < K_; ++t) {
      const int64_t first = cols[column_index(0, 0, t, 0)];
      const int64_t i = first / per;
      if (first < 0 || i >= K_ || tap_[size_t(i)] >= 0) return "the taps are not stacked channel-major (im2col order)";
      tap_[size_t(i)] = t;
    }
    for (int64_t n = 0; n < N_; ++n)
      for (int64_t c = 0; c < C_; ++c)
        for (size_t i = 0; i < samplers_.size(); ++i)
          for (int64_t p = 0; p < oH_ * oW_; ++p)
            if (cols[column_index(n, c, tap_[i], p)] != int64_t(i) * per + (n * C_ + c) * oH_ * oW_ + p)
              return "the taps are not stacked channel-major (im2col order)";
    return "";
  }

  // The masks: tap t multiplied by channel t of one [N, K, oH, oW] mask tensor.
  std::string match_mask(const std::set<int>& stack, Match& m) {
    std::vector<ValueId> mask_values;
    for (const auto& [s, mask] : mask_of_) mask_values.push_back(mask);
    std::set<int> all;
    const auto moves = [](const Node& n) { return is_relayout(n.op); };
    region_back(g_, uses_, mask_values, kNoValue, moves, all);
    std::vector<ValueId> candidates = candidates_of(g_, all, {N_, K_, oH_, oW_});
    for (ValueId mv : mask_values)
      if (g_.type(mv).shape.fully_known() && g_.type(mv).shape.concrete() == Dims{N_, K_, oH_, oW_}) candidates.push_back(mv);
    for (ValueId candidate : candidates) {
      std::set<int> region;
      if (!region_back(g_, uses_, mask_values, candidate, moves, region)) continue;
      std::map<ValueId, Tensor> known{{candidate, iota({N_, K_, oH_, oW_})}};
      for (const Node* s : samplers_) known[s->outputs[0]] = ones(sample_dims());
      std::vector<int> nodes(region.begin(), region.end());
      nodes.insert(nodes.end(), stack.begin(), stack.end());
      const auto probe = run_nodes(g_, nodes, known);
      const int64_t* cols = probe.at(cols_value(stack)).data<int64_t>();
      bool ok = true;
      for (int64_t n = 0; n < N_ && ok; ++n)
        for (int64_t c = 0; c < C_ && ok; ++c)
          for (int64_t t = 0; t < K_ && ok; ++t)
            for (int64_t p = 0; p < oH_ * oW_; ++p)
              if (cols[column_index(n, c, t, p)] != (n * K_ + t) * oH_ * oW_ + p) { ok = false; break; }
      if (!ok) continue;
      m.mask = candidate;
      m.inner.insert(region.begin(), region.end());
      return "";
    }
    return fmt::format("the masks are not the channels of one [N, K, oH, oW] = [{}, {}, {}, {}] tensor", N_, K_, oH_, oW_);
  }

  // The grids: base pixel of tap t plus offset channels (2t+1, 2t), normalised by size − 1.
  std::string match_grids(Match& m) {
    std::vector<ValueId> grids;
    for (const Node* s : samplers_) grids.push_back(s->inputs[1]);
    const auto moves = [&](const Node& n) {
      return is_relayout(n.op) || n.op == OpKind::Concat || is_arithmetic_with_constant(g_, n, /*scalar_only=*/false);
    };
    std::set<int> all;
    region_back(g_, uses_, grids, kNoValue, moves, all);
    const Dims od{N_, 2 * K_, oH_, oW_};
    std::vector<ValueId> candidates = candidates_of(g_, all, od);
    if (N_ * 2 * K_ * oH_ * oW_ >= kExactOffsets) return "the offsets are too large to verify (2^20 elements)";
    for (ValueId candidate : candidates) {
      std::set<int> region;
      if (!region_back(g_, uses_, grids, candidate, moves, region)) continue;
      const std::vector<int> nodes(region.begin(), region.end());
      const auto base = run_nodes(g_, nodes, {{candidate, Tensor(DType::F32, od)}});
      const auto moved = run_nodes(g_, nodes, {{candidate, iota(od, DType::F32)}});
      if (std::string why = read_geometry(base, m); !why.empty()) return why;
      if (!offsets_move_grids(base, moved)) continue;
      m.offset = candidate;
      m.inner.insert(region.begin(), region.end());
      return "";
    }
    return "the grids are not base pixels plus the channels of one [N, 2K, oH, oW] offset tensor";
  }

  // From the grids at zero offset: the pixel each tap of each output reads, which must be
  // (i·stride − pad + kh·dilation, j·stride − pad + kw·dilation) for one geometry.
  std::string read_geometry(const std::map<ValueId, Tensor>& base, Match& m) {
    std::vector<std::pair<double, double>> first(static_cast<size_t>(K_));  // tap t's pixel at output (0, 0)
    for (size_t i = 0; i < samplers_.size(); ++i) {
      const float* grid = base.at(samplers_[i]->inputs[1]).data<float>();
      first[size_t(tap_[i])] = {(double(grid[1]) + 1) * double(H_ - 1) / 2, (double(grid[0]) + 1) * double(W_ - 1) / 2};
    }
    // Kernel shape: taps are row-major, so the row changes every kernel_w taps.
    int64_t kw = 1;
    while (kw < K_ && std::abs(first[size_t(kw)].first - first[0].first) < 1e-3) ++kw;
    if (K_ % kw != 0) return "the taps do not form a rectangular kernel in row-major order";
    m.kernel_w = kw, m.kernel_h = K_ / kw;
    m.pad_top = -std::llround(first[0].first), m.pad_left = -std::llround(first[0].second);
    m.dilation_h = m.kernel_h > 1 ? std::llround(first[size_t(kw)].first - first[0].first) : 1;
    m.dilation_w = kw > 1 ? std::llround(first[1].second - first[0].second) : 1;
    const auto at = [&](size_t i, int64_t oy, int64_t ox) {
      const float* grid = base.at(samplers_[i]->inputs[1]).data<float>() + (oy * oW_ + ox) * 2;
      return std::pair<double, double>{(double(grid[1]) + 1) * double(H_ - 1) / 2, (double(grid[0]) + 1) * double(W_ - 1) / 2};
    };
    size_t tap0 = 0;
    for (size_t i = 0; i < samplers_.size(); ++i)
      if (tap_[i] == 0) tap0 = i;
    m.stride_h = oH_ > 1 ? std::llround(at(tap0, 1, 0).first - at(tap0, 0, 0).first) : 1;
    m.stride_w = oW_ > 1 ? std::llround(at(tap0, 0, 1).second - at(tap0, 0, 0).second) : 1;
    if (m.pad_top < 0 || m.pad_left < 0 || m.dilation_h < 1 || m.dilation_w < 1 || m.stride_h < 1 || m.stride_w < 1)
      return "the base pixels do not describe a convolution window (negative padding, stride or dilation)";
    for (int64_t n = 0; n < N_; ++n)
      for (size_t i = 0; i < samplers_.size(); ++i) {
        const int64_t t = tap_[i], kh = t / kw, kx = t % kw;
        for (int64_t oy = 0; oy < oH_; ++oy)
          for (int64_t ox = 0; ox < oW_; ++ox) {
            const float* grid = base.at(samplers_[i]->inputs[1]).data<float>() + ((n * oH_ + oy) * oW_ + ox) * 2;
            const double y = (double(grid[1]) + 1) * double(H_ - 1) / 2, x = (double(grid[0]) + 1) * double(W_ - 1) / 2;
            if (std::abs(y - double(oy * m.stride_h - m.pad_top + kh * m.dilation_h)) > 1e-3 ||
                std::abs(x - double(ox * m.stride_w - m.pad_left + kx * m.dilation_w)) > 1e-3)
              return "the base pixels do not describe a convolution window";
          }
      }
    m.pad_bottom = (oH_ - 1) * m.stride_h + (m.kernel_h - 1) * m.dilation_h + 1 - H_ - m.pad_top;
    m.pad_right = (oW_ - 1) * m.stride_w + (m.kernel_w - 1) * m.dilation_w + 1 - W_ - m.pad_left;
    if (m.pad_bottom < 0 || m.pad_right < 0) return "the window leaves pixels out at the end (negative end padding)";
    return "";
  }

  // Offset channel 2t+1 moves tap t's grid x by exactly itself, channel 2t its y.
  bool offsets_move_grids(const std::map<ValueId, Tensor>& base, const std::map<ValueId, Tensor>& moved) const {
    for (size_t i = 0; i < samplers_.size(); ++i) {
      const float* g0 = base.at(samplers_[i]->inputs[1]).data<float>();
      const float* g1 = moved.at(samplers_[i]->inputs[1]).data<float>();
      const int64_t t = tap_[i];
      for (int64_t n = 0; n < N_; ++n)
        for (int64_t p = 0; p < oH_ * oW_; ++p)
          for (int c = 0; c < 2; ++c) {
            const size_t at = size_t(((n * oH_ * oW_) + p) * 2 + c);
            const double size = double(c == 0 ? W_ : H_) - 1;
            const double shift = (double(g1[at]) - double(g0[at])) * size / 2;
            const int64_t channel = c == 0 ? 2 * t + 1 : 2 * t;
            const double expected = double((n * 2 * K_ + channel) * oH_ * oW_ + p);
            if (std::abs(shift - expected) > 0.25) return false;
          }
    }
    return true;
  }

  ValueId cols_value(const std::set<int>& stack) const {
    // The stack's last node (in graph order) produces the columns.
    return g_.nodes[size_t(*stack.rbegin())].outputs[0];
  }

  static Tensor ones(const Dims& dims) {
    Tensor t(DType::I64, dims);
    for (int64_t e = 0; e < t.numel(); ++e) t.data<int64_t>()[e] = 1;
    return t;
  }

  const Graph& g_;
  const Uses& uses_;
  std::vector<const Node*> samplers_;
  std::map<const Node*, ValueId> mask_of_;
  std::vector<int64_t> tap_;  // per sampler: its kernel tap
  int64_t K_ = 0, N_ = 0, C_ = 0, oH_ = 0, oW_ = 0, H_ = 0, W_ = 0;
};

}  // namespace

PassReport fuse_deform_conv(Graph& g) {
  PassReport report("fuse-deform-conv");
  const Uses uses(g);
  std::vector<bool> erase(g.nodes.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& conv = g.nodes[i];
    if (conv.op != OpKind::Conv || erase[i] || g.type(conv.outputs[0]).dtype != DType::F32) continue;
    Match m;
    Matcher matcher(g, uses);
    std::string why;
    try {
      why = matcher.match(int(i), m);
    } catch (const Error& e) {  // a probe the graph's own ops could not run: do not fuse
      why = std::string("probing it failed: ") + e.what();
    }
    if (!why.empty()) {
      report.refused(conv, "looks like deformable convolution written with GridSample, but {}", why);
      continue;
    }
    if (m.x == kNoValue) continue;
    bool overlaps = false;
    for (int n : m.inner) overlaps |= erase[size_t(n)];
    if (overlaps) continue;
    const Tensor& w = *g.const_data(conv.inputs[1]);
    const int64_t maps = w.dims()[0], channels = w.dims()[1] / (m.kernel_h * m.kernel_w);
    // Column c·K + t is channel c at tap t = (kh, kw) row-major: the same bytes as [oC, C, kH, kW].
    const ValueId weight = g.add_const(g.unique_value_name(conv.name + ".deform_weight"),
                                       w.reshaped({maps, channels, m.kernel_h, m.kernel_w}));
    std::vector<ValueId> inputs{m.x, weight, m.offset, conv.has_input(2) ? conv.inputs[2] : kNoValue};
    if (m.mask != kNoValue) inputs.push_back(m.mask);
    while (inputs.back() == kNoValue) inputs.pop_back();
    Node fused{.op = OpKind::DeformConv, .name = "", .inputs = std::move(inputs), .outputs = {}, .attrs = {}, .sources = {}};
    fused.set_attr("kernel_shape", std::vector<int64_t>{m.kernel_h, m.kernel_w});
    fused.set_attr("strides", std::vector<int64_t>{m.stride_h, m.stride_w});
    fused.set_attr("dilations", std::vector<int64_t>{m.dilation_h, m.dilation_w});
    fused.set_attr("pads", std::vector<int64_t>{m.pad_top, m.pad_left, m.pad_bottom, m.pad_right});
    report.rewrote(conv, "{} nodes (GridSample x {}) became one {}x{} DeformConv{}", m.inner.size() + 1,
                   m.kernel_h * m.kernel_w, m.kernel_h, m.kernel_w, m.mask == kNoValue ? "" : " with a mask");
    replace_pattern(g, int(i), m.inner, std::move(fused), erase);
  }
  g.erase_nodes(erase);
  report.summary("fused {} deformable convolutions", report.rewrites());
  return report;
}

}  // namespace nnc
