// ops/unary.cpp — elementwise ops of one input that differ only in a scalar function:
// math (Abs .. Atanh), activations (Relu .. Gelu), Shrink, IsNaN/IsInf, Not, BitwiseNot.
// ONNX operator spec, https://onnx.ai/onnx/operators/ (Gelu is opset 20 there; nnc's own passes
// emit it, so it is accepted at any opset).
//
// Floating inputs go through one double-precision scalar function per op (f16/bf16 round once
// at the end). Integer inputs, where ONNX allows them (Abs, Neg, Sign, Relu, BitwiseNot), take
// an exact integer path: going through double would lose int64 values above 2^53.
#include <cmath>
#include <numbers>

#include "ops/op_def.h"

namespace nnc {
namespace {

// Every attribute any op in this file reads; each op declares only its own.
struct UnaryParams {
  double alpha = 0, beta = 0, gamma = 0, bias = 0, lambd = 0;
  bool gelu_tanh = false;
  bool detect_negative = true, detect_positive = true;
};

enum class Accepts : uint8_t {
  Float,          // float types only
  Signed,         // float and signed integers (exact)
  Numeric,        // float and all integers (exact)
  NumericDouble,  // float and all integers, integers through double (Shrink)
  Integer,        // integers only (BitwiseNot)
  Bool,           // bool only (Not)
  FloatToBool,    // float in, bool out (IsNaN, IsInf)
};

using ScalarFn = double (*)(double x, const UnaryParams& p);

struct UnaryOp {
  OpKind kind;
  Accepts accepts;
  ScalarFn fn;  // the float (and NumericDouble) path; integer paths are in integer_unary
};

double sigmoid(double x) {  // split by sign so exp never overflows
  if (x >= 0) return 1 / (1 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1 + e);
}
double softplus(double x) {  // log(1 + e^x) without overflow for large x
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
double gelu(double x, const UnaryParams& p) {
  if (!p.gelu_tanh) return 0.5 * x * (1 + std::erf(x / std::numbers::sqrt2));
  const double k = std::sqrt(2 / std::numbers::pi);
  return 0.5 * x * (1 + std::tanh(k * (x + 0.044715 * x * x * x)));
}
double sign(double x, const UnaryParams&) {
  if (x > 0) return 1;
  if (x < 0) return -1;
  return x;  // 0, -0 and NaN map to themselves
}
double shrink(double x, const UnaryParams& p) {
  if (x < -p.lambd) return x + p.bias;
  if (x > p.lambd) return x - p.bias;
  return 0;
}
double is_inf(double x, const UnaryParams& p) {
  return (std::isinf(x) && ((x > 0 && p.detect_positive) || (x < 0 && p.detect_negative))) ? 1 : 0;
}

using P = const UnaryParams&;
constexpr UnaryOp kUnaryOps[] = {
    {OpKind::Abs, Accepts::Numeric, [](double x, P) { return std::fabs(x); }},
    {OpKind::Neg, Accepts::Signed, [](double x, P) { return -x; }},
    {OpKind::Sign, Accepts::Numeric, sign},
    {OpKind::Reciprocal, Accepts::Float, [](double x, P) { return 1 / x; }},
    {OpKind::Floor, Accepts::Float, [](double x, P) { return std::floor(x); }},
    {OpKind::Ceil, Accepts::Float, [](double x, P) { return std::ceil(x); }},
    // ONNX rounds halves to even, as the default floating-point rounding mode does.
    {OpKind::Round, Accepts::Float, [](double x, P) { return std::nearbyint(x); }},
    {OpKind::Sqrt, Accepts::Float, [](double x, P) { return std::sqrt(x); }},
    {OpKind::Exp, Accepts::Float, [](double x, P) { return std::exp(x); }},
    {OpKind::Log, Accepts::Float, [](double x, P) { return std::log(x); }},
    {OpKind::Erf, Accepts::Float, [](double x, P) { return std::erf(x); }},
    {OpKind::Sin, Accepts::Float, [](double x, P) { return std::sin(x); }},
    {OpKind::Cos, Accepts::Float, [](double x, P) { return std::cos(x); }},
    {OpKind::Tan, Accepts::Float, [](double x, P) { return std::tan(x); }},
    {OpKind::Asin, Accepts::Float, [](double x, P) { return std::asin(x); }},
    {OpKind::Acos, Accepts::Float, [](double x, P) { return std::acos(x); }},
    {OpKind::Atan, Accepts::Float, [](double x, P) { return std::atan(x); }},
    {OpKind::Sinh, Accepts::Float, [](double x, P) { return std::sinh(x); }},
    {OpKind::Cosh, Accepts::Float, [](double x, P) { return std::cosh(x); }},
    {OpKind::Asinh, Accepts::Float, [](double x, P) { return std::asinh(x); }},
    {OpKind::Acosh, Accepts::Float, [](double x, P) { return std::acosh(x); }},
    {OpKind::Atanh, Accepts::Float, [](double x, P) { return std::atanh(x); }},
    {OpKind::Relu, Accepts::Signed, [](double x, P) { return x > 0 ? x : 0.0; }},
    {OpKind::LeakyRelu, Accepts::Float, [](double x, P p) { return x >= 0 ? x : p.alpha * x; }},
    {OpKind::Elu, Accepts::Float,
     [](double x, P p) { return x >= 0 ? x : p.alpha * std::expm1(x); }},
    {OpKind::Selu, Accepts::Float,
     [](double x, P p) { return p.gamma * (x > 0 ? x : p.alpha * std::expm1(x)); }},
    {OpKind::Celu, Accepts::Float,
     [](double x, P p) {
       return std::max(0.0, x) + std::min(0.0, p.alpha * std::expm1(x / p.alpha));
     }},
    {OpKind::ThresholdedRelu, Accepts::Float, [](double x, P p) { return x > p.alpha ? x : 0.0; }},
    {OpKind::Sigmoid, Accepts::Float, [](double x, P) { return sigmoid(x); }},
    {OpKind::HardSigmoid, Accepts::Float,
     [](double x, P p) { return std::clamp(p.alpha * x + p.beta, 0.0, 1.0); }},
    {OpKind::HardSwish, Accepts::Float,
     [](double x, P) { return x * std::clamp(x / 6 + 0.5, 0.0, 1.0); }},
    {OpKind::Tanh, Accepts::Float, [](double x, P) { return std::tanh(x); }},
    {OpKind::Softplus, Accepts::Float, [](double x, P) { return softplus(x); }},
    {OpKind::Softsign, Accepts::Float, [](double x, P) { return x / (1 + std::fabs(x)); }},
    {OpKind::Mish, Accepts::Float, [](double x, P) { return x * std::tanh(softplus(x)); }},
    {OpKind::Gelu, Accepts::Float, gelu},
    {OpKind::Shrink, Accepts::NumericDouble, shrink},
    {OpKind::IsNaN, Accepts::FloatToBool, [](double x, P) { return std::isnan(x) ? 1.0 : 0.0; }},
    {OpKind::IsInf, Accepts::FloatToBool, is_inf},
    {OpKind::Not, Accepts::Bool, nullptr},
    {OpKind::BitwiseNot, Accepts::Integer, nullptr},
};

const UnaryOp& unary_op(OpKind kind) {
  for (const UnaryOp& op : kUnaryOps)
    if (op.kind == kind) return op;
  fail(ErrorKind::Internal, "unary.cpp: {} is not in the table", op_name(kind));
}

UnaryParams read_params(const Node& n) {
  UnaryParams p;
  for (const AttrSpec& spec : op_def(n.op).attrs) {
    if (spec.name == "alpha") p.alpha = attr_float(n, "alpha");
    if (spec.name == "beta") p.beta = attr_float(n, "beta");
    if (spec.name == "gamma") p.gamma = attr_float(n, "gamma");
    if (spec.name == "bias") p.bias = attr_float(n, "bias");
    if (spec.name == "lambd") p.lambd = attr_float(n, "lambd");
    if (spec.name == "detect_negative") p.detect_negative = attr_int(n, "detect_negative") != 0;
    if (spec.name == "detect_positive") p.detect_positive = attr_int(n, "detect_positive") != 0;
    if (spec.name == "approximate") {
      const std::string mode = attr_string(n, "approximate");
      if (mode != "none" && mode != "tanh")
        node_error(n, "approximate must be \"none\" or \"tanh\", got \"{}\"", mode);
      p.gelu_tanh = mode == "tanh";
    }
  }
  return p;
}

bool accepts(Accepts a, DType t) {
  switch (a) {
    case Accepts::Float: return is_float(t);
    case Accepts::Signed: return is_float(t) || (is_integer(t) && is_signed(t));
    case Accepts::Numeric:
    case Accepts::NumericDouble: return is_float(t) || is_integer(t);
    case Accepts::Integer: return is_integer(t);
    case Accepts::Bool: return t == DType::Bool;
    case Accepts::FloatToBool: return is_float(t);
  }
  return false;
}

std::vector<TensorType> infer(InferContext& c) {
  const UnaryOp& op = unary_op(c.node.op);
  const DType t = c.in(0).dtype;
  if (!accepts(op.accepts, t))
    node_error(c.node, "{} does not accept input type {}", op_name(op.kind), dtype_name(t));
  read_params(c.node);  // validates attributes at compile time
  TensorType out = c.in(0);
  if (op.accepts == Accepts::FloatToBool) out.dtype = DType::Bool;
  return {out};
}

// Exact integer versions; unsigned arithmetic where signed could overflow (Neg and Abs of the
// most negative value wrap, as in numpy).
template <typename T>
void integer_unary(OpKind kind, const T* x, T* y, int64_t n) {
  using U = std::make_unsigned_t<T>;
  constexpr bool is_signed_type = std::is_signed_v<T>;
  auto neg = [](T v) { return T(U(0) - U(v)); };
  switch (kind) {
    case OpKind::Abs:
      for (int64_t i = 0; i < n; ++i) y[i] = (is_signed_type && x[i] < 0) ? neg(x[i]) : x[i];
      return;
    case OpKind::Neg:
      for (int64_t i = 0; i < n; ++i) y[i] = neg(x[i]);
      return;
    case OpKind::Sign:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? T(1) : x[i] == 0 ? T(0) : T(-1);
      return;
    case OpKind::Relu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0 ? x[i] : T(0);
      return;
    case OpKind::BitwiseNot:
      for (int64_t i = 0; i < n; ++i) y[i] = T(~U(x[i]));
      return;
    default: fail(ErrorKind::Internal, "integer_unary: {} has no integer path", op_name(kind));
  }
}

template <typename T>
void float_unary(const UnaryOp& op, const UnaryParams& p, const Tensor& x, Tensor& y) {
  const T* in = x.data<T>();
  const int64_t n = x.numel();
  if (op.accepts == Accepts::FloatToBool) {
    bool* out = y.data<bool>();
    for (int64_t i = 0; i < n; ++i) out[i] = op.fn(to_double(in[i]), p) != 0;
    return;
  }
  T* out = y.data<T>();
  if constexpr (std::is_same_v<T, float>) {
    if (op.kind == OpKind::Relu) {  // the activation real models use most: keep it vectorisable
      for (int64_t i = 0; i < n; ++i) out[i] = in[i] > 0 ? in[i] : 0.0f;
      return;
    }
  }
  for (int64_t i = 0; i < n; ++i) out[i] = from_double<T>(op.fn(to_double(in[i]), p));
}

void reference(KernelContext& k) {
  const UnaryOp& op = unary_op(k.node.op);
  const Tensor& x = k.in(0);
  Tensor& y = k.out(0);
  const UnaryParams p = read_params(k.node);
  visit_dtype(x.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      const bool* in = x.data<bool>();
      bool* out = y.data<bool>();
      for (int64_t i = 0; i < x.numel(); ++i) out[i] = !in[i];  // Not, the only bool op
    } else if constexpr (std::is_integral_v<T>) {
      if (op.accepts == Accepts::NumericDouble) {
        const T* in = x.data<T>();
        T* out = y.data<T>();
        for (int64_t i = 0; i < x.numel(); ++i) out[i] = from_double<T>(op.fn(to_double(in[i]), p));
      } else {
        integer_unary<T>(op.kind, x.data<T>(), y.data<T>(), x.numel());
      }
    } else {
      float_unary<T>(op, p, x, y);
    }
  });
}

OpDef unary(OpKind kind, std::string_view onnx_name, std::vector<AttrSpec> attrs = {}) {
  return OpDef{.kind = kind,
               .onnx_name = onnx_name,
               .attrs = std::move(attrs),
               .infer = infer,
               .reference = reference};
}

AttrSpec alpha(float value) { return AttrSpec{"alpha", AttrType::Float, value}; }

}  // namespace

extern const OpDef kAbs = unary(OpKind::Abs, "Abs");
extern const OpDef kNeg = unary(OpKind::Neg, "Neg");
extern const OpDef kSign = unary(OpKind::Sign, "Sign");
extern const OpDef kReciprocal = unary(OpKind::Reciprocal, "Reciprocal");
extern const OpDef kFloor = unary(OpKind::Floor, "Floor");
extern const OpDef kCeil = unary(OpKind::Ceil, "Ceil");
extern const OpDef kRound = unary(OpKind::Round, "Round");
extern const OpDef kSqrt = unary(OpKind::Sqrt, "Sqrt");
extern const OpDef kExp = unary(OpKind::Exp, "Exp");
extern const OpDef kLog = unary(OpKind::Log, "Log");
extern const OpDef kErf = unary(OpKind::Erf, "Erf");
extern const OpDef kSin = unary(OpKind::Sin, "Sin");
extern const OpDef kCos = unary(OpKind::Cos, "Cos");
extern const OpDef kTan = unary(OpKind::Tan, "Tan");
extern const OpDef kAsin = unary(OpKind::Asin, "Asin");
extern const OpDef kAcos = unary(OpKind::Acos, "Acos");
extern const OpDef kAtan = unary(OpKind::Atan, "Atan");
extern const OpDef kSinh = unary(OpKind::Sinh, "Sinh");
extern const OpDef kCosh = unary(OpKind::Cosh, "Cosh");
extern const OpDef kAsinh = unary(OpKind::Asinh, "Asinh");
extern const OpDef kAcosh = unary(OpKind::Acosh, "Acosh");
extern const OpDef kAtanh = unary(OpKind::Atanh, "Atanh");
extern const OpDef kRelu = unary(OpKind::Relu, "Relu");
extern const OpDef kLeakyRelu = unary(OpKind::LeakyRelu, "LeakyRelu", {alpha(0.01f)});
extern const OpDef kElu = unary(OpKind::Elu, "Elu", {alpha(1.0f)});
// Selu's constants as ONNX writes them (float32 values of the paper's alpha and lambda).
extern const OpDef kSelu = unary(OpKind::Selu, "Selu",
                                 {alpha(1.67326319217681884765625f),
                                  AttrSpec{"gamma", AttrType::Float, 1.05070102214813232421875f}});
extern const OpDef kCelu = unary(OpKind::Celu, "Celu", {alpha(1.0f)});
extern const OpDef kThresholdedRelu =
    unary(OpKind::ThresholdedRelu, "ThresholdedRelu", {alpha(1.0f)});
extern const OpDef kSigmoid = unary(OpKind::Sigmoid, "Sigmoid");
extern const OpDef kHardSigmoid = unary(OpKind::HardSigmoid, "HardSigmoid",
                                        {alpha(0.2f), AttrSpec{"beta", AttrType::Float, 0.5f}});
extern const OpDef kHardSwish = unary(OpKind::HardSwish, "HardSwish");
extern const OpDef kTanh = unary(OpKind::Tanh, "Tanh");
extern const OpDef kSoftplus = unary(OpKind::Softplus, "Softplus");
extern const OpDef kSoftsign = unary(OpKind::Softsign, "Softsign");
extern const OpDef kMish = unary(OpKind::Mish, "Mish");
extern const OpDef kGelu =
    unary(OpKind::Gelu, "Gelu", {AttrSpec{"approximate", AttrType::String, std::string("none")}});
extern const OpDef kShrink =
    unary(OpKind::Shrink, "Shrink",
          {AttrSpec{"bias", AttrType::Float, 0.0f}, AttrSpec{"lambd", AttrType::Float, 0.5f}});
extern const OpDef kIsNaN = unary(OpKind::IsNaN, "IsNaN");
extern const OpDef kIsInf = unary(OpKind::IsInf, "IsInf",
                                  {AttrSpec{"detect_negative", AttrType::Int, int64_t{1}},
                                   AttrSpec{"detect_positive", AttrType::Int, int64_t{1}}});
extern const OpDef kNot = unary(OpKind::Not, "Not");
extern const OpDef kBitwiseNot = unary(OpKind::BitwiseNot, "BitwiseNot");

}  // namespace nnc
