// passes/pass_report.h — what a pass returns: how many rewrites it made, and why it refused
// the others. The pass manager prints it (-v: summary, -vv: every rewrite and refusal).
#pragma once

#include <string>
#include <vector>

#include "core/graph.h"

namespace nnc {

class PassReport {
 public:
  explicit PassReport(std::string pass_name) : pass_(std::move(pass_name)) {}

  template <typename... Args>
  void rewrote(const Node& node, fmt::format_string<Args...> format, Args&&... args) {
    ++rewrites_;
    notes_.push_back(fmt::format("rewrote '{}': {}", node.name, fmt::format(format, std::forward<Args>(args)...)));
  }
  template <typename... Args>
  void refused(const Node& node, fmt::format_string<Args...> format, Args&&... args) {
    notes_.push_back(fmt::format("refused '{}': {}", node.name, fmt::format(format, std::forward<Args>(args)...)));
  }
  // Something else worth telling (--explain), that is neither a rewrite nor a refusal.
  template <typename... Args>
  void note(fmt::format_string<Args...> format, Args&&... args) {
    notes_.push_back(fmt::format(format, std::forward<Args>(args)...));
  }
  // The graph changed in a way not counted as a rewrite (e.g. constants merged or dropped).
  void count_change() { extra_change_ = true; }
  template <typename... Args>
  void summary(fmt::format_string<Args...> format, Args&&... args) {
    summary_ = fmt::format(format, std::forward<Args>(args)...);
  }

  const std::string& pass() const { return pass_; }
  int rewrites() const { return rewrites_; }
  bool changed() const { return rewrites_ > 0 || extra_change_; }
  const std::vector<std::string>& notes() const { return notes_; }
  const std::string& summary_text() const { return summary_; }
  double milliseconds() const { return milliseconds_; }
  void set_milliseconds(double ms) { milliseconds_ = ms; }

 private:
  std::string pass_;
  int rewrites_ = 0;
  bool extra_change_ = false;
  std::vector<std::string> notes_;
  std::string summary_;
  double milliseconds_ = 0;
};

}  // namespace nnc
