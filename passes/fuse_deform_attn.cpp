// passes/fuse_deform_attn.cpp — recognise multi-scale deformable attention written with
// GridSample (how PyTorch exports Deformable DETR's and BEVFormer's attention) and make it one
// MSDeformAttn (ops/ms_deform_attn.cpp).
//
//   before (one level shown; L levels give L GridSamples and a Concat of L Unsqueezes):
//     %grid   = Sub(Mul(%locations, 2), 1)                       [B,Q,M,L,P,2] -> [-1, 1]
//     %g0     = Reshape(Transpose(Gather(%grid, l=0, axis 3)))   [B·M, Q, P, 2]
//     %v0     = Reshape(Transpose(Reshape(Split(%value))))       [B·M, D, H0, W0]
//     %s0     = GridSample(%v0, %g0) bilinear zeros              [B·M, D, Q, P]
//     %x      = Reshape(Concat(Unsqueeze(%s0), ...))             [B·M, D, Q, L·P]
//     %a      = Reshape(Transpose(%weights))                     [B·M, 1, Q, L·P]
//     %y      = ReduceSum(Mul(%x, %a), axes=-1)                  [B·M, D, Q]
//     %out    = Transpose(Reshape(%y))                           [B, Q, M·D]
//   after:
//     %out    = MSDeformAttn(%value, @shapes, @starts, %locations, %weights)
//
// Exports differ in how they spell the relayouts (Split or Slice, Gather or Slice+Squeeze,
// flatten as Reshape or Flatten, where the 2x−1 happens), so the pass does not match spellings.
// It finds the skeleton (GridSamples → stack → Mul → ReduceSum over the last axis), follows
// each operand back through data-movement nodes (and, for the grid, scalar affine nodes) to a
// tensor of the op's canonical shape, and then *proves* each relayout by running it on that
// tensor filled with its own element indices (an "iota" probe): the GridSample inputs must
// receive exactly value[b, start_l + h·W_l + w, m, d] and 2·locations − 1, the stack exactly the
// L·P samples in level order, the product exactly attention_weights[b, q, m, l, p], and the
// output path exactly out[b, q, m·D + d]. Anything else is left alone, with the reason in the
// pass report. Relayouts are probed in i64 (exact; tensors over 2^25 elements are refused to
// bound the memory), the grid's 2x − 1 in f32 (exact below 2^24 locations). The usual stacking
// (Unsqueeze, Concat, Reshape) is matched by structure instead: it is the largest tensor. Grids
// and weights that folded to constants are re-laid out into the op's form directly.
#include "passes/fuse_deform_attn.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>

#include "ops/op_def.h"
#include "passes/index_probe.h"
#include "passes/rewrite_util.h"

namespace nnc {
namespace {

constexpr int64_t kExactInF32 = int64_t(1) << 24;  // f32 probes are exact below this
constexpr int64_t kMaxProbe = int64_t(1) << 25;     // elements a probe may hold (256 MiB in i64)
constexpr size_t kMaxPath = 24;                     // nodes followed back from one operand

// The one input of `n` that is not a constant, or kNoValue if there are none or several.
ValueId sole_dynamic_input(const Graph& g, const Node& n) {
  ValueId found = kNoValue;
  for (ValueId v : n.inputs) {
    if (v == kNoValue || g.const_data(v)) continue;
    if (found != kNoValue) return kNoValue;
    found = v;
  }
  return found;
}

// A chain followed backwards from values[0]: nodes[i] produces values[i] from values[i + 1].
struct Path {
  std::vector<ValueId> values;
  std::vector<int> nodes;
};

Path follow_back(const Graph& g, const Uses& uses, ValueId start, bool allow_affine) {
  Path path{{start}, {}};
  while (path.nodes.size() < kMaxPath) {
    const int index = uses.producer_index(path.values.back());
    if (index < 0) break;
    const Node& n = g.nodes[size_t(index)];
    if (!is_relayout(n.op) && !(allow_affine && is_arithmetic_with_constant(g, n, /*scalar_only=*/true))) break;
    const ValueId in = sole_dynamic_input(g, n);
    if (in == kNoValue) break;
    path.nodes.push_back(index);
    path.values.push_back(in);
  }
  return path;
}

int64_t element_count(const Dims& d) { return std::accumulate(d.begin(), d.end(), int64_t{1}, std::multiplies<>()); }

std::string shape_text(const Graph& g, ValueId v) { return to_string(g.type(v).shape.concrete()); }

struct Levels {  // per GridSample (graph order): its level and map size
  std::vector<const Node*> samplers;
  std::vector<int64_t> level, height, width;
};

struct Match {
  int root = -1;                  // produces the output tensor; becomes MSDeformAttn
  std::set<int> inner;            // every other node of the pattern
  ValueId value = kNoValue, locations = kNoValue, weights = kNoValue;
  std::vector<int64_t> height, width;  // per level, in level order
  bool split_heads = false;
  // Locations or weights that were constants in another layout (a DETR decoder's first layer,
  // whose queries are learned embeddings): re-laid out here, added to the graph by the pass.
  std::optional<Tensor> constant_locations, constant_weights;
};

class Matcher {
 public:
  Matcher(const Graph& g, const Uses& uses) : g_(g), uses_(uses) {}

  // "" and m.root >= 0: matched. "" and m.root < 0: not this pattern at all. Else: why not.
  std::string match(int reduce_index, Match& m) {
    const Node& reduce = g_.nodes[size_t(reduce_index)];
    const ValueId product = reduce.inputs[0];
    const Node* mul = uses_.producer_of(g_, product);
    if (!mul || mul->op != OpKind::Mul || g_.type(product).rank() != 4 || !g_.type(product).shape.fully_known()) return "";
    for (int side = 0; side < 2; ++side) {
      samples_ = mul->inputs[size_t(side)];
      weights_in_ = mul->inputs[size_t(1 - side)];
      stack_nodes_.clear();
      samplers_.clear();
      if (collect_stack(samples_)) break;
    }
    if (samplers_.empty() || !g_.type(samples_).shape.fully_known() || g_.type(samples_).rank() != 4) return "";
    // From here on it is the pattern's skeleton; refusals say why.
    const Dims x = g_.type(samples_).shape.concrete();  // [B·M, D, Q, L·P]
    if (!reduces_last_axis(reduce)) return "the ReduceSum is not over the stacked samples' last axis";
    if (!g_.type(weights_in_).shape.fully_known() || g_.type(weights_in_).shape.concrete() != Dims{x[0], 1, x[2], x[3]})
      return fmt::format("the weights multiplying the samples are {}, not [B·M, 1, Q, L·P]", shape_text(g_, weights_in_));
    BM_ = x[0], D_ = x[1], Q_ = x[2];
    L_ = int64_t(samplers_.size());
    if (x[3] % L_ != 0) return "the stacked samples' last axis is not levels × points";
    P_ = x[3] / L_;
    for (const Node* s : samplers_) {
      if (attr_string(*s, "mode") != "bilinear" || attr_string(*s, "padding_mode") != "zeros" ||
          attr_int(*s, "align_corners") != 0)
        return fmt::format("{} is not bilinear with zeros padding and align_corners=0", describe(*s));
      const TensorType &map = g_.type(s->inputs[0]), &out = g_.type(s->outputs[0]);
      if (!map.shape.fully_known() || !out.shape.fully_known() || g_.type(s->inputs[0]).dtype != DType::F32) return "a sampled map's shape is not known";
      const Dims md = map.shape.concrete();
      if (md[0] != BM_ || md[1] != D_ || out.shape.concrete() != Dims{BM_, D_, Q_, P_})
        return fmt::format("{} samples {} into {}, not [B·M, D, Q, P] = [{}, {}, {}, {}]", describe(*s), to_string(md),
                           shape_text(g_, s->outputs[0]), BM_, D_, Q_, P_);
    }
    const bool constant_grids = std::all_of(samplers_.begin(), samplers_.end(),
                                            [&](const Node* s) { return g_.const_data(s->inputs[1]) != nullptr; });
    if (constant_grids) {
      // No locations tensor to follow back to: each sampler's level is its place in the stack,
      // B and M come from the value tensor, and the grids are turned into locations.
      if (std::string why = levels_from_stack_order(); !why.empty()) return why;
      if (std::string why = match_value(m); !why.empty()) return why;
      m.constant_locations = locations_from_grids();
    } else {
      if (std::string why = match_locations(m); !why.empty()) return why;
      if (std::string why = match_value(m); !why.empty()) return why;
    }
    if (std::string why = match_stack(); !why.empty()) return why;
    if (std::string why = match_weights(m); !why.empty()) return why;
    if (std::string why = match_output(reduce_index, m); !why.empty()) return why;
    for (int index : stack_nodes_) m.inner.insert(index);
    for (const Node* s : samplers_) m.inner.insert(int(s - g_.nodes.data()));
    m.inner.insert(int(mul - g_.nodes.data()));
    m.inner.insert(reduce_index);
    m.inner.erase(m.root);
    if (!only_used_inside(g_, uses_, m.inner, m.root)) return "an intermediate value of the pattern is also read elsewhere";
    return "";
  }

 private:
  // Follows the multiplied samples back through Concat/Unsqueeze/Reshape… to GridSamples.
  bool collect_stack(ValueId v) {
    const int index = uses_.producer_index(v);
    if (index < 0) return false;
    const Node& n = g_.nodes[size_t(index)];
    if (n.op == OpKind::GridSample) {
      if (std::find(samplers_.begin(), samplers_.end(), &n) == samplers_.end()) samplers_.push_back(&n);
      return true;
    }
    const bool stacking = n.op == OpKind::Concat || n.op == OpKind::Unsqueeze || n.op == OpKind::Reshape ||
                          n.op == OpKind::Flatten || n.op == OpKind::Transpose || n.op == OpKind::Identity;
    if (!stacking || stack_nodes_.size() > 4 * kMaxPath) return false;
    stack_nodes_.push_back(index);
    bool any = false;
    for (ValueId in : n.inputs) {
      if (in == kNoValue || g_.const_data(in)) continue;
      if (!collect_stack(in)) return false;
      any = true;
    }
    return any;
  }

  bool reduces_last_axis(const Node& reduce) const {
    if (reduce.input_count() < 2 || attr_int(reduce, "noop_with_empty_axes") != 0) return false;
    const Tensor* axes = g_.const_data(reduce.inputs[1]);
    return axes && axes->numel() == 1 && (axes->get_int(0) == 3 || axes->get_int(0) == -1);
  }

  // The farthest value along `paths` (one per level) that all paths reach and `fits`.
  template <typename Fits>
  std::vector<size_t> common_candidates(const std::vector<Path>& paths, Fits fits) const {
    std::vector<size_t> found;  // positions on paths[0], farthest first
    for (size_t k = paths[0].values.size(); k-- > 0;) {
      const ValueId v = paths[0].values[k];
      if (!g_.type(v).shape.fully_known() || !fits(g_.type(v).shape.concrete())) continue;
      bool everywhere = true;
      for (const Path& p : paths) everywhere &= std::find(p.values.begin(), p.values.end(), v) != p.values.end();
      if (everywhere) found.push_back(k);
    }
    return found;
  }

  static std::vector<int> nodes_up_to(const Path& p, ValueId v) {
    const size_t k = size_t(std::find(p.values.begin(), p.values.end(), v) - p.values.begin());
    return {p.nodes.begin(), p.nodes.begin() + ptrdiff_t(k)};
  }

  // The grids: 2·locations − 1, level l of [B, Q, M, L, P, 2] for each GridSample.
  std::string match_locations(Match& m) {
    std::vector<Path> paths;
    for (const Node* s : samplers_) paths.push_back(follow_back(g_, uses_, s->inputs[1], true));
    const auto candidates = common_candidates(paths, [&](const Dims& d) {
      return d.size() == 6 && d[1] == Q_ && d[3] == L_ && d[4] == P_ && d[5] == 2 && d[0] * d[2] == BM_;
    });
    for (size_t k : candidates) {
      const ValueId loc = paths[0].values[k];
      const Dims ld = g_.type(loc).shape.concrete();
      if (element_count(ld) >= kExactInF32) return "the sampling locations are too large to verify (2^24 elements)";
      std::vector<int> nodes;
      for (const Path& p : paths) for (int n : nodes_up_to(p, loc)) nodes.push_back(n);
      const auto probe = run_nodes(g_, nodes, {{loc, iota(ld, DType::F32)}});
      std::vector<int64_t> level;
      for (const Node* s : samplers_) {
        const int64_t l = level_read(probe.at(s->inputs[1]), ld);
        if (l < 0) break;
        level.push_back(l);
      }
      if (level.size() != samplers_.size()) continue;
      std::vector<int64_t> sorted = level;
      std::sort(sorted.begin(), sorted.end());
      if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) return "two GridSamples read the same level";
      m.locations = loc;
      level_ = level;
      for (int n : nodes) m.inner.insert(n);
      B_ = ld[0], M_ = ld[2];
      return "";
    }
    return "the grids are not 2·locations − 1 of one [B, Q, M, L, P, 2] tensor";
  }

  // Which level l of locations (iota-filled, dims ld) the probed grid [B·M, Q, P, 2] holds, as
  // 2·location − 1; -1 if it is not exactly one level.
  int64_t level_read(const Tensor& grid, const Dims& ld) const {
    const int64_t B = ld[0], M = ld[2];
    for (int64_t l = 0; l < L_; ++l) {
      bool ok = true;
      const float* gp = grid.data<float>();
      for (int64_t b = 0; b < B && ok; ++b)
        for (int64_t m = 0; m < M && ok; ++m)
          for (int64_t q = 0; q < Q_ && ok; ++q)
            for (int64_t p = 0; p < P_ && ok; ++p)
              for (int64_t c = 0; c < 2; ++c) {
                const int64_t source = ((((b * Q_ + q) * M + m) * L_ + l) * P_ + p) * 2 + c;
                const int64_t at = (((b * M + m) * Q_ + q) * P_ + p) * 2 + c;
                if (gp[at] != 2.0f * float(source) - 1.0f) { ok = false; break; }
              }
      if (ok) return l;
    }
    return -1;
  }

  // Constant grids: the level of each sampler is its input position in the stack's Concat.
  std::string levels_from_stack_order() {
    level_.assign(samplers_.size(), -1);
    const Node* merge = uses_.producer_of(g_, samples_);
    const Node* concat = merge ? uses_.producer_of(g_, merge->inputs[0]) : nullptr;
    if (!concat || concat->op != OpKind::Concat || int64_t(concat->inputs.size()) != L_)
      return "the grids are constants and the samples are not stacked by one Concat";
    for (size_t j = 0; j < concat->inputs.size(); ++j) {
      const Node* unsqueeze = uses_.producer_of(g_, concat->inputs[j]);
      for (size_t i = 0; unsqueeze && i < samplers_.size(); ++i)
        if (unsqueeze->inputs[0] == samplers_[i]->outputs[0]) level_[i] = int64_t(j);
    }
    if (std::find(level_.begin(), level_.end(), -1) != level_.end())
      return "the grids are constants and the samples are not stacked by one Concat";
    return "";
  }

  // grid_l [B·M, Q, P, 2] in [-1, 1] -> locations [B, Q, M, L, P, 2] in [0, 1].
  Tensor locations_from_grids() const {
    Tensor loc(DType::F32, {B_, Q_, M_, L_, P_, 2});
    for (size_t i = 0; i < samplers_.size(); ++i) {
      const float* grid = g_.const_data(samplers_[i]->inputs[1])->data<float>();
      const int64_t l = level_[i];
      for (int64_t b = 0; b < B_; ++b)
        for (int64_t mm = 0; mm < M_; ++mm)
          for (int64_t q = 0; q < Q_; ++q)
            for (int64_t p = 0; p < P_; ++p)
              for (int64_t c = 0; c < 2; ++c)
                loc.data<float>()[((((b * Q_ + q) * M_ + mm) * L_ + l) * P_ + p) * 2 + c] =
                    (grid[(((b * M_ + mm) * Q_ + q) * P_ + p) * 2 + c] + 1.0f) / 2.0f;
    }
    return loc;
  }

  // The maps: level l of value [B, S, M, D] as [B·M, D, H_l, W_l].
  std::string match_value(Match& m) {
    m.height.assign(size_t(L_), 0);
    m.width.assign(size_t(L_), 0);
    for (size_t i = 0; i < samplers_.size(); ++i) {
      const Dims md = g_.type(samplers_[i]->inputs[0]).shape.concrete();
      m.height[size_t(level_[i])] = md[2];
      m.width[size_t(level_[i])] = md[3];
    }
    std::vector<int64_t> start(size_t(L_), 0);
    for (int64_t l = 1; l < L_; ++l) start[size_t(l)] = start[size_t(l - 1)] + m.height[size_t(l - 1)] * m.width[size_t(l - 1)];
    const int64_t S = start.back() + m.height.back() * m.width.back();
    const bool free_bm = B_ == 0;  // constant grids: B and M are the value tensor's
    std::vector<Path> paths;
    for (const Node* s : samplers_) paths.push_back(follow_back(g_, uses_, s->inputs[0], false));
    const auto candidates = common_candidates(paths, [&](const Dims& d) {
      return d.size() == 4 && d[0] * d[2] == BM_ && d[1] == S && d[3] == D_ && (free_bm || (d[0] == B_ && d[2] == M_));
    });
    for (size_t k : candidates) {
      const ValueId value = paths[0].values[k];
      const Dims vd = g_.type(value).shape.concrete();
      if (free_bm) B_ = vd[0], M_ = vd[2];
      if (B_ * S * M_ * D_ > kMaxProbe) return "the value tensor is too large to verify (2^25 elements)";
      std::vector<int> nodes;
      for (const Path& p : paths) for (int n : nodes_up_to(p, value)) nodes.push_back(n);
      const auto probe = run_nodes(g_, nodes, {{value, iota({B_, S, M_, D_})}});
      bool ok = true;
      for (size_t i = 0; i < samplers_.size() && ok; ++i) {
        const int64_t l = level_[i], H = m.height[size_t(l)], W = m.width[size_t(l)];
        const int64_t* v = probe.at(samplers_[i]->inputs[0]).data<int64_t>();
        for (int64_t b = 0; b < B_ && ok; ++b)
          for (int64_t mm = 0; mm < M_ && ok; ++mm)
            for (int64_t d = 0; d < D_ && ok; ++d)
              for (int64_t pixel = 0; pixel < H * W; ++pixel) {
                const int64_t source = ((b * S + start[size_t(l)] + pixel) * M_ + mm) * D_ + d;
                if (v[((b * M_ + mm) * D_ + d) * H * W + pixel] != source) { ok = false; break; }
              }
      }
      if (!ok) {
        if (free_bm) B_ = M_ = 0;
        continue;
      }
      m.value = value;
      for (int n : nodes) m.inner.insert(n);
      return "";
    }
    return fmt::format("the sampled maps are not the levels of one [B, S, M, D] = [{}, {}, {}, {}] value tensor", B_, S,
                       M_, D_);
  }

  // The stack: GridSample of level l lands at [.., .., .., l·P + p]. The stacked samples are
  // the pattern's largest tensor (tens of millions of elements at real sizes), so the usual
  // spelling is recognised by structure: Unsqueeze each at axis 3, Concat them at axis 3 in
  // level order, merge the last two axes. Other spellings are probed.
  std::string match_stack() {
    if (stack_is_unsqueeze_concat_reshape()) return "";
    const int64_t per_sampler = BM_ * D_ * Q_ * P_;
    if (per_sampler * L_ > kMaxProbe) return "the samples are stacked in an unusual way, too large to verify (2^25 elements)";
    std::map<ValueId, Tensor> known;
    for (size_t i = 0; i < samplers_.size(); ++i) {
      Tensor t = iota({BM_, D_, Q_, P_});
      for (int64_t e = 0; e < t.numel(); ++e) t.data<int64_t>()[e] += level_[i] * per_sampler;
      known[samplers_[i]->outputs[0]] = std::move(t);
    }
    const auto probe = run_nodes(g_, stack_nodes_, known);
    const int64_t* x = probe.at(samples_).data<int64_t>();
    for (int64_t row = 0; row < BM_ * D_ * Q_; ++row)
      for (int64_t l = 0; l < L_; ++l)
        for (int64_t p = 0; p < P_; ++p)
          if (x[row * L_ * P_ + l * P_ + p] != l * per_sampler + row * P_ + p)
            return "the samples are not stacked level after level along the last axis";
    return "";
  }

  bool stack_is_unsqueeze_concat_reshape() const {
    const auto axis_is_3_of_5 = [](int64_t axis) { return axis == 3 || axis == -2; };
    const Node* merge = uses_.producer_of(g_, samples_);
    if (!merge || (merge->op != OpKind::Reshape && merge->op != OpKind::Flatten)) return false;
    const Node* concat = uses_.producer_of(g_, merge->inputs[0]);
    if (!concat || concat->op != OpKind::Concat || !axis_is_3_of_5(attr_int(*concat, "axis")) ||
        int64_t(concat->inputs.size()) != L_ || g_.type(concat->outputs[0]).shape.concrete() != Dims{BM_, D_, Q_, L_, P_})
      return false;
    for (size_t j = 0; j < concat->inputs.size(); ++j) {
      const Node* unsqueeze = uses_.producer_of(g_, concat->inputs[j]);
      if (!unsqueeze || unsqueeze->op != OpKind::Unsqueeze || unsqueeze->input_count() != 2) return false;
      const Tensor* axes = g_.const_data(unsqueeze->inputs[1]);
      if (!axes || axes->numel() != 1 || !axis_is_3_of_5(axes->get_int(0))) return false;
      const auto at = std::find_if(samplers_.begin(), samplers_.end(),
                                   [&](const Node* s) { return s->outputs[0] == unsqueeze->inputs[0]; });
      if (at == samplers_.end() || level_[size_t(at - samplers_.begin())] != int64_t(j)) return false;
    }
    return stack_nodes_.size() == size_t(L_) + 2;  // nothing else between the samplers and the product
  }

  // The weights: attention_weights [B, Q, M, L, P] as [B·M, 1, Q, L·P].
  std::string match_weights(Match& m) {
    const Path path = follow_back(g_, uses_, weights_in_, false);
    for (size_t k = path.values.size(); k-- > 0;) {
      const ValueId w = path.values[k];
      if (!g_.type(w).shape.fully_known() || g_.type(w).shape.concrete() != Dims{B_, Q_, M_, L_, P_}) continue;
      if (B_ * Q_ * M_ * L_ * P_ > kMaxProbe) return "the attention weights are too large to verify (2^25 elements)";
      const std::vector<int> nodes = nodes_up_to(path, w);
      const auto probe = run_nodes(g_, nodes, {{w, iota({B_, Q_, M_, L_, P_})}});
      const int64_t* a = probe.at(weights_in_).data<int64_t>();
      bool ok = true;
      for (int64_t b = 0; b < B_ && ok; ++b)
        for (int64_t mm = 0; mm < M_ && ok; ++mm)
          for (int64_t q = 0; q < Q_ && ok; ++q)
            for (int64_t lp = 0; lp < L_ * P_; ++lp)
              if (a[((b * M_ + mm) * Q_ + q) * L_ * P_ + lp] != ((b * Q_ + q) * M_ + mm) * L_ * P_ + lp) { ok = false; break; }
      if (!ok) continue;
      m.weights = w;
      for (int n : nodes) m.inner.insert(n);
      return "";
    }
    if (const Tensor* a = g_.const_data(weights_in_)) {  // [B·M, 1, Q, L·P] -> [B, Q, M, L, P]
      Tensor w(DType::F32, {B_, Q_, M_, L_, P_});
      for (int64_t b = 0; b < B_; ++b)
        for (int64_t q = 0; q < Q_; ++q)
          for (int64_t mm = 0; mm < M_; ++mm)
            for (int64_t lp = 0; lp < L_ * P_; ++lp)
              w.data<float>()[((b * Q_ + q) * M_ + mm) * L_ * P_ + lp] = a->data<float>()[((b * M_ + mm) * Q_ + q) * L_ * P_ + lp];
      m.constant_weights = std::move(w);
      return "";
    }
    return fmt::format("the weights are not a relayout of one [B, Q, M, L, P] = [{}, {}, {}, {}, {}] tensor", B_, Q_, M_,
                       L_, P_);
  }

  // The output: the sum [B·M, D, Q] laid out as [B, Q, M·D] (or [B, Q, M, D]) further on.
  std::string match_output(int reduce_index, Match& m) {
    std::vector<ValueId> values{g_.nodes[size_t(reduce_index)].outputs[0]};
    std::vector<int> nodes{reduce_index};
    while (nodes.size() < kMaxPath && uses_.single_use(g_, values.back())) {
      const int next = uses_.consumers[size_t(values.back())][0];
      const Node& n = g_.nodes[size_t(next)];
      if (!is_relayout(n.op) || n.outputs.size() != 1 || sole_dynamic_input(g_, n) != values.back()) break;
      nodes.push_back(next);
      values.push_back(n.outputs[0]);
    }
    const Dims merged{B_, Q_, M_ * D_}, split{B_, Q_, M_, D_};
    for (size_t k = values.size(); k-- > 1;) {
      const TensorType& t = g_.type(values[k]);
      if (!t.shape.fully_known() || (t.shape.concrete() != merged && t.shape.concrete() != split)) continue;
      if (B_ * Q_ * M_ * D_ > kMaxProbe) return "the output is too large to verify (2^25 elements)";
      const std::vector<int> path(nodes.begin() + 1, nodes.begin() + ptrdiff_t(k) + 1);
      const auto probe = run_nodes(g_, path, {{values[0], iota(g_.type(values[0]).shape.concrete())}});
      const int64_t* o = probe.at(values[k]).data<int64_t>();
      bool ok = true;
      for (int64_t b = 0; b < B_ && ok; ++b)
        for (int64_t q = 0; q < Q_ && ok; ++q)
          for (int64_t mm = 0; mm < M_ && ok; ++mm)
            for (int64_t d = 0; d < D_; ++d)
              if (o[((b * Q_ + q) * M_ + mm) * D_ + d] != ((b * M_ + mm) * D_ + d) * Q_ + q) { ok = false; break; }
      if (!ok) continue;
      m.root = nodes[k];
      m.split_heads = t.rank() == 4;
      for (size_t i = 0; i < k; ++i) m.inner.insert(nodes[i]);
      return "";
    }
    return "the sum is not laid out as [B, Q, M·D] after it (nothing to write the fused output to)";
  }

  const Graph& g_;
  const Uses& uses_;
  ValueId samples_ = kNoValue, weights_in_ = kNoValue;
  std::vector<int> stack_nodes_;
  std::vector<const Node*> samplers_;
  std::vector<int64_t> level_;  // per sampler
  int64_t BM_ = 0, D_ = 0, Q_ = 0, L_ = 0, P_ = 0, B_ = 0, M_ = 0;
};

}  // namespace

PassReport fuse_deform_attn(Graph& g) {
  PassReport report("fuse-deform-attn");
  const Uses uses(g);
  std::vector<bool> erase(g.nodes.size(), false);
  std::vector<int> reductions;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].op == OpKind::ReduceSum && g.type(g.nodes[i].outputs[0]).dtype == DType::F32) reductions.push_back(int(i));
  for (int index : reductions) {
    if (erase[size_t(index)]) continue;
    Match m;
    Matcher matcher(g, uses);
    std::string why;
    try {
      why = matcher.match(index, m);
    } catch (const Error& e) {  // a probe the graph's own ops could not run: do not fuse
      why = std::string("probing it failed: ") + e.what();
    }
    if (!why.empty()) {
      report.refused(g.nodes[size_t(index)], "looks like deformable attention written with GridSample, but {}", why);
      continue;
    }
    if (m.root < 0) continue;
    bool overlaps = erase[size_t(m.root)];
    for (int n : m.inner) overlaps |= erase[size_t(n)];
    if (overlaps) continue;
    const std::string base = g.nodes[size_t(m.root)].name;
    const int64_t L = int64_t(m.height.size());
    Tensor shapes(DType::I64, {L, 2}), starts(DType::I64, {L});
    for (int64_t l = 0, start = 0; l < L; ++l) {
      shapes.data<int64_t>()[2 * l] = m.height[size_t(l)];
      shapes.data<int64_t>()[2 * l + 1] = m.width[size_t(l)];
      starts.data<int64_t>()[l] = start;
      start += m.height[size_t(l)] * m.width[size_t(l)];
    }
    const ValueId shapes_id = g.add_const(g.unique_value_name(base + ".spatial_shapes"), std::move(shapes));
    const ValueId starts_id = g.add_const(g.unique_value_name(base + ".level_start_index"), std::move(starts));
    if (m.constant_locations)
      m.locations = g.add_const(g.unique_value_name(base + ".sampling_locations"), std::move(*m.constant_locations));
    if (m.constant_weights)
      m.weights = g.add_const(g.unique_value_name(base + ".attention_weights"), std::move(*m.constant_weights));
    Node fused{.op = OpKind::MSDeformAttn, .name = "", .inputs = {m.value, shapes_id, starts_id, m.locations, m.weights},
               .outputs = {}, .attrs = {}, .sources = {}};
    if (m.split_heads) fused.set_attr("split_heads", int64_t{1});
    report.rewrote(g.nodes[size_t(m.root)], "{} nodes (GridSample x {}) became one MSDeformAttn over {} level{}{}",
                   m.inner.size() + 1, L, L, L == 1 ? "" : "s",
                   m.constant_locations || m.constant_weights ? " (constant locations/weights re-laid out)" : "");
    replace_pattern(g, m.root, m.inner, std::move(fused), erase);
  }
  g.erase_nodes(erase);
  report.summary("fused {} deformable attentions", report.rewrites());
  return report;
}

}  // namespace nnc
