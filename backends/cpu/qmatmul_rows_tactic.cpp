// backends/cpu/qmatmul_rows_tactic.cpp — qmatmul.rows: QLinearMatMul whose B is computed at run
// time (attention's Q·Kᵀ and P·V), one row of the output at a time:
//
//   acc[r, :] = bias + Σ_k (A[r, k] − a_zero) · (B[k, :] − b_zero)
//
// B is centred once per run (int16); each k is then one vectorised multiply-add of a row of B
// into int32 accumulators. With a_encoding="log2" (FQ-ViT's log-int-softmax codes) A[r, k] stands
// for 2^−code and the term is B's row shifted right: accumulated as B << (31 − code) in int64, as
// the reference does. Requantization is ops/requantize.h's requantize_linear, as the reference's.
// The GEMM tactic (qmatmul.vnni-gemm) serves a constant B.
#include <algorithm>
#include <cmath>

#include "backends/cpu/row_math.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"
#include "ops/requantize.h"

namespace nnc::cpu {
namespace {

__attribute__((target_clones("avx512f", "avx2", "default")))
void shift_add_i16(int64_t* __restrict out, const int16_t* __restrict b, int shift, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] += int64_t(b[i]) * (int64_t(1) << shift);
}

std::vector<int16_t> centred(const Tensor& t, const std::vector<int32_t>& zero_per_column) {
  const int64_t columns = int64_t(zero_per_column.size());
  std::vector<int16_t> out(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int32_t v = t.dtype() == DType::U8 ? int32_t(t.data<uint8_t>()[i]) : int32_t(t.data<int8_t>()[i]);
    out[size_t(i)] = int16_t(v - zero_per_column[size_t(i % columns)]);
  }
  return out;
}

class QMatMulRowsKernel final : public NodeKernel {
 public:
  // Scales, zero points and the bias are constants (qmatmul_rows_rejects): read once.
  QMatMulRowsKernel(const Graph& graph, const Node& node)
      : log2_(node.has_attr("a_encoding") && attr_string(node, "a_encoding") == "log2"),
        a_zero_(int32_t(constant_input(graph, node, 2)->get_int(0))),
        y_scale_(constant_input(graph, node, 6)->get_double(0)),
        y_zero_(double(constant_input(graph, node, 7)->get_int(0))),
        y_signed_(graph.type(node.outputs[0]).dtype == DType::I8) {
    const int64_t columns = graph.type(node.inputs[3]).shape.dims.back().value;
    const Tensor& b_zero = *constant_input(graph, node, 5);
    const Tensor& b_scale = *constant_input(graph, node, 4);
    const Tensor* bias = node.has_input(8) ? constant_input(graph, node, 8) : nullptr;
    // A log2 code c stands for 2^(31−c) · 2^−31 (the reference's integers).
    const double a_scale = log2_ ? std::ldexp(constant_input(graph, node, 1)->get_double(0), -31)
                                 : constant_input(graph, node, 1)->get_double(0);
    for (int64_t n = 0; n < columns; ++n) {
      b_zero_.push_back(int32_t(b_zero.get_int(b_zero.numel() == 1 ? 0 : n)));
      scales_.push_back(a_scale * b_scale.get_double(b_scale.numel() == 1 ? 0 : n));
      bias_.push_back(bias ? bias->get_int(bias->numel() == 1 ? 0 : n) : 0);
    }
  }
  std::string_view tactic() const override { return "qmatmul.rows"; }

  void run(KernelContext& k) const override {
    const Tensor& a = k.in(0);
    const Tensor& b = k.in(3);
    Tensor& y = k.out(0);
    const Dims& ad = a.dims();
    const Dims& bd = b.dims();
    const int64_t M = ad[ad.size() - 2], K = ad.back(), N = bd.back();
    const Dims batch_a(ad.begin(), ad.end() - 2), batch_b(bd.begin(), bd.end() - 2);
    Dims batch = y.dims();
    batch.resize(batch.size() - 2);
    const int64_t batches = product(batch);
    const std::vector<int16_t> b_centred = centred(b, b_zero_);
    const double low = y_signed_ ? -128 : 0, high = y_signed_ ? 127 : 255;

    parallel_for(batches * M, [&](int, int64_t begin, int64_t end) {
      std::vector<int32_t> acc32(static_cast<size_t>(N));
      std::vector<int64_t> acc64(static_cast<size_t>(N));
      for (int64_t row = begin; row < end; ++row) {
        const int64_t i = row / M, r = row % M;
        const int64_t a_row = (broadcast_index(i, batch, batch_a) * M + r) * K;
        const int16_t* b_matrix = b_centred.data() + broadcast_index(i, batch, batch_b) * K * N;
        if (log2_) {
          std::copy(bias_.begin(), bias_.end(), acc64.begin());
          for (int64_t kk = 0; kk < K; ++kk) {
            const int code = a.data<uint8_t>()[a_row + kk];
            if (code <= 31) shift_add_i16(acc64.data(), b_matrix + kk * N, 31 - code, N);
          }
        } else {
          std::fill(acc32.begin(), acc32.end(), 0);
          for (int64_t kk = 0; kk < K; ++kk) {
            const int32_t value = a.dtype() == DType::U8 ? int32_t(a.data<uint8_t>()[a_row + kk]) : int32_t(a.data<int8_t>()[a_row + kk]);
            if (value != a_zero_) multiply_add_i16(acc32.data(), b_matrix + kk * N, value - a_zero_, N);
          }
          for (int64_t n = 0; n < N; ++n) acc64[size_t(n)] = int64_t(acc32[size_t(n)]) + bias_[size_t(n)];
        }
        const int64_t out = row * N;
        for (int64_t n = 0; n < N; ++n) {
          const double q = requantize_linear(double(acc64[size_t(n)]), scales_[size_t(n)], y_scale_, y_zero_, low, high);
          if (y_signed_) y.data<int8_t>()[out + n] = int8_t(q);
          else y.data<uint8_t>()[out + n] = uint8_t(q);
        }
      }
    });
  }

 private:
  bool log2_;
  int32_t a_zero_;
  double y_scale_, y_zero_;
  bool y_signed_;
  std::vector<int32_t> b_zero_;  // per column
  std::vector<double> scales_;   // a_scale · b_scale, per column
  std::vector<int64_t> bias_;    // per column (0 without one)
};

std::string qmatmul_rows_rejects(const Graph& graph, const Node& node) {
  const TensorType& a = graph.type(node.inputs[0]);
  const TensorType& b = graph.type(node.inputs[3]);
  const TensorType& y = graph.type(node.outputs[0]);
  if (!a.shape.fully_known() || !b.shape.fully_known() || !y.shape.fully_known() || a.rank() < 2 || b.rank() < 2)
    return "A and B are not matrices (or batches of them) of known shape";
  if (!is_8bit(a.dtype) || !is_8bit(b.dtype) || !is_8bit(y.dtype)) return "A, B or Y is not 8-bit";
  for (int input : {1, 2, 4, 5, 6, 7})
    if (!constant_input(graph, node, input)) return fmt::format("input {} is not constant", input);
  for (int input : {1, 2, 6, 7})
    if (constant_input(graph, node, input)->numel() != 1) return "a scale or zero point of A or Y is not one value";
  const int64_t columns = b.shape.dims.back().value;
  for (int input : {4, 5})
    if (const int64_t count = constant_input(graph, node, input)->numel(); count != 1 && count != columns)
      return "B's scale or zero point is neither per tensor nor per column";
  for (int64_t i = 0; i < constant_input(graph, node, 4)->numel(); ++i)
    if (!(constant_input(graph, node, 4)->get_double(i) > 0)) return "B's scale is not positive";
  if (!(constant_input(graph, node, 1)->get_double(0) > 0) || !(constant_input(graph, node, 6)->get_double(0) > 0))
    return "A's or Y's scale is not positive";
  if (node.has_input(8) && !constant_input(graph, node, 8)) return "the bias is not constant";
  // int32 holds 2^15 terms of at most 255·255 (the log2 form accumulates in int64: 2^31·255 per term).
  if (a.shape.dims.back().value > (int64_t{1} << 15)) return "depth too large for int32 accumulation";
  return "";
}

std::shared_ptr<const NodeKernel> prepare(const Graph& graph, const Node& node) {
  return std::make_shared<QMatMulRowsKernel>(graph, node);
}

}  // namespace

extern const Tactic kQMatMulRows{"qmatmul.rows", OpKind::QLinearMatMul, qmatmul_rows_rejects, prepare};

}  // namespace nnc::cpu
