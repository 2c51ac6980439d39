#include "importers/onnx/tensor_proto.h"

#include <fstream>

#include "onnx/onnx.pb.h"

namespace nnc::onnx_import {
namespace fs = std::filesystem;

std::optional<DType> dtype_from_onnx(int code) { return dtype_from_onnx_code(code); }

std::string_view onnx_type_name(int code) {
  if (onnx::TensorProto::DataType_IsValid(code))
    return onnx::TensorProto::DataType_Name(onnx::TensorProto::DataType(code));
  return "an unknown type code";
}

namespace {

// Copies the typed repeated field into the tensor after checking its length.
template <typename Field, typename Convert>
void copy_field(Tensor& t, const Field& field, const std::string& what, const char* field_name,
                Convert convert) {
  if (int64_t(field.size()) != t.numel())
    bad_input("{}: {} holds {} values but shape {} needs {}", what, field_name, field.size(),
              to_string(t.dims()), t.numel());
  visit_dtype(t.dtype(), [&]<typename T>() {
    T* out = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) out[i] = convert.template operator()<T>(field.Get(int(i)));
  });
}

// int32_data carries every type of 32 bits or less; f16/bf16 as their bit patterns.
struct FromInt32 {
  template <typename T>
  T operator()(int32_t v) const {
    if constexpr (std::is_same_v<T, Half>) return Half{uint16_t(v)};
    else if constexpr (std::is_same_v<T, BFloat16>) return BFloat16{uint16_t(v)};
    else return static_cast<T>(v);
  }
};
struct Plain {
  template <typename T, typename V>
  T operator()(V v) const {
    if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>) return from_double<T>(double(v));
    else return static_cast<T>(v);
  }
};

std::string read_external(const onnx::TensorProto& proto, const std::string& what,
                          const fs::path& model_dir, size_t expected_bytes) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") location = entry.value();
    else if (entry.key() == "offset") offset = std::atoll(entry.value().c_str());
    else if (entry.key() == "length") length = std::atoll(entry.value().c_str());
  }
  if (location.empty()) bad_input("{}: external data has no location", what);
  if (model_dir.empty()) bad_input("{}: external data is not allowed here", what);
  const fs::path relative(location);
  if (relative.is_absolute())
    bad_input("{}: external data location '{}' is absolute; it must be relative to the model's directory",
              what, location);
  const fs::path base = fs::weakly_canonical(model_dir);
  const fs::path full = fs::weakly_canonical(base / relative);
  const auto [base_end, full_it] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (base_end != base.end())
    bad_input("{}: external data location '{}' points outside the model's directory {}", what, location,
              base.string());
  std::error_code ec;
  const uintmax_t file_size = fs::file_size(full, ec);
  if (ec) bad_input("{}: external data file '{}' cannot be read: {}", what, full.string(), ec.message());
  if (offset < 0 || uintmax_t(offset) > file_size)
    bad_input("{}: external data offset {} is beyond the end of '{}' ({} bytes)", what, offset, location, file_size);
  if (length < 0) length = int64_t(file_size) - offset;
  if (uint64_t(length) != expected_bytes)
    bad_input("{}: external data has {} bytes but the tensor needs {}", what, length, expected_bytes);
  if (uintmax_t(offset) + uintmax_t(length) > file_size)
    bad_input("{}: external data [{}, {}) runs past the end of '{}' ({} bytes)", what, offset,
              offset + length, location, file_size);
  std::ifstream in(full, std::ios::binary);
  std::string bytes(size_t(length), '\0');
  in.seekg(offset);
  in.read(bytes.data(), length);
  if (!in) bad_input("{}: reading external data from '{}' failed", what, location);
  return bytes;
}

}  // namespace

Tensor tensor_from_proto(const onnx::TensorProto& proto, const std::string& what, const fs::path& model_dir) {
  const std::optional<DType> dtype = dtype_from_onnx(proto.data_type());
  if (!dtype)
    fail(ErrorKind::Unsupported, "{}: element type {} ({}) is not supported by nnc", what,
         onnx_type_name(proto.data_type()), proto.data_type());
  Dims dims(proto.dims().begin(), proto.dims().end());
  const int64_t numel = checked_numel(dims, *dtype, what);
  const size_t nbytes = size_t(numel) * dtype_size(*dtype);

  const bool external = proto.data_location() == onnx::TensorProto::EXTERNAL;
  // Check the data's real size before allocating anything sized by `dims`.
  if (!external && proto.has_raw_data() && proto.raw_data().size() != nbytes)
    bad_input("{}: raw_data has {} bytes but {}{} needs {}", what, proto.raw_data().size(),
              dtype_name(*dtype), to_string(dims), nbytes);
  const size_t typed_count = size_t(proto.float_data_size() + proto.int32_data_size() +
                                    proto.int64_data_size() + proto.double_data_size() +
                                    proto.uint64_data_size());
  if (!external && !proto.has_raw_data() && typed_count != size_t(numel))
    bad_input("{}: holds {} values but shape {} needs {}", what, typed_count, to_string(dims), numel);

  Tensor t(*dtype, dims);
  if (external) {
    const std::string bytes = read_external(proto, what, model_dir, nbytes);
    std::memcpy(t.bytes(), bytes.data(), nbytes);
  } else if (proto.has_raw_data()) {
    if (nbytes) std::memcpy(t.bytes(), proto.raw_data().data(), nbytes);  // little-endian host
  } else if (numel > 0) {
    switch (*dtype) {
      case DType::F32: copy_field(t, proto.float_data(), what, "float_data", Plain{}); break;
      case DType::F64: copy_field(t, proto.double_data(), what, "double_data", Plain{}); break;
      case DType::I64: copy_field(t, proto.int64_data(), what, "int64_data", Plain{}); break;
      case DType::U32:
      case DType::U64: copy_field(t, proto.uint64_data(), what, "uint64_data", Plain{}); break;
      default: copy_field(t, proto.int32_data(), what, "int32_data", FromInt32{}); break;
    }
  }
  if (*dtype == DType::Bool) {  // normalise: any non-zero byte is true
    auto* b = reinterpret_cast<uint8_t*>(t.bytes());
    for (int64_t i = 0; i < numel; ++i) b[i] = b[i] != 0;
  }
  return t;
}

Tensor parse_tensor_proto(const std::string& bytes, const std::string& what) {
  onnx::TensorProto proto;
  if (bytes.empty() || !proto.ParseFromString(bytes)) bad_input("{}: not a serialized ONNX TensorProto", what);
  return tensor_from_proto(proto, what, fs::path());
}

Tensor read_tensor_proto_file(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) bad_input("{}: is a directory, not a TensorProto file", path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_input("{}: cannot open file", path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_tensor_proto(bytes, path.filename().string());
}

}  // namespace nnc::onnx_import
