// backends/cpu/timing_cache.cpp — see timing_cache.h.
#include "backends/cpu/timing_cache.h"

#include <fstream>
#include <sstream>

#include "backends/cpu/cpu_info.h"
#include "backends/cpu/thread_pool.h"
#include "core/ir_text.h"

namespace nnc::cpu {
namespace {

constexpr const char* kHeader = "nnc-timing-cache 1";

std::string without_separators(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(text);
  while (std::getline(in, part, separator)) parts.push_back(part);
  return parts;
}

// Ends every signature: a new nnc may time its kernels differently, so its entries are its own.
std::string version_tag() { return std::string("nnc ") + NNC_VERSION; }

}  // namespace

std::string TimingCache::signature(const Graph& graph, const Node& node) {
  std::string s = std::string(op_name(node.op)) + "(";
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (i) s += ", ";
    if (node.inputs[i] == kNoValue) continue;
    const Value& v = graph.value(node.inputs[i]);
    s += (v.kind == ValueKind::Const ? "const " : "") + to_string(v.type);
  }
  s += ")";
  for (const Attribute& a : node.attrs) s += " " + a.name + "=" + attribute_text(a.value);
  const CpuInfo& cpu = cpu_info();
  s += fmt::format(" on {} {} x{} {}", cpu.model, isa_name(cpu.isa), thread_count(), version_tag());
  return without_separators(s);
}

const TimingCache::Entry* TimingCache::find(const std::string& signature) const {
  const auto it = entries_.find(signature);
  return it == entries_.end() ? nullptr : &it->second;
}

TimingCache TimingCache::load(const std::filesystem::path& path) {
  TimingCache cache;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return cache;
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line != kHeader) {
    cache.warnings_.push_back(fmt::format("{}: not an nnc timing cache (first line is not '{}'); it will be rewritten",
                                          path.string(), kHeader));
    return cache;
  }
  int stale = 0;
  for (int number = 2; std::getline(in, line); ++number) {
    const std::vector<std::string> fields = split(line, '\t');
    bool ok = fields.size() == 3 && !fields[0].empty() && !fields[1].empty();
    Entry entry;
    if (ok) entry.chosen = fields[1];
    for (const std::string& item : ok ? split(fields[2], ',') : std::vector<std::string>{}) {
      const size_t eq = item.rfind('=');
      char* end = nullptr;
      const double ms = eq == std::string::npos ? 0 : std::strtod(item.c_str() + eq + 1, &end);
      if (eq == std::string::npos || eq == 0 || !end || *end != 0) {
        ok = false;
        break;
      }
      entry.candidates.push_back({item.substr(0, eq), ms, ""});
    }
    if (!ok) {
      cache.warnings_.push_back(fmt::format("{}:{}: skipped a line that is not a timing-cache entry", path.string(), number));
      continue;
    }
    if (!fields[0].ends_with(" " + version_tag())) ++stale;
    cache.entries_[fields[0]] = std::move(entry);
  }
  if (stale > 0)
    cache.warnings_.push_back(fmt::format("{}: {} entries were written by another nnc version; they are kept in the "
                                          "file but not used (their layers are timed again)",
                                          path.string(), stale));
  return cache;
}

void TimingCache::save(const std::filesystem::path& path) const {
  const std::filesystem::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << kHeader << "\n";
    for (const auto& [signature, entry] : entries_) {
      out << signature << "\t" << entry.chosen << "\t";
      for (size_t i = 0; i < entry.candidates.size(); ++i)
        out << (i ? "," : "") << entry.candidates[i].tactic << "=" << fmt::format("{:.4f}", entry.candidates[i].median_ms);
      out << "\n";
    }
    if (!out) fail(ErrorKind::Runtime, "--timing-cache: cannot write {}", temporary.string());
  }
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec) fail(ErrorKind::Runtime, "--timing-cache: cannot replace {}: {}", path.string(), ec.message());
}

}  // namespace nnc::cpu
