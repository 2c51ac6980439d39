// backends/cpu/reduce_tactics.cpp — reduce.rows: ReduceSum, ReduceMean, ReduceMax and ReduceMin
// on f32 when the reduced axes are the innermost ones (a global average pool over H, W; a
// transformer's mean over the channels), so each output element is one contiguous row. Rows are
// summed in chunks with the vectorised row reductions (row_math.h) and the chunks in double, as
// the reference kernel accumulates in double.
#include <algorithm>

#include "backends/cpu/row_math.h"
#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"

namespace nnc::cpu {
namespace {

constexpr int64_t kChunk = 4096;

class ReduceRowsKernel final : public NodeKernel {
 public:
  explicit ReduceRowsKernel(int64_t row) : row_(row) {}
  std::string_view tactic() const override { return "reduce.rows"; }
  void run(KernelContext& k) const override {
    const float* x = k.in(0).data<float>();
    float* y = k.out(0).data<float>();
    const int64_t n = row_;
    const OpKind op = k.node.op;
    parallel_for(k.out(0).numel(), [&](int, int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        const float* in = x + r * n;
        if (op == OpKind::ReduceMax || op == OpKind::ReduceMin) {
          float m = in[0];
          for (int64_t at = 0; at < n; at += kChunk) {
            const int64_t len = std::min(kChunk, n - at);
            m = op == OpKind::ReduceMax ? std::max(m, row_max(in + at, len)) : std::min(m, row_min(in + at, len));
          }
          y[r] = m;
          continue;
        }
        double sum = 0;
        for (int64_t at = 0; at < n; at += kChunk) sum += row_sum(in + at, std::min(kChunk, n - at));
        y[r] = float(op == OpKind::ReduceMean ? sum / double(n) : sum);
      }
    }, std::max<int64_t>(1, 16384 / n));
  }

 private:
  int64_t row_;
};

// Elements per reduced row, or 0 when the reduced axes are not an innermost block.
int64_t reduced_row(const Graph& g, const Node& node) {
  const Dims dims = g.type(node.inputs[0]).shape.concrete();
  const int rank = int(dims.size());
  std::vector<bool> reduced(size_t(rank), false);
  if (node.has_input(1)) {
    const Tensor* axes = constant_input(g, node, 1);
    if (!axes) return 0;
    for (int64_t a : axes->to_int_vector()) {
      if (a < -rank || a >= rank) return 0;
      reduced[size_t(a < 0 ? a + rank : a)] = true;
    }
  }
  const bool none_listed = std::none_of(reduced.begin(), reduced.end(), [](bool b) { return b; });
  if (none_listed) {
    if (attr_int(node, "noop_with_empty_axes")) return 0;
    std::fill(reduced.begin(), reduced.end(), true);
  }
  int first = rank;
  while (first > 0 && reduced[size_t(first - 1)]) --first;
  for (int d = 0; d < first; ++d)
    if (reduced[size_t(d)]) return 0;  // a reduced axis before a kept one
  int64_t row = 1;
  for (int d = first; d < rank; ++d) row *= dims[size_t(d)];
  return row;
}

std::string reduce_rejects(const Graph& g, const Node& node) {
  const TensorType& x = g.type(node.inputs[0]);
  if (x.dtype != DType::F32 || !x.shape.fully_known() || x.rank() == 0) return "not f32 with a known shape";
  if (product(x.shape.concrete()) == 0) return "empty";
  if (reduced_row(g, node) == 0) return "the reduced axes are not the innermost (or not constant)";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_reduce(const Graph& g, const Node& node) {
  return std::make_shared<ReduceRowsKernel>(reduced_row(g, node));
}

}  // namespace

extern const Tactic kReduceSumRows{"reduce.rows", OpKind::ReduceSum, reduce_rejects, prepare_reduce};
extern const Tactic kReduceMeanRows{"reduce.rows", OpKind::ReduceMean, reduce_rejects, prepare_reduce};
extern const Tactic kReduceMaxRows{"reduce.rows", OpKind::ReduceMax, reduce_rejects, prepare_reduce};
extern const Tactic kReduceMinRows{"reduce.rows", OpKind::ReduceMin, reduce_rejects, prepare_reduce};

}  // namespace nnc::cpu
