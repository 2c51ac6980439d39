// tools/cli/json.h — the two pieces of JSON the --json outputs (bench, compare) need: a quoted,
// escaped string and a number that stays valid JSON when it is not finite.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include <fmt/format.h>

#include "core/json.h"

namespace nnc::cli {

inline std::string json_string(const std::string& s) { return json::quote(s); }

// NaN becomes null; an infinity 1e999, which JSON parsers read as one.
inline std::string json_number(double v) {
  if (std::isnan(v)) return "null";
  if (std::isinf(v)) return v > 0 ? "1e999" : "-1e999";
  return fmt::format("{:.6g}", v);
}

}  // namespace nnc::cli
