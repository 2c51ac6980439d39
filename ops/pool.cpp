// ops/pool.cpp — MaxPool, AveragePool, LpPool and their Global forms.
// ONNX opsets 1-18. https://onnx.ai/onnx/operators/onnx__MaxPool.html (and AveragePool, LpPool)
//
// A window slides over the spatial dims as in Conv (ops/window_geometry.h, with ceil_mode).
//   MaxPool      the largest element; padding never wins. Optional output 1 (Indices) is the
//                flat index of that element in the input, row-major, or column-major over
//                the spatial dims with storage_order=1.
//   AveragePool  the mean over the window; count_include_pad=1 counts padding positions (but
//                not the overhang a ceil_mode window may have beyond the padding).
//   LpPool       (Σ |x|^p)^(1/p).
// Global* pool over all spatial dims at once (output spatial dims are 1).
// Values are combined in double; MaxPool also takes i8/u8.
#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "ops/window_geometry.h"

namespace nnc {
namespace {

bool is_global(OpKind op) {
  return op == OpKind::GlobalAveragePool || op == OpKind::GlobalMaxPool || op == OpKind::GlobalLpPool;
}

std::vector<int64_t> kernel_of(const Node& n, int spatial) {
  if (is_global(n.op)) return {};
  const std::vector<int64_t> kernel = attr_ints(n, "kernel_shape");
  if (int(kernel.size()) != spatial)
    node_error(n, "kernel_shape has {} values but the input has {} spatial dims", kernel.size(), spatial);
  return kernel;
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  const bool integers_ok = n.op == OpKind::MaxPool;
  if (!is_float(x.dtype) && !(integers_ok && (x.dtype == DType::I8 || x.dtype == DType::U8)))
    node_error(n, "input has type {}; {} takes float types{}", dtype_name(x.dtype), op_name(n.op),
               integers_ok ? " or i8/u8" : "");
  if (n.op == OpKind::LpPool || n.op == OpKind::GlobalLpPool)
    if (attr_int(n, "p") < 1) node_error(n, "p = {} must be at least 1", attr_int(n, "p"));
  if (!x.shape.rank_known) return {x, TensorType{DType::I64, Shape::unknown_rank()}};
  if (x.rank() < 3) node_error(n, "input has rank {}; {} needs [N, C, spatial...]", x.rank(), op_name(n.op));
  if (x.rank() > 5)  // global pools too: the kernels walk at most three spatial dims
    node_error(n, "input has rank {}; nnc's {} supports up to 3 spatial dims", x.rank(), op_name(n.op));
  std::vector<Dim> out = {x.shape.dims[0], x.shape.dims[1]};
  const std::vector<Dim> spatial(x.shape.dims.begin() + 2, x.shape.dims.end());
  if (is_global(n.op)) {
    out.resize(size_t(x.rank()), Dim(1));
  } else {
    for (const Dim& d : window_output_dims(n, spatial, kernel_of(n, int(spatial.size())), true)) out.push_back(d);
  }
  const TensorType y{x.dtype, Shape(out)};
  if (n.outputs.size() > 1) return {y, TensorType{DType::I64, Shape(out)}};
  return {y};
}


struct Window {
  Box3 in, kernel, out, stride, dilation, pad_begin, pad_end;
};

Window window_of(const Node& n, const Dims& x) {
  const std::vector<int64_t> input(x.begin() + 2, x.end());
  if (is_global(n.op)) {
    const Box3 in = box3(input, 1);
    return {in, in, {1, 1, 1}, {1, 1, 1}, {1, 1, 1}, {0, 0, 0}, {0, 0, 0}};
  }
  if (input.size() > 3) node_error(n, "{} supports up to 3 spatial dims, got {}", op_name(n.op), input.size());
  const WindowGeometry g = window_geometry(n, input, kernel_of(n, int(input.size())), true);
  return {box3(input, 1),        box3(g.kernel, 1),   box3(g.output, 1),  box3(g.stride, 1),
          box3(g.dilation, 1),   box3(g.pad_begin, 0), box3(g.pad_end, 0)};
}

// The taps k in [0, kernel) of one axis whose position start + k·dilation lies in [0, limit):
// [first, last) (empty when first >= last). Windows far larger than the input (a fuzzed
// kernel_shape of 65536) then cost what the input has, not what the kernel claims.
std::pair<int64_t, int64_t> taps_within(int64_t start, int64_t dilation, int64_t kernel, int64_t limit) {
  const int64_t first = start >= 0 ? 0 : (-start + dilation - 1) / dilation;
  const int64_t last = limit - start <= 0 ? 0 : (limit - start - 1) / dilation + 1;
  return {std::min(first, kernel), std::min(last, kernel)};
}

int64_t tap_count(std::pair<int64_t, int64_t> range) { return std::max<int64_t>(0, range.second - range.first); }

template <typename T>
void pool(const Node& n, const Tensor& x, Tensor& y, Tensor* indices) {
  const Window w = window_of(n, x.dims());
  const int64_t planes = x.dims()[0] * x.dims()[1];
  const int64_t in_size = w.in.d * w.in.h * w.in.w, out_size = w.out.d * w.out.h * w.out.w;
  const bool is_max = n.op == OpKind::MaxPool || n.op == OpKind::GlobalMaxPool;
  const bool is_lp = n.op == OpKind::LpPool || n.op == OpKind::GlobalLpPool;
  const double p = is_lp ? double(attr_int(n, "p")) : 1.0;
  const bool include_pad = n.op == OpKind::AveragePool && attr_int(n, "count_include_pad") != 0;
  const bool column_major = n.op == OpKind::MaxPool && attr_int(n, "storage_order") != 0;
  const T* in = x.data<T>();
  T* out = y.data<T>();
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t od = 0; od < w.out.d; ++od)
      for (int64_t oh = 0; oh < w.out.h; ++oh)
        for (int64_t ow = 0; ow < w.out.w; ++ow) {
          double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
          int64_t count = 0, best = -1;
          const int64_t sd = od * w.stride.d - w.pad_begin.d, sh = oh * w.stride.h - w.pad_begin.h;
          const int64_t sw = ow * w.stride.w - w.pad_begin.w;
          // count_include_pad counts the taps inside the padded input, begin padding included (not
          // a ceil_mode window's overhang past the end padding): positions in [−pad_begin, in + pad_end).
          const auto padded = [](int64_t start, int64_t dilation, int64_t kernel, int64_t in, int64_t begin, int64_t end) {
            return double(tap_count(taps_within(start + begin, dilation, kernel, in + begin + end)));
          };
          const double padded_count = padded(sd, w.dilation.d, w.kernel.d, w.in.d, w.pad_begin.d, w.pad_end.d) *
                                      padded(sh, w.dilation.h, w.kernel.h, w.in.h, w.pad_begin.h, w.pad_end.h) *
                                      padded(sw, w.dilation.w, w.kernel.w, w.in.w, w.pad_begin.w, w.pad_end.w);
          const auto [kd0, kd1] = taps_within(sd, w.dilation.d, w.kernel.d, w.in.d);
          const auto [kh0, kh1] = taps_within(sh, w.dilation.h, w.kernel.h, w.in.h);
          const auto [kw0, kw1] = taps_within(sw, w.dilation.w, w.kernel.w, w.in.w);
          for (int64_t kd = kd0; kd < kd1; ++kd)
            for (int64_t kh = kh0; kh < kh1; ++kh)
              for (int64_t kw = kw0; kw < kw1; ++kw) {
                const int64_t id = sd + kd * w.dilation.d, ih = sh + kh * w.dilation.h, iw = sw + kw * w.dilation.w;
                const int64_t at = (id * w.in.h + ih) * w.in.w + iw;
                const double v = to_double(in[plane * in_size + at]);
                ++count;
                if (is_max) {
                  if (v > acc || best < 0) acc = v, best = at;
                } else {
                  acc += is_lp ? std::pow(std::abs(v), p) : v;
                }
              }
          double result = acc;
          if (n.op == OpKind::AveragePool || n.op == OpKind::GlobalAveragePool)
            result = acc / std::max(1.0, include_pad ? padded_count : double(count));
          if (is_lp) result = std::pow(acc, 1.0 / p);
          const int64_t o = plane * out_size + (od * w.out.h + oh) * w.out.w + ow;
          out[o] = from_double<T>(result);
          if (indices && best >= 0) {
            int64_t at = best;
            if (column_major) {  // spatial index with the first spatial axis fastest
              const int64_t bd = best / (w.in.h * w.in.w), bh = best / w.in.w % w.in.h, bw = best % w.in.w;
              at = bd + w.in.d * (bh + w.in.h * bw);
            }
            indices->data<int64_t>()[o] = plane * in_size + at;
          }
        }
}

void reference(KernelContext& k) {
  Tensor* indices = k.outputs.size() > 1 && !k.out(1).empty_storage() ? &k.out(1) : nullptr;
  visit_dtype(k.in(0).dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>)
      node_error(k.node, "bool input is not supported");
    else
      pool<T>(k.node, k.in(0), k.out(0), indices);
  });
}

std::vector<AttrSpec> window_attrs() {
  return {AttrSpec{"auto_pad", AttrType::String, std::string("NOTSET")},
          AttrSpec{"ceil_mode", AttrType::Int, int64_t{0}},
          AttrSpec{.name = "dilations", .type = AttrType::Ints, .optional = true},
          AttrSpec{.name = "kernel_shape", .type = AttrType::Ints, .default_value = std::nullopt},
          AttrSpec{.name = "pads", .type = AttrType::Ints, .optional = true},
          AttrSpec{.name = "strides", .type = AttrType::Ints, .optional = true}};
}

OpDef pool_op(OpKind kind, std::string_view name, std::vector<AttrSpec> extra, int outputs = 1) {
  std::vector<AttrSpec> attrs = is_global(kind) ? std::vector<AttrSpec>{} : window_attrs();
  for (AttrSpec& a : extra) attrs.push_back(a);
  return OpDef{.kind = kind, .onnx_name = name, .max_outputs = outputs, .attrs = attrs, .infer = infer, .reference = reference};
}

}  // namespace

extern const OpDef kMaxPool = pool_op(OpKind::MaxPool, "MaxPool", {AttrSpec{"storage_order", AttrType::Int, int64_t{0}}}, 2);
extern const OpDef kAveragePool =
    pool_op(OpKind::AveragePool, "AveragePool", {AttrSpec{"count_include_pad", AttrType::Int, int64_t{0}}});
extern const OpDef kLpPool = pool_op(OpKind::LpPool, "LpPool", {AttrSpec{"p", AttrType::Int, int64_t{2}}});
extern const OpDef kGlobalAveragePool = pool_op(OpKind::GlobalAveragePool, "GlobalAveragePool", {});
extern const OpDef kGlobalMaxPool = pool_op(OpKind::GlobalMaxPool, "GlobalMaxPool", {});
extern const OpDef kGlobalLpPool = pool_op(OpKind::GlobalLpPool, "GlobalLpPool", {AttrSpec{"p", AttrType::Int, int64_t{2}}});

}  // namespace nnc
