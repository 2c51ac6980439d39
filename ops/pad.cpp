// ops/pad.cpp — Pad: grows (or, with negative pads, crops) each axis at both ends.
// ONNX opsets 2, 11 (pads and the constant became inputs), 13, 18 (axes input), 19 (wrap).
// https://onnx.ai/onnx/operators/onnx__Pad.html
//
// pads = [x1_begin, x2_begin, ..., x1_end, x2_end, ...] for the listed axes (all axes by
// default). Each output coordinate o along an axis maps to the input coordinate i = o - begin;
// when i falls outside [0, dim) the mode decides what goes there:
//   constant  the constant_value (default 0)
//   edge      the nearest edge element, i clamped to [0, dim-1]
//   reflect   mirrored without repeating the edge (numpy "reflect"): period 2*(dim-1)
//   wrap      periodic, i mod dim
// The kernel precomputes that mapping per axis, then copies row by row.
#include <algorithm>
#include <cstring>

#include "core/limits.h"
#include "ops/op_def.h"

namespace nnc {
namespace {

enum class Mode { Constant, Reflect, Edge, Wrap };

Mode pad_mode(const Node& n) {
  const std::string mode = attr_string(n, "mode");
  if (mode == "constant") return Mode::Constant;
  if (mode == "reflect") return Mode::Reflect;
  if (mode == "edge") return Mode::Edge;
  if (mode == "wrap") return Mode::Wrap;
  node_error(n, "mode '{}' is not one of constant, reflect, edge, wrap", mode);
}

// Begin and end padding of every axis (zero for axes not listed).
struct AxisPads {
  std::vector<int64_t> begin, end;
};

AxisPads axis_pads(const Node& n, int rank, const Tensor& pads, const Tensor* axes) {
  if (pads.dtype() != DType::I64 || pads.rank() != 1)
    node_error(n, "input 1 (pads) must be a 1-D i64 tensor, not {}", to_string(pads.type()));
  const std::vector<int64_t> list = pads.to_int_vector();
  std::vector<int> padded;
  if (axes) {
    if (axes->dtype() != DType::I32 && axes->dtype() != DType::I64)
      node_error(n, "input 3 (axes) must be i32 or i64, not {}", dtype_name(axes->dtype()));
    for (int64_t a : axes->to_int_vector()) {
      const int d = normalize_axis(n, a, rank);
      if (std::count(padded.begin(), padded.end(), d))
        node_error(n, "axis {} is listed twice in axes", a);
      padded.push_back(d);
    }
  } else {
    for (int d = 0; d < rank; ++d) padded.push_back(d);
  }
  if (list.size() != 2 * padded.size())
    node_error(n, "pads [{}] has {} entries but {} axes are padded, which needs {}",
               fmt::join(list, ","), list.size(), padded.size(), 2 * padded.size());
  AxisPads p{std::vector<int64_t>(size_t(rank), 0), std::vector<int64_t>(size_t(rank), 0)};
  for (size_t i = 0; i < padded.size(); ++i) {
    p.begin[size_t(padded[i])] = list[i];
    p.end[size_t(padded[i])] = list[i + padded.size()];
  }
  return p;
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  const Mode mode = pad_mode(c.node);
  if (!x.shape.rank_known) return {x};
  const Tensor* pads = c.value(1);
  if (!pads || (c.has_input(3) && !c.value(3)))  // computed at run time: rank only
    return {{x.dtype, Shape(std::vector<Dim>(size_t(x.rank()), Dim()))}};
  const AxisPads p = axis_pads(c.node, x.rank(), *pads, c.value(3));
  TensorType out = x;
  // No pad can be larger than the biggest tensor nnc makes; the bound keeps the sums below exact.
  const int64_t most = int64_t(resource_limits().max_tensor_bytes);
  for (int d = 0; d < x.rank(); ++d)
    for (const int64_t v : {p.begin[size_t(d)], p.end[size_t(d)]})
      if (v < -most || v > most)
        node_error(c.node, "pads [{}] pads axis {} by {}, beyond the tensor-size limit ({} bytes)",
                   fmt::join(pads->to_int_vector(), ","), d, v, most);
  for (int d = 0; d < x.rank(); ++d) {
    Dim& dim = out.shape.dims[size_t(d)];
    const int64_t grow = p.begin[size_t(d)] + p.end[size_t(d)];
    if (!dim.known()) {
      if (grow != 0 || p.begin[size_t(d)] < 0) dim = Dim();
      continue;
    }
    if (dim.value + grow < 0)
      node_error(c.node, "pads [{}] would make axis {} (size {}) negative",
                 fmt::join(pads->to_int_vector(), ","), d, dim.value);
    if (mode != Mode::Constant && dim.value == 0 &&
        (p.begin[size_t(d)] > 0 || p.end[size_t(d)] > 0))
      node_error(c.node, "{} padding needs elements to copy but axis {} is empty",
                 attr_string(c.node, "mode"), d);
    dim = Dim(dim.value + grow);
  }
  if (out.shape.fully_known()) checked_numel(out.shape.concrete(), x.dtype, describe(c.node));
  return {out};
}

// Input coordinate for each output coordinate along one axis; -1 means the constant.
std::vector<int64_t> axis_map(Mode mode, int64_t dim, int64_t begin, int64_t out_dim) {
  std::vector<int64_t> map(static_cast<size_t>(out_dim));
  for (int64_t o = 0; o < out_dim; ++o) {
    int64_t i = o - begin;
    if (i < 0 || i >= dim) {
      switch (mode) {
        case Mode::Constant:
          i = -1;
          break;
        case Mode::Edge:
          i = std::clamp<int64_t>(i, 0, dim - 1);
          break;
        case Mode::Wrap:
          i = ((i % dim) + dim) % dim;
          break;
        case Mode::Reflect: {
          const int64_t period = 2 * (dim - 1);
          if (period == 0) {
            i = 0;
            break;
          }
          i = ((i % period) + period) % period;
          if (i >= dim) i = period - i;
          break;
        }
      }
    }
    map[size_t(o)] = i;
  }
  return map;
}

template <typename Word>  // an unsigned integer as wide as the element
void pad(const Tensor& x, Word constant, const std::vector<std::vector<int64_t>>& maps, Tensor& y) {
  const Dims& out_dims = y.dims();
  const int rank = int(out_dims.size());
  if (y.numel() == 0) return;
  const Dims in_strides = strides_of(x.dims());
  const Word* in = reinterpret_cast<const Word*>(x.bytes());
  Word* out = reinterpret_cast<Word*>(y.bytes());
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const int64_t row = out_dims.back();
  const std::vector<int64_t>& row_map = maps.back();
  std::vector<int64_t> index(size_t(rank - 1), 0);
  for (int64_t at = 0; at < y.numel(); at += row) {
    int64_t base = 0;  // input offset of the row, or -1 when an outer coordinate is padding
    for (int d = 0; d < rank - 1 && base >= 0; ++d) {
      const int64_t i = maps[size_t(d)][size_t(index[size_t(d)])];
      base = i < 0 ? -1 : base + i * in_strides[size_t(d)];
    }
    for (int64_t j = 0; j < row; ++j)
      out[at + j] = base < 0 || row_map[size_t(j)] < 0 ? constant : in[base + row_map[size_t(j)]];
    for (int d = rank - 2; d >= 0; --d) {  // next row
      if (++index[size_t(d)] < out_dims[size_t(d)]) break;
      index[size_t(d)] = 0;
    }
  }
}

void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  Tensor& y = k.out(0);
  const Mode mode = pad_mode(k.node);
  const AxisPads p = axis_pads(k.node, x.rank(), k.in(1), k.has_input(3) ? &k.in(3) : nullptr);
  std::vector<std::vector<int64_t>> maps;
  for (int d = 0; d < x.rank(); ++d)
    maps.push_back(axis_map(mode, x.dims()[size_t(d)], p.begin[size_t(d)], y.dims()[size_t(d)]));
  // The constant in x's type (older models' `value` attribute arrives as f32).
  Tensor constant(x.dtype(), {});
  if (k.has_input(2) && k.in(2).numel() > 0) {
    if (k.in(2).numel() != 1)
      node_error(k.node, "input 2 (constant_value) must hold one value, not {}", k.in(2).numel());
    constant = k.in(2).reshaped({}).cast(x.dtype());
  }
  visit_word(x.dtype(), [&]<typename Word>() {
    Word value;
    std::memcpy(&value, constant.bytes(), sizeof(Word));
    pad<Word>(x, value, maps, y);
  });
}

}  // namespace

extern const OpDef kPad{
    .kind = OpKind::Pad,
    .onnx_name = "Pad",
    .min_inputs = 2,
    .max_inputs = 4,
    .attrs = {AttrSpec{"mode", AttrType::String, std::string("constant")}},
    .infer = infer,
    .reference = reference,
    .legacy = {{.before = 11, .attr = "pads", .input = 1},
               {.before = 11, .attr = "value", .input = 2, .scalar = true, .like_input0 = true}},
};

}  // namespace nnc
