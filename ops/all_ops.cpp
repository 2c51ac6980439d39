// ops/all_ops.cpp — the registry: every OpDef, listed by the file that defines it.
// A test checks that every OpKind appears exactly once and that each entry's kind matches its
// position, so a new op cannot be forgotten here.
#include <algorithm>

#include "ops/op_def.h"

namespace nnc {

// ops/unary.cpp
extern const OpDef kAbs, kNeg, kSign, kReciprocal, kFloor, kCeil, kRound, kSqrt, kExp, kLog, kErf, kSin, kCos, kTan, kAsin, kAcos, kAtan, kSinh, kCosh, kAsinh, kAcosh, kAtanh, kRelu, kLeakyRelu, kElu, kSelu, kCelu, kThresholdedRelu, kSigmoid, kHardSigmoid, kHardSwish, kTanh, kSoftplus, kSoftsign, kMish, kGelu, kShrink, kIsNaN, kIsInf, kNot, kBitwiseNot;
// ops/clip.cpp
extern const OpDef kClip;
// ops/binary.cpp
extern const OpDef kAdd, kSub, kMul, kDiv, kPow, kMod, kPRelu, kEqual, kLess, kLessOrEqual, kGreater, kGreaterOrEqual, kAnd, kOr, kXor, kBitShift, kBitwiseAnd, kBitwiseOr, kBitwiseXor;
// ops/variadic.cpp
extern const OpDef kMax, kMin, kMean, kSum;
// ops/where.cpp
extern const OpDef kWhere;
// ops/cast.cpp
extern const OpDef kCast, kCastLike;
// ops/matmul.cpp
extern const OpDef kMatMul, kGemm;
// ops/einsum.cpp
extern const OpDef kEinsum;
// ops/conv.cpp
extern const OpDef kConv;
// ops/conv_transpose.cpp
extern const OpDef kConvTranspose;
// ops/deform_conv.cpp
extern const OpDef kDeformConv;
// ops/normalization.cpp
extern const OpDef kBatchNormalization, kInstanceNormalization, kLayerNormalization, kGroupNormalization, kLpNormalization, kMeanVarianceNormalization, kLRN;
// ops/softmax.cpp
extern const OpDef kSoftmax, kLogSoftmax, kHardmax;
// ops/pool.cpp
extern const OpDef kMaxPool, kAveragePool, kLpPool, kGlobalAveragePool, kGlobalMaxPool, kGlobalLpPool;
// ops/resize.cpp
extern const OpDef kResize;
// ops/grid_sample.cpp
extern const OpDef kGridSample;
// ops/depth_space.cpp
extern const OpDef kDepthToSpace, kSpaceToDepth;
// ops/reduce.cpp
extern const OpDef kReduceSum, kReduceMean, kReduceMax, kReduceMin, kReduceProd, kReduceL1, kReduceL2, kReduceLogSum, kReduceLogSumExp, kReduceSumSquare, kArgMax, kArgMin;
// ops/topk.cpp
extern const OpDef kTopK;
// ops/cumsum.cpp
extern const OpDef kCumSum;
// ops/shape_ops.cpp
extern const OpDef kIdentity, kDropout, kReshape, kFlatten, kSqueeze, kUnsqueeze, kExpand, kShape, kSize;
// ops/transpose.cpp
extern const OpDef kTranspose;
// ops/concat.cpp
extern const OpDef kConcat;
// ops/split.cpp
extern const OpDef kSplit;
// ops/slice.cpp
extern const OpDef kSlice;
// ops/pad.cpp
extern const OpDef kPad;
// ops/tile.cpp
extern const OpDef kTile;
// ops/gather.cpp
extern const OpDef kGather, kGatherElements, kGatherND;
// ops/scatter.cpp
extern const OpDef kScatterND, kScatterElements;
// ops/sequence_select.cpp
extern const OpDef kReverseSequence, kCompress;
// ops/generators.cpp
extern const OpDef kConstant, kConstantOfShape, kRange, kOneHot, kEyeLike;
// ops/trilu.cpp
extern const OpDef kTrilu;
// ops/nonzero.cpp
extern const OpDef kNonZero;
// ops/control_flow.cpp
extern const OpDef kIf, kLoop;
// ops/nms.cpp
extern const OpDef kNonMaxSuppression;
// ops/quantize.cpp
extern const OpDef kQuantizeLinear, kDequantizeLinear, kDynamicQuantizeLinear;
// ops/quantized_linear.cpp
extern const OpDef kConvInteger, kMatMulInteger, kQLinearConv, kQLinearMatMul;
// ops/loss.cpp
extern const OpDef kNegativeLogLikelihoodLoss, kSoftmaxCrossEntropyLoss;
// ops/optimizers.cpp
extern const OpDef kAdagrad, kAdam, kMomentum;
// ops/recurrent.cpp
extern const OpDef kRNN, kGRU, kLSTM;
// ops/signal.cpp
extern const OpDef kDFT, kSTFT, kHannWindow, kHammingWindow, kBlackmanWindow, kMelWeightMatrix;
// ops/unique.cpp
extern const OpDef kUnique;
// ops/det.cpp
extern const OpDef kDet;
// ops/max_unpool.cpp
extern const OpDef kMaxUnpool;
// ops/roi_align.cpp
extern const OpDef kRoiAlign;
// ops/tfidf.cpp
extern const OpDef kTfIdfVectorizer;
// ops/ms_deform_attn.cpp
extern const OpDef kMSDeformAttn;
// ops/quantized_transformer.cpp
extern const OpDef kQLayerNorm, kQSoftmax, kLog2Dequantize;

namespace {
const OpDef* const kAllOps[] = {
    // ops/unary.cpp
    &kAbs, &kNeg, &kSign, &kReciprocal, &kFloor, &kCeil, &kRound, &kSqrt, &kExp, &kLog, &kErf, &kSin, &kCos, &kTan, &kAsin, &kAcos, &kAtan, &kSinh, &kCosh, &kAsinh, &kAcosh, &kAtanh, &kRelu, &kLeakyRelu, &kElu, &kSelu, &kCelu, &kThresholdedRelu, &kSigmoid, &kHardSigmoid, &kHardSwish, &kTanh, &kSoftplus, &kSoftsign, &kMish, &kGelu, &kShrink, &kIsNaN, &kIsInf, &kNot, &kBitwiseNot,
    // ops/clip.cpp
    &kClip,
    // ops/binary.cpp
    &kAdd, &kSub, &kMul, &kDiv, &kPow, &kMod, &kPRelu, &kEqual, &kLess, &kLessOrEqual, &kGreater, &kGreaterOrEqual, &kAnd, &kOr, &kXor, &kBitShift, &kBitwiseAnd, &kBitwiseOr, &kBitwiseXor,
    // ops/variadic.cpp
    &kMax, &kMin, &kMean, &kSum,
    // ops/where.cpp
    &kWhere,
    // ops/cast.cpp
    &kCast, &kCastLike,
    // ops/matmul.cpp
    &kMatMul, &kGemm,
    // ops/einsum.cpp
    &kEinsum,
    // ops/conv.cpp
    &kConv,
    // ops/conv_transpose.cpp
    &kConvTranspose,
    // ops/deform_conv.cpp
    &kDeformConv,
    // ops/normalization.cpp
    &kBatchNormalization, &kInstanceNormalization, &kLayerNormalization, &kGroupNormalization, &kLpNormalization, &kMeanVarianceNormalization, &kLRN,
    // ops/softmax.cpp
    &kSoftmax, &kLogSoftmax, &kHardmax,
    // ops/pool.cpp
    &kMaxPool, &kAveragePool, &kLpPool, &kGlobalAveragePool, &kGlobalMaxPool, &kGlobalLpPool,
    // ops/resize.cpp
    &kResize,
    // ops/grid_sample.cpp
    &kGridSample,
    // ops/depth_space.cpp
    &kDepthToSpace, &kSpaceToDepth,
    // ops/reduce.cpp
    &kReduceSum, &kReduceMean, &kReduceMax, &kReduceMin, &kReduceProd, &kReduceL1, &kReduceL2, &kReduceLogSum, &kReduceLogSumExp, &kReduceSumSquare, &kArgMax, &kArgMin,
    // ops/topk.cpp
    &kTopK,
    // ops/cumsum.cpp
    &kCumSum,
    // ops/shape_ops.cpp
    &kIdentity, &kDropout, &kReshape, &kFlatten, &kSqueeze, &kUnsqueeze, &kExpand, &kShape, &kSize,
    // ops/transpose.cpp
    &kTranspose,
    // ops/concat.cpp
    &kConcat,
    // ops/split.cpp
    &kSplit,
    // ops/slice.cpp
    &kSlice,
    // ops/pad.cpp
    &kPad,
    // ops/tile.cpp
    &kTile,
    // ops/gather.cpp
    &kGather, &kGatherElements, &kGatherND,
    // ops/scatter.cpp
    &kScatterND, &kScatterElements,
    // ops/sequence_select.cpp
    &kReverseSequence, &kCompress,
    // ops/generators.cpp
    &kConstant, &kConstantOfShape, &kRange, &kOneHot, &kEyeLike,
    // ops/trilu.cpp
    &kTrilu,
    // ops/nonzero.cpp
    &kNonZero,
    // ops/control_flow.cpp
    &kIf, &kLoop,
    // ops/nms.cpp
    &kNonMaxSuppression,
    // ops/quantize.cpp
    &kQuantizeLinear, &kDequantizeLinear, &kDynamicQuantizeLinear,
    // ops/quantized_linear.cpp
    &kConvInteger, &kMatMulInteger, &kQLinearConv, &kQLinearMatMul,
    // ops/loss.cpp
    &kNegativeLogLikelihoodLoss, &kSoftmaxCrossEntropyLoss,
    // ops/optimizers.cpp
    &kAdagrad, &kAdam, &kMomentum,
    // ops/recurrent.cpp
    &kRNN, &kGRU, &kLSTM,
    // ops/signal.cpp
    &kDFT, &kSTFT, &kHannWindow, &kHammingWindow, &kBlackmanWindow, &kMelWeightMatrix,
    // ops/unique.cpp
    &kUnique,
    // ops/det.cpp
    &kDet,
    // ops/max_unpool.cpp
    &kMaxUnpool,
    // ops/roi_align.cpp
    &kRoiAlign,
    // ops/tfidf.cpp
    &kTfIdfVectorizer,
    // ops/ms_deform_attn.cpp
    &kMSDeformAttn,
    // ops/quantized_transformer.cpp
    &kQLayerNorm, &kQSoftmax, &kLog2Dequantize,
};

// kAllOps in OpKind order, checked once.
const std::vector<const OpDef*>& by_kind() {
  static const std::vector<const OpDef*> table = [] {
    std::vector<const OpDef*> t(size_t(kOpCount), nullptr);
    for (const OpDef* def : kAllOps) {
      check_internal(t[size_t(def->kind)] == nullptr, "two OpDefs for one OpKind");
      t[size_t(def->kind)] = def;
    }
    for (const OpDef* def : t) check_internal(def != nullptr, "an OpKind has no OpDef");
    return t;
  }();
  return table;
}
}  // namespace

const OpDef& op_def(OpKind kind) { return *by_kind().at(size_t(kind)); }

std::span<const OpDef* const> all_op_defs() { return kAllOps; }

const OpDef* find_onnx_op(std::string_view domain, std::string_view onnx_name) {
  if (domain == "ai.onnx") domain = "";
  for (const OpDef* def : kAllOps)
    if (def->onnx_name == onnx_name && def->domain == domain) return def;
  return nullptr;
}

std::pair<const OpDef*, const ForeignName*> find_foreign_op(std::string_view domain, std::string_view op_type) {
  if (domain == "ai.onnx") domain = "";
  for (const OpDef* def : kAllOps)
    for (const ForeignName& name : def->foreign_names)
      if (name.op_type == op_type && (name.any_domain || name.domain == domain)) return {def, &name};
  return {nullptr, nullptr};
}

}  // namespace nnc
