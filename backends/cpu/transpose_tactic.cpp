// backends/cpu/transpose_tactic.cpp — transpose.blocked: Transpose of any element type and
// rank, by first collapsing the permutation to its essential axes (size-1 axes dropped, runs of
// output axes that are adjacent in the input merged: [B,H,W,C] -> [B,C,H,W] is a 2-D transpose
// of H·W x C per image), then either
//   - copying rows, when the innermost axis stays innermost (a head split: [B,N,H,D] ->
//     [B,H,N,D] moves rows of D), or
//   - transposing 16 x 16 tiles between the input axis that becomes innermost and the output
//     axis the input's innermost becomes, so both sides are read and written a cache line at a
//     time instead of one side striding across memory.
// The reference kernel computes every element's input index by division.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "backends/cpu/tactic.h"
#include "backends/cpu/thread_pool.h"

namespace nnc::cpu {
namespace {

constexpr int64_t kTile = 16;

struct Collapsed {
  Dims in_dims;           // input dims after merging
  std::vector<int> perm;  // output axis i is input axis perm[i]
};

Collapsed collapse(const Dims& dims, const std::vector<int64_t>& perm) {
  std::vector<std::vector<int64_t>> groups;  // per output axis group: its input axes, in order
  for (int64_t a : perm) {
    if (dims[size_t(a)] == 1) continue;
    if (!groups.empty() && groups.back().back() + 1 == a) {
      groups.back().push_back(a);
    } else {
      groups.push_back({a});
    }
  }
  std::vector<int> by_input(groups.size());  // group indices in input order
  std::iota(by_input.begin(), by_input.end(), 0);
  std::sort(by_input.begin(), by_input.end(), [&](int x, int y) { return groups[size_t(x)][0] < groups[size_t(y)][0]; });
  Collapsed c;
  c.perm.assign(groups.size(), 0);
  for (size_t k = 0; k < by_input.size(); ++k) {
    int64_t size = 1;
    for (int64_t a : groups[size_t(by_input[k])]) size *= dims[size_t(a)];
    c.in_dims.push_back(size);
    c.perm[size_t(by_input[k])] = int(k);
  }
  return c;
}

class TransposeKernel final : public NodeKernel {
 public:
  explicit TransposeKernel(Collapsed c) : c_(std::move(c)) {}
  std::string_view tactic() const override { return "transpose.blocked"; }

  void run(KernelContext& k) const override {
    switch (dtype_size(k.in(0).dtype())) {
      case 1: return run_typed<uint8_t>(k);
      case 2: return run_typed<uint16_t>(k);
      case 4: return run_typed<uint32_t>(k);
      default: return run_typed<uint64_t>(k);
    }
  }

 private:
  template <typename T>
  void run_typed(KernelContext& k) const {
    // Moved as words of the element's size, whatever the element type.
    const T* x = reinterpret_cast<const T*>(k.in(0).bytes());
    T* y = reinterpret_cast<T*>(k.out(0).bytes());
    const int rank = int(c_.in_dims.size());
    const int64_t numel = k.in(0).numel();
    bool identity = true;
    for (int i = 0; i < rank; ++i) identity = identity && c_.perm[size_t(i)] == i;
    if (identity) {  // only size-1 axes moved
      std::memcpy(y, x, size_t(numel) * sizeof(T));
      return;
    }
    std::vector<int64_t> in_stride(size_t(rank), 1), out_stride(size_t(rank), 1);
    std::vector<int64_t> out_dims(static_cast<size_t>(rank));
    for (int i = rank - 2; i >= 0; --i) in_stride[size_t(i)] = in_stride[size_t(i + 1)] * c_.in_dims[size_t(i + 1)];
    for (int i = 0; i < rank; ++i) out_dims[size_t(i)] = c_.in_dims[size_t(c_.perm[size_t(i)])];
    for (int i = rank - 2; i >= 0; --i) out_stride[size_t(i)] = out_stride[size_t(i + 1)] * out_dims[size_t(i + 1)];

    // Output axes iterated outside the inner kernel, and where output index `o` of those
    // (row-major over them) starts in the input and the output.
    const int inner = rank - 1;
    const int in_last_at = int(std::find(c_.perm.begin(), c_.perm.end(), rank - 1) - c_.perm.begin());
    const bool rows = c_.perm[size_t(inner)] == rank - 1;
    std::vector<int> outer_axes;
    for (int i = 0; i < rank; ++i)
      if (i != inner && (rows || i != in_last_at)) outer_axes.push_back(i);
    auto offsets = [&](int64_t o, int64_t& in_offset, int64_t& out_offset) {
      in_offset = out_offset = 0;
      for (int j = int(outer_axes.size()) - 1; j >= 0; --j) {
        const int axis = outer_axes[size_t(j)];
        const int64_t index = o % out_dims[size_t(axis)];
        o /= out_dims[size_t(axis)];
        in_offset += index * in_stride[size_t(c_.perm[size_t(axis)])];
        out_offset += index * out_stride[size_t(axis)];
      }
    };

    if (rows) {  // the innermost axis stays: copy rows
      const int64_t row = out_dims[size_t(inner)];
      parallel_for(numel / row, [&](int, int64_t begin, int64_t end) {
        for (int64_t o = begin; o < end; ++o) {
          int64_t in_offset, out_offset;
          offsets(o, in_offset, out_offset);
          std::memcpy(y + out_offset, x + in_offset, size_t(row) * sizeof(T));
        }
      }, std::max<int64_t>(1, 4096 / row));
      return;
    }
    // Tiles of a 2-D transpose: input rows along axis `a` (which becomes the output's
    // innermost), input columns along its innermost axis (output axis `in_last_at`).
    const int64_t a_size = out_dims[size_t(inner)], a_stride = in_stride[size_t(c_.perm[size_t(inner)])];
    const int64_t j_size = c_.in_dims[size_t(rank - 1)], j_stride = out_stride[size_t(in_last_at)];
    const int64_t a_tiles = (a_size + kTile - 1) / kTile;
    parallel_for(numel / (a_size * j_size) * a_tiles, [&](int, int64_t begin, int64_t end) {
      for (int64_t task = begin; task < end; ++task) {
        int64_t in_offset, out_offset;
        offsets(task / a_tiles, in_offset, out_offset);
        const int64_t a0 = task % a_tiles * kTile, a1 = std::min(a_size, a0 + kTile);
        for (int64_t j0 = 0; j0 < j_size; j0 += kTile) {
          const int64_t j1 = std::min(j_size, j0 + kTile);
          for (int64_t j = j0; j < j1; ++j)
            for (int64_t a = a0; a < a1; ++a) y[out_offset + j * j_stride + a] = x[in_offset + a * a_stride + j];
        }
      }
    }, std::max<int64_t>(1, 4096 / (kTile * j_size)));
  }

  Collapsed c_;
};

std::string transpose_rejects(const Graph& g, const Node& node) {
  const TensorType& x = g.type(node.inputs[0]);
  if (!x.shape.fully_known()) return "the shape is not known";
  const size_t size = dtype_size(x.dtype);
  if (size != 1 && size != 2 && size != 4 && size != 8) return "element size is not 1, 2, 4 or 8 bytes";
  if (product(x.shape.concrete()) == 0) return "empty";
  return "";
}

std::shared_ptr<const NodeKernel> prepare_transpose(const Graph& g, const Node& node) {
  const Dims dims = g.type(node.inputs[0]).shape.concrete();
  std::vector<int64_t> perm(dims.size());
  if (node.has_attr("perm")) {
    perm = attr_ints(node, "perm");
  } else {
    for (size_t i = 0; i < perm.size(); ++i) perm[i] = int64_t(perm.size() - 1 - i);
  }
  return std::make_shared<TransposeKernel>(collapse(dims, perm));
}

}  // namespace

extern const Tactic kTransposeBlocked{"transpose.blocked", OpKind::Transpose, transpose_rejects, prepare_transpose};

}  // namespace nnc::cpu
