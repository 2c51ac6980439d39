// ops/recurrent.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kRNN{.kind = OpKind::RNN, .onnx_name = "RNN"};
extern const OpDef kGRU{.kind = OpKind::GRU, .onnx_name = "GRU"};
extern const OpDef kLSTM{.kind = OpKind::LSTM, .onnx_name = "LSTM"};
}  // namespace nnc
