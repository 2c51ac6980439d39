// ops/op_kind.h — the table of contents of nnc: every op the IR knows, one enumerator each.
//
// Enumerators use ONNX's names. Each has exactly one OpDef (ops/all_ops.cpp; a test checks it).
// The IR text and error messages spell an op with op_name(); parse_op_kind() reads it back.
// This header is a leaf so that core/ (the graph) can name ops without depending on ops/.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace nnc {

#define NNC_OP_LIST(X)                                                                           \
  /* elementwise, one input */                                                                   \
  X(Abs) X(Neg) X(Sign) X(Reciprocal) X(Floor) X(Ceil) X(Round) X(Sqrt) X(Exp) X(Log) X(Erf)     \
  X(Sin) X(Cos) X(Tan) X(Asin) X(Acos) X(Atan) X(Sinh) X(Cosh) X(Asinh) X(Acosh) X(Atanh)        \
  X(Relu) X(LeakyRelu) X(Elu) X(Selu) X(Celu) X(ThresholdedRelu) X(Sigmoid) X(HardSigmoid)       \
  X(HardSwish) X(Tanh) X(Softplus) X(Softsign) X(Mish) X(Gelu) X(Shrink) X(Clip) X(IsNaN)        \
  X(IsInf) X(Not) X(BitwiseNot)                                                                  \
  /* elementwise, broadcasting */                                                                \
  X(Add) X(Sub) X(Mul) X(Div) X(Pow) X(Mod) X(PRelu) X(Equal) X(Less) X(LessOrEqual)             \
  X(Greater) X(GreaterOrEqual) X(And) X(Or) X(Xor) X(BitShift) X(BitwiseAnd) X(BitwiseOr)        \
  X(BitwiseXor) X(Max) X(Min) X(Mean) X(Sum) X(Where)                                            \
  /* linear algebra and convolution */                                                           \
  X(MatMul) X(Gemm) X(Einsum) X(Conv) X(ConvTranspose) X(DeformConv)                             \
  /* normalization and softmax */                                                                \
  X(BatchNormalization) X(InstanceNormalization) X(LayerNormalization) X(GroupNormalization)     \
  X(LpNormalization) X(MeanVarianceNormalization) X(LRN) X(Softmax) X(LogSoftmax) X(Hardmax)     \
  /* pooling and resampling */                                                                   \
  X(MaxPool) X(AveragePool) X(LpPool) X(GlobalAveragePool) X(GlobalMaxPool) X(GlobalLpPool)      \
  X(Resize) X(GridSample) X(DepthToSpace) X(SpaceToDepth)                                        \
  /* reductions */                                                                               \
  X(ReduceSum) X(ReduceMean) X(ReduceMax) X(ReduceMin) X(ReduceProd) X(ReduceL1) X(ReduceL2)     \
  X(ReduceLogSum) X(ReduceLogSumExp) X(ReduceSumSquare) X(ArgMax) X(ArgMin) X(TopK) X(CumSum)    \
  /* data movement and shapes */                                                                 \
  X(Identity) X(Dropout) X(Cast) X(CastLike) X(Reshape) X(Flatten) X(Squeeze) X(Unsqueeze)       \
  X(Expand) X(Transpose) X(Concat) X(Split) X(Slice) X(Pad) X(Tile) X(Gather) X(GatherElements)  \
  X(GatherND) X(ScatterND) X(ScatterElements) X(Shape) X(Size) X(ReverseSequence) X(Compress)    \
  /* generators */                                                                               \
  X(Constant) X(ConstantOfShape) X(Range) X(OneHot) X(EyeLike) X(Trilu) X(NonZero)               \
  /* control flow and detection */                                                              \
  X(If) X(Loop) X(NonMaxSuppression)                                                             \
  /* quantization */                                                                            \
  X(QuantizeLinear) X(DequantizeLinear) X(DynamicQuantizeLinear) X(ConvInteger)                  \
  X(MatMulInteger) X(QLinearConv) X(QLinearMatMul)                                               \
  /* losses and optimizer steps (ONNX tests them; cheap) */                                     \
  X(NegativeLogLikelihoodLoss) X(SoftmaxCrossEntropyLoss) X(Adagrad) X(Adam) X(Momentum)        \
  /* recurrent networks */                                                                       \
  X(RNN) X(GRU) X(LSTM)                                                                          \
  /* signal processing */                                                                        \
  X(DFT) X(STFT) X(HannWindow) X(HammingWindow) X(BlackmanWindow) X(MelWeightMatrix)             \
  /* less common tensor ops */                                                                   \
  X(Unique) X(Det) X(MaxUnpool) X(RoiAlign) X(TfIdfVectorizer)                                  \
  /* nnc's own ops (domain "nnc") */                                                             \
  X(MSDeformAttn) X(QLayerNorm) X(QSoftmax) X(Log2Dequantize)

enum class OpKind : uint16_t {
#define NNC_OP_ENUM(name) name,
  NNC_OP_LIST(NNC_OP_ENUM)
#undef NNC_OP_ENUM
};

inline constexpr std::string_view kOpNames[] = {
#define NNC_OP_NAME(name) #name,
    NNC_OP_LIST(NNC_OP_NAME)
#undef NNC_OP_NAME
};
inline constexpr int kOpCount = int(std::size(kOpNames));

constexpr std::string_view op_name(OpKind kind) { return kOpNames[size_t(kind)]; }

constexpr std::optional<OpKind> parse_op_kind(std::string_view name) {
  for (int i = 0; i < kOpCount; ++i)
    if (kOpNames[i] == name) return OpKind(i);
  return std::nullopt;
}

}  // namespace nnc
