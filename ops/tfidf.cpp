// ops/tfidf.cpp — STUB: not implemented yet.
#include "ops/op_def.h"

namespace nnc {
extern const OpDef kTfIdfVectorizer{.kind = OpKind::TfIdfVectorizer, .onnx_name = "TfIdfVectorizer"};
}  // namespace nnc
