#include "ops/cost.h"

namespace nnc {
namespace {

double numel_of(const TensorType& t) {
  if (!t.shape.fully_known()) return 0;
  return double(product(t.shape.concrete()));
}

}  // namespace

double estimate_flops(const Graph& g, const Node& n) {
  if (n.outputs.empty() || n.outputs[0] == kNoValue) return 0;
  const TensorType& out = g.type(n.outputs[0]);
  switch (n.op) {
    case OpKind::Conv:
    case OpKind::ConvInteger:
    case OpKind::QLinearConv: {  // each output element: C_in/group * kernel taps MACs
      const TensorType& w = g.type(n.inputs[n.op == OpKind::QLinearConv ? 3 : 1]);
      if (!w.shape.fully_known()) return 0;
      const Dims wd = w.shape.concrete();
      return 2.0 * numel_of(out) * double(product(std::span(wd).subspan(1)));
    }
    case OpKind::ConvTranspose: {  // each input element scatters into C_out/group * taps
      const TensorType& w = g.type(n.inputs[1]);
      if (!w.shape.fully_known()) return 0;
      const Dims wd = w.shape.concrete();
      return 2.0 * numel_of(g.type(n.inputs[0])) * double(product(std::span(wd).subspan(1)));
    }
    case OpKind::MatMul:
    case OpKind::Gemm: {
      const TensorType& a = g.type(n.inputs[0]);
      if (!a.shape.fully_known() || a.rank() == 0) return 0;
      const Dims ad = a.shape.concrete();
      const bool trans_a = n.op == OpKind::Gemm && n.find_attr("transA") && std::get<int64_t>(*n.find_attr("transA"));
      const double k = double(trans_a ? ad[0] : ad.back());
      return 2.0 * numel_of(out) * k;
    }
    default:
      return numel_of(out);
  }
}

}  // namespace nnc
