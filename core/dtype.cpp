#include "core/dtype.h"

#include <array>
#include <cmath>

namespace nnc {
namespace {
struct DTypeInfo {
  DType type;
  std::string_view name;
  size_t size;
};
constexpr std::array<DTypeInfo, kDTypeCount> kDTypes{{
    {DType::F32, "f32", 4},
    {DType::F16, "f16", 2},
    {DType::BF16, "bf16", 2},
    {DType::F64, "f64", 8},
    {DType::I8, "i8", 1},
    {DType::U8, "u8", 1},
    {DType::I16, "i16", 2},
    {DType::U16, "u16", 2},
    {DType::I32, "i32", 4},
    {DType::U32, "u32", 4},
    {DType::I64, "i64", 8},
    {DType::U64, "u64", 8},
    {DType::Bool, "bool", 1},
}};
static_assert(kDTypes.back().type == DType::Bool, "kDTypes must list every DType in order");
}  // namespace

std::string_view dtype_name(DType t) { return kDTypes.at(size_t(t)).name; }
size_t dtype_size(DType t) { return kDTypes.at(size_t(t)).size; }

std::optional<DType> parse_dtype(std::string_view name) {
  for (const DTypeInfo& info : kDTypes)
    if (info.name == name) return info.type;
  return std::nullopt;
}

bool is_float(DType t) {
  return t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::F64;
}
bool is_integer(DType t) { return !is_float(t) && t != DType::Bool; }
bool is_8bit(DType t) { return t == DType::U8 || t == DType::I8; }
bool is_signed(DType t) {
  return is_float(t) || t == DType::I8 || t == DType::I16 || t == DType::I32 || t == DType::I64;
}

float half_to_float(Half h) {
  const uint32_t sign = uint32_t(h.bits & 0x8000) << 16;
  const uint32_t exponent = (h.bits >> 10) & 0x1f;
  const uint32_t mantissa = h.bits & 0x3ff;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(float(mantissa), -24);  // subnormal (or zero)
  } else if (exponent == 31) {
    magnitude = mantissa ? std::numeric_limits<float>::quiet_NaN()
                         : std::numeric_limits<float>::infinity();
  } else {
    magnitude = std::ldexp(float(mantissa | 0x400), int(exponent) - 25);
  }
  return sign ? -magnitude : magnitude;
}

Half float_to_half(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000);
  const float a = std::fabs(f);
  if (std::isnan(f)) return Half{uint16_t(sign | 0x7e00)};
  if (a >= 65520.0f) return Half{uint16_t(sign | 0x7c00)};  // rounds to infinity
  if (a < std::ldexp(1.0f, -14)) {
    // Subnormal: value / 2^-24 rounded to nearest even integer. nearbyint uses the current
    // rounding mode, which is round-to-nearest-even by default.
    const float scaled = std::nearbyint(std::ldexp(a, 24));
    return Half{uint16_t(sign | uint16_t(scaled))};
  }
  int exponent;
  const float m = std::frexp(a, &exponent);  // a = m * 2^exponent, m in [0.5, 1)
  // 11 significant bits: m * 2^11 in [1024, 2048).
  float significand = std::nearbyint(std::ldexp(m, 11));
  if (significand == 2048.0f) {
    significand = 1024.0f;
    ++exponent;
  }
  const int biased = exponent - 1 + 15;
  if (biased >= 31) return Half{uint16_t(sign | 0x7c00)};
  return Half{uint16_t(sign | (biased << 10) | (uint16_t(significand) & 0x3ff))};
}

BFloat16 float_to_bfloat16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if (std::isnan(f)) return BFloat16{uint16_t((u >> 16) | 0x40)};
  const uint32_t rounding = 0x7fff + ((u >> 16) & 1);
  return BFloat16{uint16_t((u + rounding) >> 16)};
}

std::optional<DType> dtype_from_onnx_code(int64_t code) {
  switch (code) {
    case 1: return DType::F32;
    case 2: return DType::U8;
    case 3: return DType::I8;
    case 4: return DType::U16;
    case 5: return DType::I16;
    case 6: return DType::I32;
    case 7: return DType::I64;
    case 9: return DType::Bool;
    case 10: return DType::F16;
    case 11: return DType::F64;
    case 12: return DType::U32;
    case 13: return DType::U64;
    case 16: return DType::BF16;
    default: return std::nullopt;
  }
}

}  // namespace nnc
