// ops/signal.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kDFT{.kind = OpKind::DFT, .onnx_name = "DFT"};
extern const OpDef kSTFT{.kind = OpKind::STFT, .onnx_name = "STFT"};
extern const OpDef kHannWindow{.kind = OpKind::HannWindow, .onnx_name = "HannWindow"};
extern const OpDef kHammingWindow{.kind = OpKind::HammingWindow, .onnx_name = "HammingWindow"};
extern const OpDef kBlackmanWindow{.kind = OpKind::BlackmanWindow, .onnx_name = "BlackmanWindow"};
extern const OpDef kMelWeightMatrix{.kind = OpKind::MelWeightMatrix, .onnx_name = "MelWeightMatrix"};
}  // namespace nnc
