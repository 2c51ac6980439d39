// ops/quantized_transformer.cpp — the integer-only LayerNorm and Softmax of FQ-ViT (Lin et al.,
// "FQ-ViT: Post-Training Quantization for Fully Quantized Vision Transformer", IJCAI 2022), and
// the dequantizer of its log2-coded attention. nnc's own ops (domain "nnc").
//
//   QLayerNorm     y8 = QLayerNorm x8, x_scale, x_zero, gamma, beta, y_scale, y_zero   epsilon=
//     LayerNorm over the last axis of 8-bit x. x_scale holds one value, or one per channel that
//     is the smallest times 2^α_c, α_c in 0..7: the power-of-two factor (PTF) that gives each
//     channel of a transformer's residual stream (whose ranges differ by 10-100x) its own step
//     while sharing one zero point. Integer-only: x̂_c = (x_c − zero) << α_c brings all channels
//     to the smallest step; the row's Σx̂ and Σx̂² are exact in int64; the step cancels in
//     (x − μ)/σ = (C·x̂ − Σx̂) / √(C·Σx̂² − (Σx̂)²), whose root is an integer square root; γ/y_scale
//     and β/y_scale are fixed-point with 16 fraction bits, and one rounding gives the byte.
//
//   QSoftmax       y8 = QSoftmax x8, x_scale, x_zero, y_scale?, y_zero?   axis=-1 output="uniform"|"log2" bits=4
//     Softmax of 8-bit x. Integer-only exp after I-BERT (Kim et al. 2021): x − max ≤ 0 is put in
//     units of ln2/1024 by a fixed-point multiply; with z = ⌊−d/1024⌋ and p = d + 1024·z in
//     (−1024, 0], e^d = 2^−z · e^p and e^p ≈ 0.3585·(p + 1.353)² + 0.344 is evaluated on integers;
//     the right shift by z does 2^−z. The probabilities e_i/Σe then become either uniform bytes
//     (y_scale, y_zero: the naive scheme) or, with output="log2", FQ-ViT's log-int-softmax codes
//     round(−log2(e_i/Σe)) clipped to 0..2^bits−1 — computed on integers, rounding in the log
//     domain by comparing Σ² with e_i²·2^(2k+1). Attention weights near 1 keep their precision
//     there, where a uniform 8-bit step of 1/255 loses the small ones entirely.
//
//   Log2Dequantize f = Log2Dequantize codes      f = 2^−code (u8 codes to f32)
//
// insert-quantizers emits these for LayerNormalization and Softmax when asked (nnc quantize
// --layernorm/--softmax/--fq-vit); tests/ops/quantized_transformer_test.cpp checks them against
// float LayerNorm and Softmax.
#include <cmath>

#include "ops/op_def.h"

namespace nnc {
namespace {

int32_t saturate_byte(int64_t v, DType type) {
  return type == DType::U8 ? int32_t(std::clamp<int64_t>(v, 0, 255)) : int32_t(std::clamp<int64_t>(v, -128, 127));
}

void store_byte(Tensor& t, int64_t i, int32_t v) {
  if (t.dtype() == DType::U8) t.data<uint8_t>()[i] = uint8_t(v);
  else t.data<int8_t>()[i] = int8_t(v);
}

double positive_scale(const Node& n, const Tensor& t, int64_t i, const char* what) {
  const double s = t.get_double(i);
  if (!(s > 0) || !std::isfinite(s)) node_error(n, "{} = {} must be positive and finite", what, s);
  return s;
}

// round(a / b) for b > 0, halves away from zero.
__int128 divide_rounded(__int128 a, __int128 b) { return a >= 0 ? (a + b / 2) / b : -((-a + b / 2) / b); }

// ⌊√v⌋ for v ≥ 0, exactly (Newton's iteration from above on integers).
uint64_t integer_sqrt(unsigned __int128 v) {
  if (v < 2) return uint64_t(v);
  unsigned __int128 x = v, y = (x + 1) / 2;
  while (y < x) x = y, y = (x + v / x) / 2;
  return uint64_t(x);
}

int bit_length(unsigned __int128 v) {
  const uint64_t high = uint64_t(v >> 64), low = uint64_t(v);
  return high ? 128 - __builtin_clzll(high) : low ? 64 - __builtin_clzll(low) : 0;
}

// An 8-bit tensor's values as int32, read once (the kernels then index plain integers).
std::vector<int32_t> byte_values(const Tensor& t) {
  std::vector<int32_t> v(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::U8)
    for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = t.data<uint8_t>()[i];
  else
    for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = t.data<int8_t>()[i];
  return v;
}

// Scales and zero points that are per tensor must hold one value (a kernel reads only the first).
void require_one_value(InferContext& c, std::initializer_list<int> inputs) {
  for (int i : inputs)
    if (c.has_input(i) && c.in(i).shape.fully_known() && product(c.in(i).shape.concrete()) != 1)
      node_error(c.node, "input {} must hold one value, got shape {}", i, to_string(c.in(i).shape));
}

// ---- QLayerNorm ------------------------------------------------------------------------------

std::vector<TensorType> infer_qlayernorm(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  if (!is_8bit(x.dtype)) node_error(n, "x must be u8 or i8, got {}", dtype_name(x.dtype));
  if (c.in(2).dtype != x.dtype) node_error(n, "x_zero is {} but x is {}", dtype_name(c.in(2).dtype), dtype_name(x.dtype));
  if (!is_8bit(c.in(6).dtype)) node_error(n, "y_zero must be u8 or i8, got {}", dtype_name(c.in(6).dtype));
  for (int i : {1, 3, 4, 5})
    if (c.has_input(i) && c.in(i).dtype != DType::F32) node_error(n, "input {} must be f32, got {}", i, dtype_name(c.in(i).dtype));
  if (x.shape.rank_known && x.rank() < 1) node_error(n, "x must have rank at least 1");
  require_one_value(c, {2, 5, 6});
  if (x.shape.rank_known && x.shape.dims.back().known()) {
    const int64_t channels = x.shape.dims.back().value;
    for (int i : {1, 3, 4}) {
      if (!c.has_input(i) || !c.in(i).shape.fully_known()) continue;
      const int64_t count = product(c.in(i).shape.concrete());
      if (count != channels && count != 1)
        node_error(n, "input {} has {} values for {} channels", i, count, channels);
    }
  }
  return {TensorType{c.in(6).dtype, x.shape}};
}

// α_c with scale_c = smallest · 2^α_c; an error when a ratio is not a power of two in 1..128.
std::vector<int> power_of_two_factors(const Node& n, const Tensor& scales, double& smallest) {
  smallest = positive_scale(n, scales, 0, "x_scale");
  for (int64_t c = 1; c < scales.numel(); ++c) smallest = std::min(smallest, positive_scale(n, scales, c, "x_scale"));
  std::vector<int> alpha(size_t(scales.numel()));
  for (int64_t c = 0; c < scales.numel(); ++c) {
    int exponent = 0;
    const double mantissa = std::frexp(scales.get_double(c) / smallest, &exponent);
    if (mantissa != 0.5 || exponent < 1 || exponent > 8)
      node_error(n, "x_scale[{}] = {} is not the smallest ({}) times a power of two up to 2^7", c, scales.get_double(c), smallest);
    alpha[size_t(c)] = exponent - 1;
  }
  return alpha;
}

void reference_qlayernorm(KernelContext& k) {
  const Node& n = k.node;
  const Tensor& x = k.in(0);
  const int64_t channels = x.dims().back(), rows = channels > 0 ? x.numel() / channels : 0;
  const Tensor& gamma = k.in(3);
  const Tensor& beta = k.in(4);
  double step = 0;
  const std::vector<int> alpha = power_of_two_factors(n, k.in(1), step);
  const double y_scale = positive_scale(n, k.in(5), 0, "y_scale");
  const int64_t x_zero = k.in(2).get_int(0), y_zero = k.in(6).get_int(0);
  const double epsilon = n.has_attr("epsilon") ? attr_float(n, "epsilon") : 1e-5;
  if (!(epsilon >= 0) || !std::isfinite(epsilon)) node_error(n, "epsilon = {} must be finite and not negative", epsilon);

  // The per-row constants in integers: γ and β in output steps with 16 fraction bits, ε in the
  // units of C²·var measured in x̂ steps.
  constexpr int kFraction = 16;
  const double limit = 9.0e15;  // keeps products in int64 before the 128-bit division
  std::vector<int64_t> gain(static_cast<size_t>(channels)), offset(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const double g = gamma.get_double(gamma.numel() == 1 ? 0 : c) / y_scale * double(1 << kFraction);
    const double b = beta.get_double(beta.numel() == 1 ? 0 : c) / y_scale * double(1 << kFraction);
    if (!std::isfinite(g) || !std::isfinite(b)) node_error(n, "gamma or beta of channel {} is not finite", c);
    gain[size_t(c)] = int64_t(std::clamp(std::nearbyint(g), -limit, limit));
    offset[size_t(c)] = int64_t(std::clamp(std::nearbyint(b), -limit, limit));
  }
  const double eps_units = epsilon / (step * step) * double(channels) * double(channels);
  const unsigned __int128 eps_term = (unsigned __int128)(std::min(std::nearbyint(eps_units), 1.0e30));

  Tensor& y = k.out(0);
  const std::vector<int32_t> values = byte_values(x);
  std::vector<int64_t> centred(static_cast<size_t>(channels));
  for (int64_t r = 0; r < rows; ++r) {
    __int128 sum = 0, sum_sq = 0;
    for (int64_t c = 0; c < channels; ++c) {
      const int64_t v = (values[size_t(r * channels + c)] - x_zero) * (int64_t(1) << alpha[size_t(alpha.size() == 1 ? 0 : c)]);
      centred[size_t(c)] = v;
      sum += v;
      sum_sq += __int128(v) * v;
    }
    const unsigned __int128 spread = (unsigned __int128)(__int128(channels) * sum_sq - sum * sum) + eps_term;  // C²·(var+ε)
    // The root is exact to the unit; scaled by 4^k first, it has 30 significant bits however
    // coarse the input's steps (k then scales the deviation to match).
    const int k = std::max(0, (62 - bit_length(spread)) / 2);
    const uint64_t root = integer_sqrt(spread << (2 * k));
    for (int64_t c = 0; c < channels; ++c) {
      const __int128 deviation = (__int128(channels) * centred[size_t(c)] - sum) * (__int128(1) << k);  // C·(x̂ − μ)·2^k
      const __int128 normalized = root > 0 ? divide_rounded(deviation * gain[size_t(c)], root) : 0;
      const __int128 fixed = normalized + offset[size_t(c)];
      // Saturated in 128 bits first: a near-constant row (root 1) with a large γ overflows int64.
      const __int128 steps = std::clamp<__int128>(divide_rounded(fixed, __int128(1) << kFraction), -(__int128(1) << 40), __int128(1) << 40);
      store_byte(y, r * channels + c, saturate_byte(int64_t(steps) + y_zero, y.dtype()));
    }
  }
}

// ---- QSoftmax --------------------------------------------------------------------------------

int log2_bits(const Node& n) {
  const int64_t bits = n.has_attr("bits") ? attr_int(n, "bits") : 4;
  // Codes above 31 would stand for weights below 2^-31, which Log2Dequantize's consumers cannot
  // tell from 0; FQ-ViT uses 4 bits.
  if (bits < 1 || bits > 5) node_error(n, "bits = {} must be between 1 and 5", bits);
  return int(bits);
}

bool log2_output(const Node& n) {
  const std::string output = n.has_attr("output") ? attr_string(n, "output") : "uniform";
  if (output != "uniform" && output != "log2") node_error(n, "output = '{}' must be 'uniform' or 'log2'", output);
  return output == "log2";
}

std::vector<TensorType> infer_qsoftmax(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  if (!is_8bit(x.dtype)) node_error(n, "x must be u8 or i8, got {}", dtype_name(x.dtype));
  if (c.in(2).dtype != x.dtype) node_error(n, "x_zero is {} but x is {}", dtype_name(c.in(2).dtype), dtype_name(x.dtype));
  if (x.shape.rank_known) normalize_axis(n, n.has_attr("axis") ? attr_int(n, "axis") : -1, std::max(1, x.rank()));
  require_one_value(c, {1, 2, 3, 4});
  if (log2_output(n)) {
    log2_bits(n);
    return {TensorType{DType::U8, x.shape}};
  }
  if (!c.has_input(3) || !c.has_input(4)) node_error(n, "output='uniform' needs y_scale and y_zero (inputs 3 and 4)");
  if (!is_8bit(c.in(4).dtype)) node_error(n, "y_zero must be u8 or i8, got {}", dtype_name(c.in(4).dtype));
  return {TensorType{c.in(4).dtype, x.shape}};
}

// e^(d·x_scale) for integer d ≤ 0 on integers, scaled by kExpOne (≈ 2^22.3), as I-BERT's i-exp.
struct IntegerExp {
  static constexpr int kLn2Units = 1024;  // ln 2 in the units d is converted to
  int64_t multiplier = 0;                 // d · multiplier >> 20 is d in units of ln2/1024
  int64_t b = 0, c = 0;                   // the polynomial's 1.353 and 0.344/0.3585 in those units

  explicit IntegerExp(double x_scale) {
    const double unit = std::log(2.0) / kLn2Units;
    multiplier = int64_t(std::nearbyint(std::min(x_scale / unit, 1.0e6) * double(1 << 20)));
    b = int64_t(std::floor(1.353 / unit));
    c = int64_t(std::floor(0.344 / 0.3585 / (unit * unit)));
  }
  int64_t operator()(int64_t d) const {
    const int64_t units = -((-d * multiplier + (1 << 19)) >> 20);  // ≤ 0, rounded
    const int64_t z = (-units) / kLn2Units;
    const int64_t p = units + z * kLn2Units;  // (−1024, 0]
    const int64_t poly = (p + b) * (p + b) + c;
    return z >= 62 ? 0 : poly >> z;
  }
};

// round(log2(total / e)) for 0 < e ≤ total, on integers.
int64_t rounded_log2_ratio(int64_t total, int64_t e) {
  int k = bit_length((unsigned __int128)total) - bit_length((unsigned __int128)e);
  if ((__int128(e) << k) > total) --k;  // now e·2^k ≤ total < e·2^(k+1)
  // log2(total/e) ≥ k + ½  ⇔  total² ≥ e²·2^(2k+1)
  const unsigned __int128 lhs = (unsigned __int128)total * (unsigned __int128)total;
  const unsigned __int128 rhs = ((unsigned __int128)e * (unsigned __int128)e) << (2 * k + 1);
  return lhs >= rhs ? k + 1 : k;
}

void reference_qsoftmax(KernelContext& k) {
  const Node& n = k.node;
  const Tensor& x = k.in(0);
  const int rank = std::max(1, x.rank());
  const int axis = normalize_axis(n, n.has_attr("axis") ? attr_int(n, "axis") : -1, rank);
  const Dims dims = x.rank() == 0 ? Dims{1} : x.dims();
  const int64_t length = dims[size_t(axis)], inner = product(std::span(dims).subspan(size_t(axis) + 1));
  const int64_t outer = length * inner > 0 ? x.numel() / (length * inner) : 0;
  const bool log2 = log2_output(n);
  const IntegerExp exp(positive_scale(n, k.in(1), 0, "x_scale"));
  Tensor& y = k.out(0);
  int64_t max_code = 0, reciprocal = 0, y_zero = 0;
  if (log2) {
    max_code = (int64_t(1) << log2_bits(n)) - 1;
  } else {
    // 1/y_scale with 16 fraction bits.
    reciprocal = int64_t(std::nearbyint(std::min(1.0 / positive_scale(n, k.in(3), 0, "y_scale"), 1.0e9) * 65536.0));
    y_zero = k.in(4).get_int(0);
  }
  // x − max of 8-bit values lies in [−255, 0]: the integer exp of each, once.
  std::vector<int64_t> exp_of(256);
  for (int64_t d = 0; d < 256; ++d) exp_of[size_t(d)] = exp(-d);
  const std::vector<int32_t> values = byte_values(x);
  std::vector<int64_t> e(static_cast<size_t>(length));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t first = o * length * inner + i;
      int32_t top = INT32_MIN;
      for (int64_t j = 0; j < length; ++j) top = std::max(top, values[size_t(first + j * inner)]);
      int64_t total = 0;
      for (int64_t j = 0; j < length; ++j) total += e[size_t(j)] = exp_of[size_t(top - values[size_t(first + j * inner)])];
      for (int64_t j = 0; j < length; ++j) {
        const int64_t at = first + j * inner;
        if (log2) {
          const int64_t code = e[size_t(j)] > 0 ? std::min(rounded_log2_ratio(total, e[size_t(j)]), max_code) : max_code;
          y.data<uint8_t>()[at] = uint8_t(code);
        } else {
          const __int128 q = divide_rounded(__int128(e[size_t(j)]) * reciprocal, __int128(total) << 16);
          store_byte(y, at, saturate_byte(int64_t(q) + y_zero, y.dtype()));
        }
      }
    }
}

// ---- Log2Dequantize --------------------------------------------------------------------------

std::vector<TensorType> infer_log2_dequantize(InferContext& c) {
  if (c.in(0).dtype != DType::U8) node_error(c.node, "codes must be u8, got {}", dtype_name(c.in(0).dtype));
  return {TensorType{DType::F32, c.in(0).shape}};
}

void reference_log2_dequantize(KernelContext& k) {
  const Tensor& codes = k.in(0);
  float* out = k.out(0).data<float>();
  for (int64_t i = 0; i < codes.numel(); ++i) out[i] = std::ldexp(1.0f, -int(codes.data<uint8_t>()[i]));
}

}  // namespace

extern const OpDef kQLayerNorm{.kind = OpKind::QLayerNorm, .onnx_name = "QLayerNorm", .domain = "nnc", .min_inputs = 7,
                               .max_inputs = 7, .attrs = {AttrSpec{"epsilon", AttrType::Float, 1e-5f}},
                               .infer = infer_qlayernorm, .reference = reference_qlayernorm};
extern const OpDef kQSoftmax{.kind = OpKind::QSoftmax, .onnx_name = "QSoftmax", .domain = "nnc", .min_inputs = 3,
                             .max_inputs = 5,
                             .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{-1}},
                                       AttrSpec{"output", AttrType::String, std::string("uniform")},
                                       AttrSpec{"bits", AttrType::Int, int64_t{4}}},
                             .infer = infer_qsoftmax, .reference = reference_qsoftmax};
extern const OpDef kLog2Dequantize{.kind = OpKind::Log2Dequantize, .onnx_name = "Log2Dequantize", .domain = "nnc",
                                   .min_inputs = 1, .max_inputs = 1, .infer = infer_log2_dequantize,
                                   .reference = reference_log2_dequantize};

}  // namespace nnc
