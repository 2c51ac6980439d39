// ops/depth_space.cpp — DepthToSpace and SpaceToDepth: move blocks of b×b pixels between the
// channel axis and the spatial axes. ONNX opsets 1, 11, 13.
// https://onnx.ai/onnx/operators/onnx__DepthToSpace.html
//
//   DepthToSpace  [N, C·b², H, W] -> [N, C, H·b, W·b]
//     DCR (default): channel index = (bh·b + bw)·C + c   (depth, then column, then row)
//     CRD (PixelShuffle): channel index = c·b² + bh·b + bw
//   SpaceToDepth  [N, C, H·b, W·b] -> [N, C·b², H, W], the inverse of DCR.
// Pure data movement, so every dtype is accepted and copied element by element.
#include <cstring>

#include "ops/op_def.h"

namespace nnc {
namespace {

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  const TensorType& x = c.in(0);
  const int64_t b = attr_int(n, "blocksize");
  if (b < 1 || b > 4096) node_error(n, "blocksize = {} must be at least 1", b);
  if (n.op == OpKind::DepthToSpace) {
    const std::string mode = attr_string(n, "mode");
    if (mode != "DCR" && mode != "CRD") node_error(n, "mode must be DCR or CRD, got '{}'", mode);
  }
  if (!x.shape.rank_known) return {TensorType{x.dtype, Shape(std::vector<Dim>(4))}};
  if (x.rank() != 4) node_error(n, "input has rank {}; {} needs [N, C, H, W]", x.rank(), op_name(n.op));
  const auto& d = x.shape.dims;
  auto scaled = [](const Dim& dim, int64_t factor) { return dim.known() ? Dim(dim.value * factor) : Dim(); };
  if (n.op == OpKind::DepthToSpace) {
    if (d[1].known() && d[1].value % (b * b) != 0)
      node_error(n, "{} channels are not divisible by blocksize² = {}", d[1].value, b * b);
    return {TensorType{x.dtype, Shape({d[0], d[1].known() ? Dim(d[1].value / (b * b)) : Dim(), scaled(d[2], b), scaled(d[3], b)})}};
  }
  for (int a = 2; a < 4; ++a)
    if (d[size_t(a)].known() && d[size_t(a)].value % b != 0)
      node_error(n, "spatial dim {} = {} is not divisible by blocksize {}", a, d[size_t(a)].value, b);
  return {TensorType{x.dtype, Shape({d[0], scaled(d[1], b * b), d[2].known() ? Dim(d[2].value / b) : Dim(),
                                     d[3].known() ? Dim(d[3].value / b) : Dim()})}};
}

void reference(KernelContext& k) {
  const Node& n = k.node;
  const int64_t b = attr_int(n, "blocksize");
  const bool to_space = n.op == OpKind::DepthToSpace;
  const bool crd = to_space && attr_string(n, "mode") == "CRD";
  // The [N, C, H, W] of the spatial side and its channel count C.
  const Dims& big = to_space ? k.out(0).dims() : k.in(0).dims();
  const Dims& deep = to_space ? k.in(0).dims() : k.out(0).dims();
  const int64_t N = big[0], C = big[1], H = deep[2], W = deep[3];
  const size_t size = dtype_size(k.in(0).dtype());
  const std::byte* in = k.in(0).bytes();
  std::byte* out = k.out(0).bytes();
  for (int64_t nn = 0; nn < N; ++nn)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t bh = 0; bh < b; ++bh)
        for (int64_t bw = 0; bw < b; ++bw) {
          const int64_t depth = crd ? c * b * b + bh * b + bw : (bh * b + bw) * C + c;
          for (int64_t h = 0; h < H; ++h)
            for (int64_t w = 0; w < W; ++w) {
              const int64_t deep_at = ((nn * C * b * b + depth) * H + h) * W + w;
              const int64_t big_at = ((nn * C + c) * H * b + h * b + bh) * W * b + w * b + bw;
              const int64_t from = to_space ? deep_at : big_at, to = to_space ? big_at : deep_at;
              std::memcpy(out + size_t(to) * size, in + size_t(from) * size, size);
            }
        }
}

}  // namespace

extern const OpDef kDepthToSpace{.kind = OpKind::DepthToSpace,
                                 .onnx_name = "DepthToSpace",
                                 .attrs = {AttrSpec{"blocksize", AttrType::Int, std::nullopt},
                                           AttrSpec{"mode", AttrType::String, std::string("DCR")}},
                                 .infer = infer,
                                 .reference = reference};
extern const OpDef kSpaceToDepth{.kind = OpKind::SpaceToDepth,
                                 .onnx_name = "SpaceToDepth",
                                 .attrs = {AttrSpec{"blocksize", AttrType::Int, std::nullopt}},
                                 .infer = infer,
                                 .reference = reference};

}  // namespace nnc
