// ops/slice.cpp — Slice: x[start:end:step] along chosen axes, numpy style.
// ONNX opsets 1, 10 (starts/ends/axes became inputs, steps added), 11 (negative indices), 13.
// https://onnx.ai/onnx/operators/onnx__Slice.html
//
// Clamping follows ONNX: a negative start/end counts from the end; then, for step > 0, start
// and end clamp to [0, dim]; for step < 0, start clamps to [0, dim-1] and end to [-1, dim-1],
// so INT_MIN as an end means "through element 0" and INT_MAX means "to the end". The element
// count is ceil((end - start) / step), at least 0.
#include <algorithm>
#include <limits>

#include "ops/op_def.h"

namespace nnc {
namespace {

// Where one axis starts, how it steps and how many elements it keeps.
struct AxisSlice {
  int64_t start = 0;
  int64_t step = 1;
  int64_t count = 0;
};

AxisSlice slice_axis(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (dim == 0) return {0, step, 0};
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
  }
  const int64_t distance = step > 0 ? end - start : start - end;
  const int64_t stride = step > 0 ? step : -step;
  const int64_t count = distance <= 0 ? 0 : (distance - 1) / stride + 1;
  return {start, step, count};
}

std::vector<int64_t> index_list(const Node& n, int input, const Tensor& t, const char* what) {
  if (t.dtype() != DType::I32 && t.dtype() != DType::I64)
    node_error(n, "input {} ({}) must be i32 or i64, not {}", input, what, dtype_name(t.dtype()));
  if (t.rank() != 1)
    node_error(n, "input {} ({}) must be 1-D but has shape {}", input, what, to_string(t.dims()));
  return t.to_int_vector();
}

// The slicing parameters, one entry per listed axis (normalized, no repeats).
struct Params {
  std::vector<int> axes;
  std::vector<int64_t> starts, ends, steps;
};

Params params(const Node& n, int rank, const Tensor& starts, const Tensor& ends, const Tensor* axes,
              const Tensor* steps) {
  Params p;
  p.starts = index_list(n, 1, starts, "starts");
  p.ends = index_list(n, 2, ends, "ends");
  const size_t count = p.starts.size();
  if (p.ends.size() != count)
    node_error(n, "starts has {} entries but ends has {}", count, p.ends.size());
  std::vector<int64_t> listed(count);
  for (size_t i = 0; i < count; ++i) listed[i] = int64_t(i);  // no axes: the first `count` axes
  if (axes) listed = index_list(n, 3, *axes, "axes");
  if (listed.size() != count)
    node_error(n, "axes has {} entries but starts has {}", listed.size(), count);
  std::vector<bool> seen(size_t(rank), false);
  for (int64_t a : listed) {
    const int axis = normalize_axis(n, a, rank);
    if (seen[size_t(axis)]) node_error(n, "axis {} is sliced twice", axis);
    seen[size_t(axis)] = true;
    p.axes.push_back(axis);
  }
  p.steps = steps ? index_list(n, 4, *steps, "steps") : std::vector<int64_t>(count, 1);
  if (p.steps.size() != count)
    node_error(n, "steps has {} entries but starts has {}", p.steps.size(), count);
  for (int64_t s : p.steps)
    if (s == 0) node_error(n, "steps [{}] has a 0 step", fmt::join(p.steps, ","));
  return p;
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  if (!x.shape.rank_known) return {x};
  const int rank = x.rank();
  const Tensor* starts = c.value(1);
  const Tensor* ends = c.value(2);
  const bool axes_known = !c.has_input(3) || c.value(3);
  const bool steps_known = !c.has_input(4) || c.value(4);
  if (!starts || !ends || !axes_known || !steps_known)  // computed at run time: rank only
    return {{x.dtype, Shape(std::vector<Dim>(size_t(rank), Dim()))}};
  const Params p = params(c.node, rank, *starts, *ends, c.value(3), c.value(4));
  TensorType out = x;
  for (size_t i = 0; i < p.axes.size(); ++i) {
    Dim& dim = out.shape.dims[size_t(p.axes[i])];
    if (dim.known())
      dim = Dim(slice_axis(dim.value, p.starts[i], p.ends[i], p.steps[i]).count);
    else if (!(p.starts[i] == 0 && p.steps[i] == 1 &&
               p.ends[i] >= std::numeric_limits<int32_t>::max()))
      dim = Dim();  // a symbolic dim survives only the whole-axis slice [0:INT_MAX]
  }
  return {out};
}

template <typename Word>  // an unsigned integer as wide as the element
void gather_strided(const Word* in, Word* out, const Dims& dims, const Dims& strides,
                    int64_t total) {
  const int rank = int(dims.size());
  if (total == 0) return;
  if (rank == 0) {
    out[0] = in[0];
    return;
  }
  const int64_t row = dims.back(), step = strides.back();
  std::vector<int64_t> index(size_t(rank - 1), 0);
  int64_t offset = 0;
  for (int64_t at = 0; at < total; at += row) {
    for (int64_t j = 0; j < row; ++j) out[at + j] = in[offset + j * step];
    for (int d = rank - 2; d >= 0; --d) {  // next row: advance the odometer
      offset += strides[size_t(d)];
      if (++index[size_t(d)] < dims[size_t(d)]) break;
      offset -= strides[size_t(d)] * dims[size_t(d)];
      index[size_t(d)] = 0;
    }
  }
}

// Output element i reads the input at base + sum(index_d * step_d * stride_d).
void reference(KernelContext& k) {
  const Tensor& x = k.in(0);
  Tensor& y = k.out(0);
  const Params p = params(k.node, x.rank(), k.in(1), k.in(2), k.has_input(3) ? &k.in(3) : nullptr,
                          k.has_input(4) ? &k.in(4) : nullptr);
  const Dims in_strides = strides_of(x.dims());
  Dims strides = in_strides;
  int64_t base = 0;
  for (size_t i = 0; i < p.axes.size(); ++i) {
    const size_t d = size_t(p.axes[i]);
    const AxisSlice s = slice_axis(x.dims()[d], p.starts[i], p.ends[i], p.steps[i]);
    if (s.count == 0) return;
    base += s.start * in_strides[d];
    strides[d] = s.step * in_strides[d];
  }
  const size_t element = dtype_size(x.dtype());
  const std::byte* in = x.bytes() + size_t(base) * element;
  visit_word(x.dtype(), [&]<typename Word>() {
    gather_strided(reinterpret_cast<const Word*>(in), reinterpret_cast<Word*>(y.bytes()), y.dims(),
                   strides, y.numel());
  });
}

}  // namespace

extern const OpDef kSlice{
    .kind = OpKind::Slice,
    .onnx_name = "Slice",
    .min_inputs = 3,
    .max_inputs = 5,
    .infer = infer,
    .reference = reference,
    .legacy = {{.before = 10, .attr = "starts", .input = 1},
               {.before = 10, .attr = "ends", .input = 2},
               {.before = 10, .attr = "axes", .input = 3}},
};

}  // namespace nnc
