// tools/cli/json.h — the two pieces of JSON the --json outputs (bench, compare) need: a quoted,
// escaped string and a number that stays valid JSON when it is not finite.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include <fmt/format.h>

namespace nnc::cli {

inline std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (uint8_t(c) < 0x20) {
      out += fmt::format("\\u{:04x}", int(c));
      continue;
    }
    out += c;
  }
  return out + "\"";
}

// NaN becomes null; an infinity 1e999, which JSON parsers read as one.
inline std::string json_number(double v) {
  if (std::isnan(v)) return "null";
  if (std::isinf(v)) return v > 0 ? "1e999" : "-1e999";
  return fmt::format("{:.6g}", v);
}

}  // namespace nnc::cli
