// core/dtype.h — element types, their IR names, and a way to write a kernel once per type.
//
// The model types are f32, f16, bf16, i8, u8, i32, i64 and bool. f64 and the 16/32/64-bit
// integer types exist because ONNX models (and its conformance tests) use them for shape math
// and casts; reference kernels handle them, fast kernels need not.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "core/error.h"

namespace nnc {

enum class DType : uint8_t { F32, F16, BF16, F64, I8, U8, I16, U16, I32, U32, I64, U64, Bool };
inline constexpr int kDTypeCount = 13;

// IEEE half and bfloat16 as storage types; arithmetic goes through float.
struct Half {
  uint16_t bits = 0;
};
struct BFloat16 {
  uint16_t bits = 0;
};
float half_to_float(Half h);
Half float_to_half(float f);  // round to nearest even, overflow to inf
inline float bfloat16_to_float(BFloat16 b) {
  const uint32_t u = uint32_t(b.bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
BFloat16 float_to_bfloat16(float f);  // round to nearest even

std::string_view dtype_name(DType t);  // "f32", "i64", ...
std::optional<DType> parse_dtype(std::string_view name);
size_t dtype_size(DType t);
bool is_float(DType t);    // f32, f16, bf16, f64
bool is_integer(DType t);  // signed and unsigned integers, not bool
bool is_8bit(DType t);     // u8 or i8: the quantized types
bool is_signed(DType t);
// The dtype of an ONNX TensorProto.DataType code (1 FLOAT, 2 UINT8, ... 16 BFLOAT16), as Cast's
// `to`, EyeLike's `dtype` and the importer use them; nullopt for codes nnc has no dtype for
// (STRING, complex, float8) and for codes that are not ONNX data types.
std::optional<DType> dtype_from_onnx_code(int64_t code);

// Calls f.template operator()<T>() with T the C++ storage type of `t`:
//   visit_dtype(t, [&]<typename T>() { ... });
template <typename F>
decltype(auto) visit_dtype(DType t, F&& f) {
  switch (t) {
    case DType::F32: return f.template operator()<float>();
    case DType::F16: return f.template operator()<Half>();
    case DType::BF16: return f.template operator()<BFloat16>();
    case DType::F64: return f.template operator()<double>();
    case DType::I8: return f.template operator()<int8_t>();
    case DType::U8: return f.template operator()<uint8_t>();
    case DType::I16: return f.template operator()<int16_t>();
    case DType::U16: return f.template operator()<uint16_t>();
    case DType::I32: return f.template operator()<int32_t>();
    case DType::U32: return f.template operator()<uint32_t>();
    case DType::I64: return f.template operator()<int64_t>();
    case DType::U64: return f.template operator()<uint64_t>();
    case DType::Bool: return f.template operator()<bool>();
  }
  fail(ErrorKind::Internal, "visit_dtype: bad dtype {}", int(t));
}

// Calls f.template operator()<W>() with W an unsigned integer as wide as one element of `t`:
// for kernels that only move elements (Slice, Pad, Transpose), one instantiation per width.
template <typename F>
decltype(auto) visit_word(DType t, F&& f) {
  switch (dtype_size(t)) {
    case 1: return f.template operator()<uint8_t>();
    case 2: return f.template operator()<uint16_t>();
    case 4: return f.template operator()<uint32_t>();
    case 8: return f.template operator()<uint64_t>();
  }
  fail(ErrorKind::Internal, "visit_word: element size {} of {}", dtype_size(t), int(t));
}

template <typename T>
constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::F32; }
template <> constexpr DType dtype_of<Half>() { return DType::F16; }
template <> constexpr DType dtype_of<BFloat16>() { return DType::BF16; }
template <> constexpr DType dtype_of<double>() { return DType::F64; }
template <> constexpr DType dtype_of<int8_t>() { return DType::I8; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::U8; }
template <> constexpr DType dtype_of<int16_t>() { return DType::I16; }
template <> constexpr DType dtype_of<uint16_t>() { return DType::U16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::I32; }
template <> constexpr DType dtype_of<uint32_t>() { return DType::U32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::I64; }
template <> constexpr DType dtype_of<uint64_t>() { return DType::U64; }
template <> constexpr DType dtype_of<bool>() { return DType::Bool; }

// Conversions between any storage type and double, used by reference kernels that compute in
// double (exact for every f32/f16/i32 value; i64 beyond 2^53 goes through the integer paths).
template <typename T>
inline double to_double(T v) {
  if constexpr (std::is_same_v<T, Half>) return half_to_float(v);
  else if constexpr (std::is_same_v<T, BFloat16>) return bfloat16_to_float(v);
  else return static_cast<double>(v);
}

// Float-to-integer conversion that never hits C++ undefined behaviour: NaN becomes 0 and
// out-of-range values saturate (ONNX leaves these cases undefined; we pick the safe answer).
template <typename T>
inline T from_double(double v) {
  if constexpr (std::is_same_v<T, Half>) return float_to_half(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, BFloat16>) return float_to_bfloat16(static_cast<float>(v));
  else if constexpr (std::is_same_v<T, bool>) return v != 0;
  else if constexpr (std::is_floating_point_v<T>) return static_cast<T>(v);
  else {
    if (v != v) return T(0);
    constexpr double lo = static_cast<double>(std::numeric_limits<T>::min());
    constexpr double hi = static_cast<double>(std::numeric_limits<T>::max());
    if (v <= lo) return std::numeric_limits<T>::min();
    if (v >= hi) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

}  // namespace nnc
