#include "tools/cli/args.h"

#include <charconv>

namespace nnc::cli {

Args::Args(std::vector<std::string> argv, std::set<std::string> flags, std::set<std::string> options) {
  flags.insert("--help");
  flags.insert("-h");
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string arg = argv[i];
    if (arg.size() > 1 && arg[0] == '-' && !(arg.size() > 1 && std::isdigit(uint8_t(arg[1])))) {
      std::string value;
      bool has_inline_value = false;
      if (const size_t eq = arg.find('='); eq != std::string::npos && arg.starts_with("--")) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline_value = true;
      }
      if (flags.contains(arg) && !has_inline_value) {
        flags_.insert(arg);
      } else if (options.contains(arg)) {
        if (!has_inline_value) {
          if (i + 1 >= argv.size()) usage_error("{} needs a value", arg);
          value = argv[++i];
        }
        values_[arg].push_back(value);
      } else {
        usage_error("unknown option '{}' (see --help)", arg);
      }
    } else {
      positionals_.push_back(arg);
    }
  }
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  const auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

const std::vector<std::string>& Args::all(const std::string& name) const {
  static const std::vector<std::string> kNone;
  const auto it = values_.find(name);
  return it == values_.end() ? kNone : it->second;
}

int Args::get_int(const std::string& name, int fallback, int min_value, int max_value) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    usage_error("{} expects an integer, got '{}'", name, text);
  if (v < min_value || v > max_value) usage_error("{} must be between {} and {}, got {}", name, min_value, max_value, v);
  return v;
}

double Args::get_double(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  const std::string text = get(name);
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || text.empty()) usage_error("{} expects a number, got '{}'", name, text);
  return v;
}

}  // namespace nnc::cli
