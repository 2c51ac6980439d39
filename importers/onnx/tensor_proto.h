// importers/onnx/tensor_proto.h — ONNX TensorProto <-> nnc Tensor, and ONNX type codes.
//
// Everything here reads untrusted bytes: sizes are checked against the data actually present
// before anything is allocated, and external data must stay inside the model's directory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "core/tensor.h"

namespace onnx {
class TensorProto;
}

namespace nnc::onnx_import {

// ONNX TensorProto.DataType code -> DType; nullopt for types nnc does not support (string,
// complex, float8).
std::optional<DType> dtype_from_onnx(int code);
std::string_view onnx_type_name(int code);  // "FLOAT", "STRING", ... for messages

// Converts a TensorProto. `what` names the tensor in errors ("initializer 'conv1.weight'").
// `model_dir` resolves external data; empty means external data is refused.
Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what,
                         const std::filesystem::path& model_dir);

// A serialized TensorProto (external data refused); `what` names it in errors.
Tensor parse_tensor_proto(const std::string& bytes, const std::string& what);
// Reads a serialized TensorProto file (the .pb files of ONNX's test data, `--input x=t.pb`).
Tensor read_tensor_proto_file(const std::filesystem::path& path);

}  // namespace nnc::onnx_import
