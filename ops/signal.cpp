// ops/signal.cpp — spectral ops of ONNX opset 17: DFT, STFT, the Hann, Hamming and Blackman
// windows, and MelWeightMatrix. https://onnx.ai/onnx/operators/onnx__DFT.html (STFT, ...)
//
// Complex tensors are real tensors with a trailing dim of 2 (real, imaginary); a trailing dim of
// 1 means a real signal. DFT transforms along `axis` (opset 17: an attribute, default 1, never
// the trailing dim) with length dft_length (input 1; the signal is cut or zero-padded to it):
//   X[k] = sum_n x[n] exp(-2 pi i k n / L), inverse: x[n] = 1/L sum_k X[k] exp(+2 pi i k n / L)
// onesided=1 keeps bins 0..L/2, the rest being conjugates of those for a real signal. STFT cuts
// the signal [batch, length, 1|2] into frames of frame_length every frame_step samples, weights
// each by `window` and transforms it: [batch, frames, bins, 2].
//
// The kernels are direct O(L^2) sums over a twiddle table (exact for every L, not only powers of
// two); signal processing models are small next to their convolutions.
//
// Windows of length N (periodic: the denominator is N, symmetric: N-1):
//   Hann 0.5 - 0.5 cos(2 pi n/N)   Hamming 25/46 - 21/46 cos(2 pi n/N)
//   Blackman 0.42 - 0.5 cos(2 pi n/N) + 0.08 cos(4 pi n/N)
// MelWeightMatrix follows the spec's algorithm: num_mel_bins + 2 points on the mel scale
// (2595 log10(1 + f/700)) from the lower edge in steps of (upper - lower) / (num_mel_bins + 2)
// (so, as in ONNX's reference and onnxruntime, the last point falls short of the upper edge),
// mapped to DFT bins floor((L+1) f / rate), and a triangle per mel bin rising from its left
// point to its centre and falling to its right.
#include <cmath>
#include <complex>
#include <numbers>

#include "ops/op_def.h"

namespace nnc {
namespace {

using Complex = std::complex<double>;

// The ONNX TensorProto data type in `output_datatype` as an nnc dtype (numbers only).
DType output_dtype(const Node& n) {
  const int64_t type = attr_int(n, "output_datatype");
  const std::optional<DType> dtype = dtype_from_onnx_code(type);
  if (!dtype || *dtype == DType::Bool) node_error(n, "output_datatype is {}, which is not an ONNX numeric data type", type);
  return *dtype;
}

// A scalar (or one-element) integer input's value.
int64_t scalar_int(const Node& n, const Tensor& t, std::string_view what) {
  if (!is_integer(t.dtype())) node_error(n, "{} has type {}; it must be an integer", what, dtype_name(t.dtype()));
  if (t.numel() != 1) node_error(n, "{} must hold one value, got {}", what, t.numel());
  return t.get_int(0);
}

std::optional<int64_t> known_int(InferContext& c, int input, std::string_view what) {
  if (const Tensor* t = c.value(input)) return scalar_int(c.node, *t, what);
  return std::nullopt;
}

// exp(-2 pi i m / L) for m in [0, L): the factor for k*n is table[(k*n) mod L].
std::vector<Complex> twiddles(int64_t length, bool inverse) {
  std::vector<Complex> table(static_cast<size_t>(length));
  const double sign = inverse ? 1.0 : -1.0;
  for (int64_t m = 0; m < length; ++m)
    table[size_t(m)] = std::polar(1.0, sign * 2 * std::numbers::pi * double(m) / double(length));
  return table;
}

// out[k] for k < out.size() from the first min(x.size(), L) samples of x (zero-padded to L).
void dft(std::span<const Complex> x, int64_t length, bool inverse, std::span<const Complex> table,
         std::span<Complex> out) {
  const int64_t used = std::min<int64_t>(int64_t(x.size()), length);
  const double scale = inverse ? 1.0 / double(length) : 1.0;
  for (size_t k = 0; k < out.size(); ++k) {
    Complex sum = 0;
    int64_t m = 0;  // (k * n) mod length, stepped without overflow
    for (int64_t n = 0; n < used; ++n, m = (m + int64_t(k)) % length) sum += x[size_t(n)] * table[size_t(m)];
    out[k] = sum * scale;
  }
}

// Reads element `at` of a [..., 1|2] tensor's data as a complex number.
Complex complex_at(const std::vector<double>& data, int64_t at, int64_t components) {
  return components == 2 ? Complex(data[size_t(2 * at)], data[size_t(2 * at + 1)]) : Complex(data[size_t(at)], 0);
}

void store(Tensor& t, const std::vector<double>& values) {
  visit_dtype(t.dtype(), [&]<typename T>() {
    T* out = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) out[i] = from_double<T>(values[i]);
  });
}

// --- DFT ---------------------------------------------------------------------------------------

struct DftAxis {
  int axis;
  Dim length, out_length;  // transform length L and output bins
};

DftAxis dft_axis(InferContext& c) {
  const Node& n = c.node;
  const Shape& x = c.in(0).shape;
  const int axis = normalize_axis(n, attr_int(n, "axis"), x.rank());
  if (axis == x.rank() - 1)
    node_error(n, "axis {} is the trailing (real, imaginary) dim; DFT needs another axis", attr_int(n, "axis"));
  Dim length = x.dims[size_t(axis)];
  if (c.has_input(1)) {
    const std::optional<int64_t> given = known_int(c, 1, "input 1 (dft_length)");
    if (given && *given <= 0) node_error(n, "dft_length is {}; it must be positive", *given);
    length = given ? Dim(*given) : Dim();
  }
  const bool onesided = attr_int(n, "onesided") != 0;
  return {axis, length, onesided ? (length.known() ? Dim(length.value / 2 + 1) : Dim()) : length};
}

std::vector<TensorType> infer_dft(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  if (!is_float(x.dtype)) node_error(n, "input 0 has type {}; DFT takes float types", dtype_name(x.dtype));
  if (!x.shape.rank_known) return {{x.dtype, Shape::unknown_rank()}};
  if (x.rank() < 2) node_error(n, "input 0 has rank {}; it must be at least 2 ([..., 1|2])", x.rank());
  const Dim& components = x.shape.dims.back();
  if (components.known() && components.value != 1 && components.value != 2)
    node_error(n, "input 0's last dim is {}; it must be 1 (real) or 2 (complex)", components.value);
  if (attr_int(n, "onesided") && components.known() && components.value == 2)
    node_error(n, "onesided=1 needs a real input, but the last dim is 2 (complex)");
  const DftAxis a = dft_axis(c);
  Shape out = x.shape;
  out.dims[size_t(a.axis)] = a.out_length;
  out.dims.back() = Dim(2);
  return {{x.dtype, out}};
}

void reference_dft(KernelContext& k) {
  const Node& n = k.node;
  const Tensor& x = k.in(0);
  const Dims& d = x.dims();
  const int axis = normalize_axis(n, attr_int(n, "axis"), x.rank());
  const int64_t in_length = d[size_t(axis)], components = d.back();
  const int64_t length = k.has_input(1) ? scalar_int(n, k.in(1), "input 1 (dft_length)") : in_length;
  const int64_t out_length = k.out(0).dims()[size_t(axis)];
  const int64_t outer = product(std::span(d).first(size_t(axis)));
  const int64_t inner = product(std::span(d).subspan(size_t(axis) + 1, d.size() - size_t(axis) - 2));
  const bool inverse = attr_int(n, "inverse") != 0;
  const std::vector<Complex> table = twiddles(length, inverse);
  const std::vector<double> in = x.to_double_vector();
  std::vector<double> out(size_t(k.out(0).numel()));
  std::vector<Complex> lane(static_cast<size_t>(in_length)), bins(static_cast<size_t>(out_length));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t j = 0; j < in_length; ++j) lane[size_t(j)] = complex_at(in, (o * in_length + j) * inner + i, components);
      dft(lane, length, inverse, table, bins);
      for (int64_t j = 0; j < out_length; ++j) {
        const int64_t at = (o * out_length + j) * inner + i;
        out[size_t(2 * at)] = bins[size_t(j)].real();
        out[size_t(2 * at + 1)] = bins[size_t(j)].imag();
      }
    }
  store(k.out(0), out);
}

// --- STFT --------------------------------------------------------------------------------------

// Frame length from the frame_length input, else the window's length; nullopt if unknown.
std::optional<int64_t> frame_length_of(InferContext& c) {
  const Node& n = c.node;
  std::optional<int64_t> from_window;
  if (c.has_input(2)) {
    const Shape& w = c.in(2).shape;
    if (w.rank_known && w.rank() != 1) node_error(n, "input 2 (window) has rank {}; it must be 1", w.rank());
    if (w.rank_known && w.dims[0].known()) from_window = w.dims[0].value;
  }
  if (!c.has_input(3)) {
    if (!c.has_input(2)) node_error(n, "STFT needs a window (input 2) or a frame_length (input 3)");
    return from_window;
  }
  const std::optional<int64_t> given = known_int(c, 3, "input 3 (frame_length)");
  if (given && *given <= 0) node_error(n, "frame_length is {}; it must be positive", *given);
  if (given && from_window && *given != *from_window)
    node_error(n, "frame_length is {} but the window has {} elements", *given, *from_window);
  return given ? given : from_window;
}

std::vector<TensorType> infer_stft(InferContext& c) {
  const Node& n = c.node;
  const TensorType& signal = c.in(0);
  if (!is_float(signal.dtype)) node_error(n, "input 0 has type {}; STFT takes float types", dtype_name(signal.dtype));
  if (c.has_input(2) && c.in(2).dtype != signal.dtype)
    node_error(n, "input 2 (window) has type {} but the signal is {}", dtype_name(c.in(2).dtype), dtype_name(signal.dtype));
  const Shape& s = signal.shape;
  if (s.rank_known && s.rank() != 3) node_error(n, "input 0 has rank {}; it must be 3 ([batch, length, 1|2])", s.rank());
  if (s.rank_known && s.dims[2].known() && s.dims[2].value != 1 && s.dims[2].value != 2)
    node_error(n, "input 0's last dim is {}; it must be 1 (real) or 2 (complex)", s.dims[2].value);
  const bool onesided = attr_int(n, "onesided") != 0;
  if (onesided && s.rank_known && s.dims[2] == Dim(2))
    node_error(n, "onesided=1 needs a real signal, but the last dim is 2 (complex)");
  const std::optional<int64_t> step = known_int(c, 1, "input 1 (frame_step)");
  if (step && *step <= 0) node_error(n, "frame_step is {}; it must be positive", *step);
  const std::optional<int64_t> frame = frame_length_of(c);
  Dim frames, bins;
  if (frame) bins = onesided ? *frame / 2 + 1 : *frame;
  if (frame && step && s.rank_known && s.dims[1].known()) {
    const int64_t length = s.dims[1].value;
    if (length < *frame) node_error(n, "the signal has {} samples, fewer than one frame of {}", length, *frame);
    frames = (length - *frame) / *step + 1;
  }
  return {{signal.dtype, Shape(std::vector<Dim>{s.rank_known ? s.dims[0] : Dim(), frames, bins, Dim(2)})}};
}

void reference_stft(KernelContext& k) {
  const Node& n = k.node;
  const Tensor& signal = k.in(0);
  const int64_t batch = signal.dims()[0], length = signal.dims()[1], components = signal.dims()[2];
  const int64_t step = scalar_int(n, k.in(1), "input 1 (frame_step)");
  const Dims& out_dims = k.out(0).dims();
  const int64_t frames = out_dims[1], bins = out_dims[2];
  const int64_t frame = k.has_input(3) ? scalar_int(n, k.in(3), "input 3 (frame_length)") : k.in(2).numel();
  const std::vector<double> window = k.has_input(2) ? k.in(2).to_double_vector() : std::vector<double>(size_t(frame), 1.0);
  const std::vector<Complex> table = twiddles(frame, false);
  const std::vector<double> in = signal.to_double_vector();
  std::vector<double> out(size_t(k.out(0).numel()));
  std::vector<Complex> samples(static_cast<size_t>(frame)), spectrum(static_cast<size_t>(bins));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t f = 0; f < frames; ++f) {
      for (int64_t j = 0; j < frame; ++j)
        samples[size_t(j)] = complex_at(in, b * length + f * step + j, components) * window[size_t(j)];
      dft(samples, frame, false, table, spectrum);
      for (int64_t j = 0; j < bins; ++j) {
        const int64_t at = (b * frames + f) * bins + j;
        out[size_t(2 * at)] = spectrum[size_t(j)].real();
        out[size_t(2 * at + 1)] = spectrum[size_t(j)].imag();
      }
    }
  store(k.out(0), out);
}

// --- windows -----------------------------------------------------------------------------------

std::vector<TensorType> infer_window(InferContext& c) {
  if (!is_integer(c.in(0).dtype))
    node_error(c.node, "input 0 (size) has type {}; it must be an integer", dtype_name(c.in(0).dtype));
  const std::optional<int64_t> size = known_int(c, 0, "input 0 (size)");
  if (size && *size < 0) node_error(c.node, "size is {}; it must not be negative", *size);
  return {{output_dtype(c.node), Shape(std::vector<Dim>{size ? Dim(*size) : Dim()})}};
}

// Cosine-sum window a0 - a1 cos(x) + a2 cos(2x), x = 2 pi n / N.
void reference_window(KernelContext& k) {
  const Node& n = k.node;
  const int64_t size = k.out(0).numel();
  const double a0 = n.op == OpKind::HannWindow ? 0.5 : n.op == OpKind::HammingWindow ? 25.0 / 46 : 0.42;
  const double a1 = n.op == OpKind::HannWindow ? 0.5 : n.op == OpKind::HammingWindow ? 21.0 / 46 : 0.5;
  const double a2 = n.op == OpKind::BlackmanWindow ? 0.08 : 0.0;
  const int64_t denominator = attr_int(n, "periodic") ? size : size - 1;
  std::vector<double> w(static_cast<size_t>(size), 1.0);  // a one-sample window is [1]
  if (denominator > 0)
    for (int64_t i = 0; i < size; ++i) {
      const double x = 2 * std::numbers::pi * double(i) / double(denominator);
      w[size_t(i)] = a0 - a1 * std::cos(x) + a2 * std::cos(2 * x);
    }
  store(k.out(0), w);
}

OpDef window_op(OpKind kind, std::string_view onnx_name) {
  return OpDef{.kind = kind,
               .onnx_name = onnx_name,
               .attrs = {AttrSpec{"output_datatype", AttrType::Int, int64_t{1}},
                         AttrSpec{"periodic", AttrType::Int, int64_t{1}}},
               .infer = infer_window,
               .reference = reference_window,
               .since_opset = 17};
}

// --- MelWeightMatrix ---------------------------------------------------------------------------

std::vector<TensorType> infer_mel(InferContext& c) {
  const Node& n = c.node;
  for (int i : {0, 1, 2})
    if (!is_integer(c.in(i).dtype)) node_error(n, "input {} has type {}; it must be an integer", i, dtype_name(c.in(i).dtype));
  for (int i : {3, 4})
    if (!is_float(c.in(i).dtype)) node_error(n, "input {} has type {}; it must be a float type", i, dtype_name(c.in(i).dtype));
  const std::optional<int64_t> mel_bins = known_int(c, 0, "input 0 (num_mel_bins)");
  const std::optional<int64_t> dft_length = known_int(c, 1, "input 1 (dft_length)");
  if (mel_bins && *mel_bins <= 0) node_error(n, "num_mel_bins is {}; it must be positive", *mel_bins);
  if (dft_length && *dft_length <= 0) node_error(n, "dft_length is {}; it must be positive", *dft_length);
  return {{output_dtype(n), Shape(std::vector<Dim>{dft_length ? Dim(*dft_length / 2 + 1) : Dim(),
                                                   mel_bins ? Dim(*mel_bins) : Dim()})}};
}

void reference_mel(KernelContext& k) {
  const Node& n = k.node;
  const int64_t mel_bins = k.out(0).dims()[1], spectrum_bins = k.out(0).dims()[0];
  const int64_t dft_length = scalar_int(n, k.in(1), "input 1 (dft_length)");
  const int64_t rate = scalar_int(n, k.in(2), "input 2 (sample_rate)");
  if (rate <= 0) node_error(n, "sample_rate is {}; it must be positive", rate);
  for (int i : {3, 4})
    if (k.in(i).numel() != 1) node_error(n, "input {} must hold one value, got {}", i, k.in(i).numel());
  const double lower = k.in(3).get_double(0), upper = k.in(4).get_double(0);
  if (!(lower >= 0 && lower <= upper))
    node_error(n, "the edges are {} Hz and {} Hz; they must satisfy 0 <= lower <= upper", lower, upper);
  auto to_mel = [](double hz) { return 2595 * std::log10(1 + hz / 700); };
  const double mel_low = to_mel(lower), mel_step = (to_mel(upper) - mel_low) / double(mel_bins + 2);
  std::vector<int64_t> point(static_cast<size_t>(mel_bins + 2));  // DFT bin of each mel point
  for (int64_t i = 0; i < mel_bins + 2; ++i) {
    const double hz = 700 * (std::pow(10, (double(i) * mel_step + mel_low) / 2595) - 1);
    point[size_t(i)] = int64_t(std::floor(double(dft_length + 1) * hz / double(rate)));
  }
  std::vector<double> w(size_t(k.out(0).numel()), 0.0);
  auto set = [&](int64_t bin, int64_t mel, double value) {  // bins past Nyquist have no row
    if (bin >= 0 && bin < spectrum_bins) w[size_t(bin * mel_bins + mel)] = value;
  };
  for (int64_t m = 0; m < mel_bins; ++m) {
    const int64_t left = point[size_t(m)], centre = point[size_t(m + 1)], right = point[size_t(m + 2)];
    if (centre == left) set(centre, m, 1.0);
    for (int64_t j = left; centre > left && j <= centre; ++j) set(j, m, double(j - left) / double(centre - left));
    for (int64_t j = centre; j < right; ++j) set(j, m, double(right - j) / double(right - centre));
  }
  store(k.out(0), w);
}

}  // namespace

extern const OpDef kDFT{.kind = OpKind::DFT,
                        .onnx_name = "DFT",
                        .min_inputs = 1,
                        .max_inputs = 2,
                        .attrs = {AttrSpec{"axis", AttrType::Int, int64_t{1}},
                                  AttrSpec{"inverse", AttrType::Int, int64_t{0}},
                                  AttrSpec{"onesided", AttrType::Int, int64_t{0}}},
                        .infer = infer_dft,
                        .reference = reference_dft,
                        .since_opset = 17};

extern const OpDef kSTFT{.kind = OpKind::STFT,
                         .onnx_name = "STFT",
                         .min_inputs = 2,
                         .max_inputs = 4,
                         .attrs = {AttrSpec{"onesided", AttrType::Int, int64_t{1}}},
                         .infer = infer_stft,
                         .reference = reference_stft,
                         .since_opset = 17};

extern const OpDef kHannWindow = window_op(OpKind::HannWindow, "HannWindow");
extern const OpDef kHammingWindow = window_op(OpKind::HammingWindow, "HammingWindow");
extern const OpDef kBlackmanWindow = window_op(OpKind::BlackmanWindow, "BlackmanWindow");

extern const OpDef kMelWeightMatrix{.kind = OpKind::MelWeightMatrix,
                                    .onnx_name = "MelWeightMatrix",
                                    .min_inputs = 5,
                                    .max_inputs = 5,
                                    .attrs = {AttrSpec{"output_datatype", AttrType::Int, int64_t{1}}},
                                    .infer = infer_mel,
                                    .reference = reference_mel,
                                    .since_opset = 17};

}  // namespace nnc
