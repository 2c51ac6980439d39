// ops/clip.cpp — Clip: y = min(max(x, min), max), elementwise. ONNX opsets 1, 6, 11, 12, 13.
//
// Since opset 11 the bounds are optional scalar inputs; before, they were float attributes,
// which the importer turns into constant inputs (`legacy`), so the kernel sees one form. An
// absent bound does not clip. Opset 12 added integer types; integer bounds are applied exactly.
// When min > max every element becomes max, as the spec says (min is applied first).
#include "ops/op_def.h"

namespace nnc {
namespace {

std::vector<TensorType> infer(InferContext& c) {
  const DType t = c.in(0).dtype;
  if (!is_float(t) && !is_integer(t))
    node_error(c.node, "input 0 has type {}; Clip takes a number type", dtype_name(t));
  for (int i = 1; i <= 2; ++i) {
    if (!c.has_input(i)) continue;
    const Shape& s = c.in(i).shape;
    const bool single = s.rank_known && (s.rank() == 0 || (s.rank() == 1 && s.dims[0] == Dim(1)));
    if (s.rank_known && s.fully_known() && !single)
      node_error(c.node, "input {} ({}) must be a scalar but has shape {}", i,
                 i == 1 ? "min" : "max", to_string(s));
  }
  return {c.in(0)};
}

// The bound as T; an absent bound is the type's extreme so it never clips. Bounds written as
// float attributes (opset < 11) reach an integer input as f32 constants; they convert here.
template <typename T>
T bound(const KernelContext& k, int input, T absent) {
  if (!k.has_input(input)) return absent;
  const Tensor& b = k.in(input);
  if (b.numel() != 1) node_error(k.node, "input {} must hold one value, got {}", input, b.numel());
  if constexpr (std::is_integral_v<T>) {
    if (is_integer(b.dtype())) return static_cast<T>(b.get_int(0));
  }
  return from_double<T>(b.get_double(0));
}

template <typename T>
void clip(KernelContext& k) {
  // Compute in float for the 16-bit float types; in T otherwise (exact for integers).
  using C = std::conditional_t<std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>, float, T>;
  C lo, hi;
  if constexpr (std::is_floating_point_v<C>) {
    lo = C(-std::numeric_limits<C>::infinity());
    hi = C(std::numeric_limits<C>::infinity());
  } else {
    lo = std::numeric_limits<C>::lowest();
    hi = std::numeric_limits<C>::max();
  }
  lo = bound<C>(k, 1, lo);
  hi = bound<C>(k, 2, hi);
  const T* x = k.in(0).data<T>();
  T* y = k.out(0).data<T>();
  const int64_t n = k.in(0).numel();
  for (int64_t i = 0; i < n; ++i) {
    C v;
    if constexpr (std::is_same_v<C, T>)
      v = x[i];
    else
      v = C(to_double(x[i]));
    // Written so that NaN passes through: comparisons with NaN are false.
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    if constexpr (std::is_same_v<C, T>)
      y[i] = v;
    else
      y[i] = from_double<T>(v);
  }
}

void reference(KernelContext& k) {
  visit_dtype(k.in(0).dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>)
      node_error(k.node, "Clip does not take bool input");
    else
      clip<T>(k);
  });
}

}  // namespace

extern const OpDef kClip{
    .kind = OpKind::Clip,
    .onnx_name = "Clip",
    .min_inputs = 1,
    .max_inputs = 3,
    .attrs = {},
    .infer = infer,
    .reference = reference,
    .legacy = {{.before = 11, .attr = "min", .input = 1, .scalar = true, .like_input0 = true},
               {.before = 11, .attr = "max", .input = 2, .scalar = true, .like_input0 = true}},
};

}  // namespace nnc
