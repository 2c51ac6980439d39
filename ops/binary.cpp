// ops/binary.cpp — elementwise ops of two inputs with numpy broadcasting: arithmetic (Add Sub
// Mul Div Pow Mod PRelu), comparisons (Equal Less LessOrEqual Greater GreaterOrEqual), logic
// (And Or Xor) and bit ops (BitShift BitwiseAnd BitwiseOr BitwiseXor). ONNX operator spec,
// https://onnx.ai/onnx/operators/.
//
// Before opset 7, broadcasting was opt-in (`broadcast=1`) and B's dims could be aligned with A's
// at `axis` instead of at the end; PRelu's 1-D slope applied along the channel axis. The upgrade
// hook keeps what differs as nnc attributes: `legacy_axis` (accepted only when it equals the
// numpy alignment) and `channel_slope`.
//
// Every op is a scalar lambda over the element types, run by broadcast_apply(). Integer ops
// are exact and wrap like numpy (never through double: int64 above 2^53 would round); f16 and
// bf16 are computed in f32 and rounded once. The f32 same-shape and scalar cases run as plain
// vectorisable loops because real models spend their elementwise time there.
#include <cmath>

#include "ops/op_def.h"

namespace nnc {
namespace {

enum class Family : uint8_t { Arithmetic, Comparison, Logic, Bits };

Family family_of(OpKind op) {
  switch (op) {
    case OpKind::Equal:
    case OpKind::Less:
    case OpKind::LessOrEqual:
    case OpKind::Greater:
    case OpKind::GreaterOrEqual: return Family::Comparison;
    case OpKind::And:
    case OpKind::Or:
    case OpKind::Xor: return Family::Logic;
    case OpKind::BitShift:
    case OpKind::BitwiseAnd:
    case OpKind::BitwiseOr:
    case OpKind::BitwiseXor: return Family::Bits;
    default: return Family::Arithmetic;
  }
}

// --- broadcasting ---------------------------------------------------------------------------
// Output dims and each input's strides after merging neighbouring dims that both inputs treat
// alike (both vary, or one is broadcast along both). The innermost merged dim then has stride
// 1 or 0 in each input, so every row is one of three tight loops: same-shape, a broadcast
// along the row, b broadcast along the row. [1,C,H,W] * [1,C,1,1] becomes [C, H*W] * [C, 1].
struct BroadcastPlan {
  Dims dims;
  Dims a_strides, b_strides;
};

BroadcastPlan plan_broadcast(const Dims& out, const Dims& a, const Dims& b) {
  const size_t rank = out.size();
  auto varies = [&](const Dims& d, size_t i) {  // does input d change along output dim i?
    const size_t pad = rank - d.size();
    return i >= pad && d[i - pad] != 1;
  };
  BroadcastPlan plan;
  std::vector<std::pair<bool, bool>> kinds;
  for (size_t i = 0; i < rank; ++i) {
    if (out[i] == 1) continue;
    const std::pair<bool, bool> kind{varies(a, i), varies(b, i)};
    if (!kinds.empty() && kinds.back() == kind) {
      plan.dims.back() *= out[i];
    } else {
      plan.dims.push_back(out[i]);
      kinds.push_back(kind);
    }
  }
  plan.a_strides.assign(plan.dims.size(), 0);
  plan.b_strides.assign(plan.dims.size(), 0);
  int64_t a_stride = 1, b_stride = 1;
  for (size_t i = plan.dims.size(); i-- > 0;) {
    if (kinds[i].first) plan.a_strides[i] = a_stride, a_stride *= plan.dims[i];
    if (kinds[i].second) plan.b_strides[i] = b_stride, b_stride *= plan.dims[i];
  }
  return plan;
}

// out[i] = f(a[..], b[..]) over the broadcast of a and b; A, B, R are element types.
template <typename A, typename B, typename R, typename F>
void broadcast_apply(const Tensor& a, const Tensor& b, Tensor& out, F f) {
  const A* x = a.data<A>();
  const B* y = b.data<B>();
  R* z = out.data<R>();
  const int64_t total = out.numel();
  if (total == 0) return;
  const BroadcastPlan plan = plan_broadcast(out.dims(), a.dims(), b.dims());
  const int rank = int(plan.dims.size());
  const int64_t row = rank == 0 ? 1 : plan.dims.back();
  const bool a_varies = rank > 0 && plan.a_strides.back() == 1;
  const bool b_varies = rank > 0 && plan.b_strides.back() == 1;
  std::vector<int64_t> index(size_t(std::max(rank - 1, 0)), 0);  // odometer over outer dims
  int64_t a_offset = 0, b_offset = 0;
  for (int64_t start = 0; start < total; start += row) {
    const A* xa = x + a_offset;
    const B* yb = y + b_offset;
    R* zr = z + start;
    if (a_varies && b_varies) {
      for (int64_t i = 0; i < row; ++i) zr[i] = f(xa[i], yb[i]);
    } else if (a_varies) {
      const B y0 = yb[0];
      for (int64_t i = 0; i < row; ++i) zr[i] = f(xa[i], y0);
    } else if (b_varies) {
      const A x0 = xa[0];
      for (int64_t i = 0; i < row; ++i) zr[i] = f(x0, yb[i]);
    } else {
      zr[0] = f(xa[0], yb[0]);  // rank 0: a single element
    }
    for (int d = rank - 2; d >= 0; --d) {  // advance the odometer, carrying leftwards
      a_offset += plan.a_strides[size_t(d)];
      b_offset += plan.b_strides[size_t(d)];
      if (++index[size_t(d)] < plan.dims[size_t(d)]) break;
      a_offset -= plan.a_strides[size_t(d)] * plan.dims[size_t(d)];
      b_offset -= plan.b_strides[size_t(d)] * plan.dims[size_t(d)];
      index[size_t(d)] = 0;
    }
  }
}

// --- arithmetic -----------------------------------------------------------------------------
// Integer arithmetic runs in an unsigned type at least as wide as `unsigned`, so overflow
// wraps (as in numpy) instead of being undefined; u16 * u16 would otherwise promote to int and
// overflow. Floats run as themselves.
template <typename T>
struct WrapType {
  using type = T;
};
template <typename T>
requires(std::is_integral_v<T> && !std::is_same_v<T, bool>) struct WrapType<T> {
  using type =
      std::conditional_t<(sizeof(T) < sizeof(unsigned)), unsigned, std::make_unsigned_t<T>>;
};
template <typename T>
using Wrap = typename WrapType<T>::type;

// Integer power by squaring, wrapping like numpy. A negative exponent gives 1/x^-e truncated
// toward zero, which is 0 except for x = 1 or -1.
template <typename T>
T integer_pow(T x, int64_t e) {
  if (e < 0) {
    if (x == 1) return 1;
    if constexpr (std::is_signed_v<T>)
      if (x == -1) return (e % 2 == 0) ? T(1) : T(-1);
    return 0;
  }
  Wrap<T> result = 1, base = Wrap<T>(x);
  for (; e > 0; e >>= 1, base = Wrap<T>(base * base))
    if (e & 1) result = Wrap<T>(result * base);
  return T(result);
}

// Pow's exponent may have any number type: it is first widened to double (float base) or, for
// an integer base with an integer exponent, to int64 so that integer powers stay exact.
template <typename T>
void pow_kernel(const Tensor& base, const Tensor& exponent, Tensor& out) {
  if constexpr (std::is_integral_v<T>) {
    if (is_integer(exponent.dtype()) || exponent.dtype() == DType::Bool) {
      broadcast_apply<T, int64_t, T>(base, exponent.cast(DType::I64), out,
                                     [](T x, int64_t e) { return integer_pow(x, e); });
      return;
    }
  }
  if constexpr (std::is_same_v<T, float>) {
    if (exponent.dtype() == DType::F32) {
      broadcast_apply<float, float, float>(base, exponent, out, [](float x, float e) {
        return e == 2.0f ? x * x : float(std::pow(double(x), double(e)));
      });
      return;
    }
  }
  broadcast_apply<T, double, T>(base, exponent.cast(DType::F64), out, [](T x, double e) {
    return from_double<T>(std::pow(double(x), e));
  });
}

template <typename T>
void arithmetic_kernel(const Node& node, const Tensor& a, const Tensor& b, Tensor& out) {
  auto run = [&](auto f) { broadcast_apply<T, T, T>(a, b, out, f); };
  constexpr bool integral = std::is_integral_v<T>;
  switch (node.op) {
    case OpKind::Add: return run([](T x, T y) { return T(Wrap<T>(x) + Wrap<T>(y)); });
    case OpKind::Sub: return run([](T x, T y) { return T(Wrap<T>(x) - Wrap<T>(y)); });
    case OpKind::Mul: return run([](T x, T y) { return T(Wrap<T>(x) * Wrap<T>(y)); });
    case OpKind::Div:
      if constexpr (integral)  // C++ truncates toward zero like ONNX; MIN / -1 wraps to MIN
        return run([&](T x, T y) {
          if (y == 0) node_error(node, "integer division by zero");
          if constexpr (std::is_signed_v<T>)
            if (y == -1) return T(Wrap<T>(0) - Wrap<T>(x));
          return T(x / y);
        });
      else
        return run([](T x, T y) { return x / y; });
    case OpKind::Mod: {
      const bool fmod = attr_int(node, "fmod") != 0;
      if constexpr (integral)
        return run([&](T x, T y) {
          if (y == 0) node_error(node, "integer modulo by zero");
          if constexpr (std::is_signed_v<T>) {
            if (y == -1) return T(0);  // also avoids MIN % -1, which traps
            const T r = T(x % y);
            // fmod=0 follows Python: the result takes the divisor's sign.
            return (!fmod && r != 0 && ((r < 0) != (y < 0))) ? T(r + y) : r;
          }
          return T(x % y);
        });
      else
        return run([fmod](T x, T y) {
          const T r = std::fmod(x, y);
          return (!fmod && r != 0 && ((r < 0) != (y < 0))) ? T(r + y) : r;
        });
    }
    case OpKind::PRelu: return run([](T x, T slope) { return x < 0 ? T(slope * x) : x; });
    default: fail(ErrorKind::Internal, "arithmetic_kernel: {}", op_name(node.op));
  }
}

// --- comparisons, logic, bits -----------------------------------------------------------------
template <typename T>
void comparison_kernel(OpKind op, const Tensor& a, const Tensor& b, Tensor& out) {
  auto run = [&](auto f) { broadcast_apply<T, T, bool>(a, b, out, f); };
  switch (op) {
    case OpKind::Equal: return run([](T x, T y) { return x == y; });
    case OpKind::Less: return run([](T x, T y) { return x < y; });
    case OpKind::LessOrEqual: return run([](T x, T y) { return x <= y; });
    case OpKind::Greater: return run([](T x, T y) { return x > y; });
    case OpKind::GreaterOrEqual: return run([](T x, T y) { return x >= y; });
    default: fail(ErrorKind::Internal, "comparison_kernel: {}", op_name(op));
  }
}

void logic_kernel(OpKind op, const Tensor& a, const Tensor& b, Tensor& out) {
  auto run = [&](auto f) { broadcast_apply<bool, bool, bool>(a, b, out, f); };
  switch (op) {
    case OpKind::And: return run([](bool x, bool y) { return x && y; });
    case OpKind::Or: return run([](bool x, bool y) { return x || y; });
    case OpKind::Xor: return run([](bool x, bool y) { return x != y; });
    default: fail(ErrorKind::Internal, "logic_kernel: {}", op_name(op));
  }
}

template <typename T>
void bits_kernel(const Node& node, const Tensor& a, const Tensor& b, Tensor& out) {
  auto run = [&](auto f) { broadcast_apply<T, T, T>(a, b, out, f); };
  using U = Wrap<T>;
  switch (node.op) {
    case OpKind::BitShift: {
      const bool left = attr_string(node, "direction") == "LEFT";
      // Shifting by the width or more is undefined in C++; every bit is shifted out then.
      return run([left](T x, T s) {
        if (U(s) >= sizeof(T) * 8) return T(0);
        return left ? T(U(x) << U(s)) : T(U(x) >> U(s));
      });
    }
    case OpKind::BitwiseAnd: return run([](T x, T y) { return T(x & y); });
    case OpKind::BitwiseOr: return run([](T x, T y) { return T(x | y); });
    case OpKind::BitwiseXor: return run([](T x, T y) { return T(x ^ y); });
    default: fail(ErrorKind::Internal, "bits_kernel: {}", op_name(node.op));
  }
}

// --- schema -----------------------------------------------------------------------------------
void check_types(const Node& n, DType a, DType b) {
  const Family family = family_of(n.op);
  if (n.op != OpKind::Pow && a != b)
    node_error(n, "inputs have different types, {} and {}", dtype_name(a), dtype_name(b));
  const bool number = is_float(a) || is_integer(a);
  if (family == Family::Arithmetic && !number)
    node_error(n, "input 0 has type {}; {} takes numbers", dtype_name(a), op_name(n.op));
  if (n.op == OpKind::Pow && !is_float(b) && !is_integer(b))
    node_error(n, "input 1 (exponent) has type {}; Pow takes numbers", dtype_name(b));
  if (family == Family::Logic && a != DType::Bool)
    node_error(n, "inputs have type {}; {} takes bool", dtype_name(a), op_name(n.op));
  if (family == Family::Bits && !is_integer(a))
    node_error(n, "inputs have type {}; {} takes integers", dtype_name(a), op_name(n.op));
  if (n.op == OpKind::BitShift && is_signed(a))
    node_error(n, "inputs have type {}; BitShift takes unsigned integers", dtype_name(a));
}

// An opset < 7 PRelu slope of C values applies along axis 1: as [C,1,...,1] it broadcasts so.
Dims channel_slope_dims(const Dims& slope, int x_rank) {
  if (slope.size() != 1 || slope[0] == 1 || x_rank < 2) return slope;
  Dims dims(size_t(x_rank - 1), 1);
  dims[0] = slope[0];
  return dims;
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  check_types(n, c.in(0).dtype, c.in(1).dtype);
  if (n.has_attr("legacy_axis") && c.in(0).shape.rank_known && c.in(1).shape.rank_known) {
    const int64_t axis = attr_int(n, "legacy_axis");
    if (axis != c.in(0).rank() - c.in(1).rank())
      fail(ErrorKind::Unsupported,
           "{}: opset < 7 broadcast of a rank-{} B at axis {} of a rank-{} A is not supported "
           "(only the trailing alignment, axis {}, is)",
           describe(n), c.in(1).rank(), axis, c.in(0).rank(), c.in(0).rank() - c.in(1).rank());
  }
  if (n.op == OpKind::BitShift) {
    const std::string direction = attr_string(n, "direction");
    if (direction != "LEFT" && direction != "RIGHT")
      node_error(n, "direction must be \"LEFT\" or \"RIGHT\", got \"{}\"", direction);
  }
  Shape b_shape = c.in(1).shape;
  if (n.op == OpKind::PRelu && attr_int(n, "channel_slope") && b_shape.fully_known() &&
      c.in(0).shape.rank_known)
    b_shape = Shape(channel_slope_dims(b_shape.concrete(), c.in(0).rank()));
  const Shape shapes[] = {c.in(0).shape, b_shape};
  Shape shape = broadcast_shapes(n, shapes);
  if (n.op == OpKind::PRelu) {  // the slope broadcasts to X, never the other way
    if (shape.fully_known() && c.in(0).shape.fully_known() && shape != c.in(0).shape)
      node_error(n, "slope {} does not broadcast to X {}", to_string(c.in(1).shape),
                 to_string(c.in(0).shape));
    shape = c.in(0).shape;
  }
  const Family family = family_of(n.op);
  const DType out = family == Family::Comparison ? DType::Bool : c.in(0).dtype;
  return {TensorType{out, shape}};
}

void reference(KernelContext& k) {
  const Node& n = k.node;
  const Family family = family_of(n.op);
  const Tensor& a = k.in(0);
  Tensor b = k.in(1);
  if (n.op == OpKind::PRelu && attr_int(n, "channel_slope"))
    b = b.reshaped(channel_slope_dims(b.dims(), a.rank()));
  const DType t = a.dtype();
  if (t == DType::F16 || t == DType::BF16) {
    // Computed in f32, rounded once; comparisons of the widened values are exact.
    const Tensor a32 = a.cast(DType::F32);
    const Tensor b32 = n.op == OpKind::Pow ? b : b.cast(DType::F32);
    Tensor result(family == Family::Comparison ? DType::Bool : DType::F32, k.out(0).dims());
    std::vector<const Tensor*> inputs{&a32, &b32};
    std::vector<Tensor> outputs{result};
    KernelContext widened{n, inputs, outputs};
    reference(widened);
    k.out(0) = family == Family::Comparison ? outputs[0] : outputs[0].cast(t);
    return;
  }
  visit_dtype(t, [&]<typename T>() {
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) {
      return;  // widened above
    } else if constexpr (std::is_same_v<T, bool>) {
      if (family == Family::Logic)
        logic_kernel(n.op, a, b, k.out(0));
      else if (family == Family::Comparison)
        comparison_kernel<bool>(n.op, a, b, k.out(0));
      else
        node_error(n, "{} does not take bool", op_name(n.op));
    } else if (family == Family::Comparison) {
      comparison_kernel<T>(n.op, a, b, k.out(0));
    } else if (n.op == OpKind::Pow) {
      pow_kernel<T>(a, b, k.out(0));
    } else if (family == Family::Arithmetic) {
      arithmetic_kernel<T>(n, a, b, k.out(0));
    } else if constexpr (std::is_integral_v<T>) {
      bits_kernel<T>(n, a, b, k.out(0));
    } else {
      node_error(n, "{} does not take {}", op_name(n.op), dtype_name(t));
    }
  });
}

void upgrade(Node& n, UpgradeContext& c) {
  if (c.opset >= 7) return;
  n.erase_attr("broadcast");  // nnc always broadcasts
  if (const AttrValue* axis = n.find_attr("axis")) {
    n.set_attr("legacy_axis", *axis);
    n.erase_attr("axis");
  }
  if (n.op == OpKind::PRelu) n.set_attr("channel_slope", int64_t{1});
}

OpDef binary(OpKind kind, std::string_view onnx_name, std::vector<AttrSpec> attrs = {}) {
  attrs.push_back(AttrSpec{.name = "legacy_axis", .type = AttrType::Int, .optional = true});
  return OpDef{.kind = kind,
               .onnx_name = onnx_name,
               .min_inputs = 2,
               .max_inputs = 2,
               .attrs = std::move(attrs),
               .infer = infer,
               .reference = reference,
               .upgrade = upgrade};
}

}  // namespace

extern const OpDef kAdd = binary(OpKind::Add, "Add");
extern const OpDef kSub = binary(OpKind::Sub, "Sub");
extern const OpDef kMul = binary(OpKind::Mul, "Mul");
extern const OpDef kDiv = binary(OpKind::Div, "Div");
extern const OpDef kPow = binary(OpKind::Pow, "Pow");
extern const OpDef kMod = binary(OpKind::Mod, "Mod", {AttrSpec{"fmod", AttrType::Int, int64_t{0}}});
extern const OpDef kPRelu =
    binary(OpKind::PRelu, "PRelu", {AttrSpec{"channel_slope", AttrType::Int, int64_t{0}}});
extern const OpDef kEqual = binary(OpKind::Equal, "Equal");
extern const OpDef kLess = binary(OpKind::Less, "Less");
extern const OpDef kLessOrEqual = binary(OpKind::LessOrEqual, "LessOrEqual");
extern const OpDef kGreater = binary(OpKind::Greater, "Greater");
extern const OpDef kGreaterOrEqual = binary(OpKind::GreaterOrEqual, "GreaterOrEqual");
extern const OpDef kAnd = binary(OpKind::And, "And");
extern const OpDef kOr = binary(OpKind::Or, "Or");
extern const OpDef kXor = binary(OpKind::Xor, "Xor");
extern const OpDef kBitShift =
    binary(OpKind::BitShift, "BitShift", {AttrSpec{"direction", AttrType::String, std::nullopt}});
extern const OpDef kBitwiseAnd = binary(OpKind::BitwiseAnd, "BitwiseAnd");
extern const OpDef kBitwiseOr = binary(OpKind::BitwiseOr, "BitwiseOr");
extern const OpDef kBitwiseXor = binary(OpKind::BitwiseXor, "BitwiseXor");

}  // namespace nnc
