// tools/cli/args.h — a tiny command-line parser: options and positionals, with usage errors.
//
// Options are declared up front so a typo ("--inptu") is an error (exit 2), not ignored.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace nnc::cli {

class Args {
 public:
  // `flags` take no value (--json); `options` take one (--input X), possibly repeated.
  Args(std::vector<std::string> argv, std::set<std::string> flags, std::set<std::string> options);

  bool flag(const std::string& name) const { return flags_.contains(name); }
  bool has(const std::string& name) const { return values_.contains(name); }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  const std::vector<std::string>& all(const std::string& name) const;
  int get_int(const std::string& name, int fallback, int min_value, int max_value) const;
  double get_double(const std::string& name, double fallback) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  bool help() const { return flag("--help") || flag("-h"); }

 private:
  std::set<std::string> flags_;
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

// Throws a BadInput error prefixed "usage: " (exit code 2).
template <typename... Args>
[[noreturn]] void usage_error(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(ErrorKind::BadInput, "usage: " + fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace nnc::cli
