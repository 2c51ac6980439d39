// backends/cpu/qmatmul_tactic.cpp — QLinearMatMul and MatMulInteger with a constant s8 B on the
// u8 x s8 GEMM of backends/cpu/int8_gemm.h (VNNI where the CPU has it):
//
//   C[n, r] = Σ_k B[k, n] · A[r, k]     the GEMM's weights are Bᵀ (one row per output column n),
//                                       its columns are A's rows r, 32 at a time
//
// A row of A is contiguous in k, so a group of 4 k for 32 rows is packed by copying 4 bytes per
// row (s8 rows flipped to u8, as the GEMM wants). A's zero point comes off through the weights'
// row sums: Σ_k B·(A − a_zero) = C − a_zero · Σ_k B. QLinearMatMul then requantizes each
// finished tile exactly as the reference kernel does (double arithmetic, round half to even),
// MatMulInteger writes the int32 sums; both are bit-identical to the reference. B's zero point
// must be 0 (symmetric weights, as ONNX Runtime's quantizer writes s8 weights).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "backends/cpu/int8_gemm.h"
#include "backends/cpu/tactic.h"
#include "ops/requantize.h"

namespace nnc::cpu {
namespace {

// Inputs: QLinearMatMul a=0, a_zero=2, b=3, b_zero=5; MatMulInteger a=0, b=1, a_zero=2, b_zero=3.
int b_input(const Node& n) { return n.op == OpKind::QLinearMatMul ? 3 : 1; }
int b_zero_input(const Node& n) { return n.op == OpKind::QLinearMatMul ? 5 : 3; }

std::string qmatmul_rejects(const Graph& graph, const Node& node) {
  const TensorType& a = graph.type(node.inputs[0]);
  const TensorType& y = graph.type(node.outputs[0]);
  if (!a.shape.fully_known() || a.rank() < 2 || !y.shape.fully_known()) return "A is not a matrix of known shape";
  if (!is_8bit(a.dtype)) return "A is not 8-bit";
  if (node.has_attr("a_encoding")) return "A holds log2 codes";
  const Tensor* b = constant_input(graph, node, b_input(node));
  if (!b || b->dtype() != DType::I8 || b->rank() != 2) return "B is not a constant 2-D i8 matrix";
  if (node.has_input(b_zero_input(node))) {
    const Tensor* zero = constant_input(graph, node, b_zero_input(node));
    if (!zero) return "B's zero point is not constant";
    for (int64_t i = 0; i < zero->numel(); ++i)
      if (zero->get_int(i) != 0) return "B is not symmetric (zero point not 0)";
  }
  if (node.has_input(2) && (!graph.type(node.inputs[2]).shape.fully_known() ||
                            product(graph.type(node.inputs[2]).shape.concrete()) != 1))
    return "A's zero point is not one value";
  if (node.op == OpKind::QLinearMatMul) {
    if (!is_8bit(y.dtype)) return "Y is not 8-bit";
    for (int input : {1, 4, 6, 7})
      if (!constant_input(graph, node, input)) return fmt::format("input {} is not constant", input);
    if (node.has_input(8) && !constant_input(graph, node, 8)) return "the bias is not constant";
    if (!constant_input(graph, node, 2)) return "A's zero point is not constant";
    const int64_t scales = constant_input(graph, node, 4)->numel();
    if (scales != 1 && scales != b->dims()[1]) return "B's scale is neither per tensor nor per column";
    for (int input : {1, 6, 7})
      if (constant_input(graph, node, input)->numel() != 1) return "a scale or zero point of A or Y is not one value";
  } else if (y.dtype != DType::I32) {
    return "Y is not int32";
  }
  if (b->dims()[0] > (int64_t{1} << 16)) return "depth too large for int32 accumulation";
  return "";
}

// Tiles of 32 rows of A, packed per group of 4 k.
class RowsSource final : public Int8PanelSource {
 public:
  RowsSource(const uint8_t* a, int64_t depth, bool flip, uint8_t pad) : a_(a), depth_(depth), flip_(flip), pad_(pad) {
    for (int64_t k = 0; k < (depth + 3) / 4; ++k) offsets_.push_back(k * kInt8Nr * 4);
  }
  const uint8_t* panel(const Int8Tile& tile, uint8_t* scratch, const int64_t*& offsets) const override {
    const uint8_t flip = flip_ ? 0x80 : 0;
    for (size_t k4 = 0; k4 < offsets_.size(); ++k4) {
      uint8_t* dst = scratch + k4 * kInt8Nr * 4;
      const int64_t k = int64_t(k4) * 4, valid = std::min<int64_t>(4, depth_ - k);
      for (int64_t j = 0; j < tile.width; ++j) {
        const uint8_t* row = a_ + (tile.n0 + j) * depth_ + k;
        for (int64_t e = 0; e < 4; ++e) dst[j * 4 + e] = e < valid ? uint8_t(row[e] ^ flip) : pad_;
      }
    }
    offsets = offsets_.data();
    return scratch;
  }

 private:
  const uint8_t* a_;
  int64_t depth_;
  bool flip_;
  uint8_t pad_;
  std::vector<int64_t> offsets_;
};

class QMatMulKernel final : public NodeKernel {
 public:
  QMatMulKernel(const Graph& graph, const Node& node) : integer_output_(node.op == OpKind::MatMulInteger) {
    const Tensor& b = *constant_input(graph, node, b_input(node));
    depth_ = b.dims()[0];
    columns_ = b.dims()[1];
    std::vector<int8_t> transposed(size_t(columns_ * depth_));
    for (int64_t k = 0; k < depth_; ++k)
      for (int64_t n = 0; n < columns_; ++n) transposed[size_t(n * depth_ + k)] = b.data<int8_t>()[k * columns_ + n];
    weights_ = pack_int8_weights(transposed.data(), columns_, depth_);
    flip_ = graph.type(node.inputs[0]).dtype == DType::I8;
    if (!integer_output_) {
      const double a_scale = constant_input(graph, node, 1)->get_double(0);
      // a_scale · b_scale per column, once (the reference forms the same product per element).
      const Tensor& b_scale = *constant_input(graph, node, 4);
      for (int64_t i = 0; i < b_scale.numel(); ++i) scales_.push_back(a_scale * b_scale.get_double(i));
      y_scale_ = constant_input(graph, node, 6)->get_double(0);
      y_zero_ = double(constant_input(graph, node, 7)->get_int(0));
      y_signed_ = graph.type(node.outputs[0]).dtype == DType::I8;
      if (node.has_input(8)) {
        const Tensor& bias = *constant_input(graph, node, 8);
        for (int64_t n = 0; n < columns_; ++n) bias_.push_back(bias.get_int(bias.numel() == 1 ? 0 : n));
      }
    }
  }

  std::string_view tactic() const override { return integer_output_ ? "matmul-integer.vnni-gemm" : "qmatmul.vnni-gemm"; }
  int64_t held_bytes() const override { return weights_.bytes(); }

  void run(KernelContext& k) const override {
    const Tensor& a = k.in(0);
    const int64_t rows = a.numel() / depth_;
    const int32_t a_zero_raw = k.has_input(2) ? int32_t(k.in(2).get_int(0)) : 0;
    const int32_t a_zero = a_zero_raw + (flip_ ? 128 : 0);  // in the flipped (u8) domain
    const uint8_t pad = uint8_t(a_zero);
    std::vector<Int8Tile> tiles;
    for (int64_t r0 = 0; r0 < rows; r0 += kInt8Nr) tiles.push_back({r0, std::min(kInt8Nr, rows - r0)});
    const RowsSource source(reinterpret_cast<const uint8_t*>(a.bytes()), depth_, flip_, pad);
    Tensor& y = k.out(0);
    const double low = y_signed_ ? -128 : 0, high = y_signed_ ? 127 : 255;
    int8_gemm(weights_, tiles, source, [&](int64_t m0, int64_t count, int64_t r0, int64_t width, const int32_t* tile) {
      for (int64_t i = 0; i < count; ++i) {
        const int64_t n = m0 + i;
        const int64_t shift = int64_t(a_zero) * weights_.row_sums[size_t(n)];
        for (int64_t j = 0; j < width; ++j) {
          const int32_t acc = int32_t(tile[i * kInt8Nr + j] - shift);  // Σ B·(A − a_zero): fits in int32
          const int64_t at = (r0 + j) * columns_ + n;
          if (integer_output_) {
            y.data<int32_t>()[at] = acc;
            continue;
          }
          const double scale = scales_[scales_.size() == 1 ? 0 : size_t(n)];
          const int64_t biased = bias_.empty() ? int64_t(acc) : int64_t(acc) + bias_[size_t(n)];
          const double q = requantize_linear(double(biased), scale, y_scale_, y_zero_, low, high);
          if (y_signed_) y.data<int8_t>()[at] = int8_t(q);
          else y.data<uint8_t>()[at] = uint8_t(q);
        }
      }
    });
  }

 private:
  bool integer_output_;
  Int8PackedWeights weights_;
  int64_t depth_ = 0, columns_ = 0;
  bool flip_ = false, y_signed_ = false;
  double y_scale_ = 1, y_zero_ = 0;
  std::vector<double> scales_;  // a_scale · b_scale, per column or one
  std::vector<int64_t> bias_;   // QLinearMatMul's input 8, per column; empty when absent
};

std::shared_ptr<const NodeKernel> prepare(const Graph& graph, const Node& node) {
  return std::make_shared<QMatMulKernel>(graph, node);
}

}  // namespace

extern const Tactic kQMatMulVnniGemm{"qmatmul.vnni-gemm", OpKind::QLinearMatMul, qmatmul_rejects, prepare};
extern const Tactic kMatMulIntegerVnniGemm{"matmul-integer.vnni-gemm", OpKind::MatMulInteger, qmatmul_rejects, prepare};

}  // namespace nnc::cpu
