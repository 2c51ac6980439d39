// core/ir_print.cpp — Graph -> IR text (format in core/ir_text.h).
//
// Columns are aligned per graph so shapes and ops read down the page; a column wider than
// kMaxAlignedWidth is not padded to, so one long operand list does not push every line right.
#include <algorithm>
#include <array>
#include <cmath>

#include "core/ir_text.h"

namespace nnc {
namespace {

constexpr size_t kMaxAlignedWidth = 48;
constexpr int64_t kMaxLiteralElements = 8;

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string name_token(char sigil, std::string_view name) {
  return std::string(1, sigil) + (is_bare_name(name) ? std::string(name) : quote(name));
}

std::string value_token(const Graph& g, ValueId id) {
  if (id == kNoValue) return "_";
  const Value& v = g.value(id);
  return name_token(v.kind == ValueKind::Const ? '@' : '%', v.name);
}

// Floats always show a '.' or exponent so the parser can tell them from ints.
std::string float_text(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", float(v));
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

std::string element_text(const Tensor& t, int64_t i) {
  if (t.dtype() == DType::Bool) return t.get_int(i) ? "true" : "false";
  if (is_float(t.dtype())) return float_text(t.get_double(i));
  return fmt::format("{}", t.get_int(i));
}

std::string literal_text(const Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.numel(); ++i) s += (i ? ", " : "") + element_text(t, i);
  return s + "]";
}

std::string summary_number(const Tensor& t, double v) {
  if (is_float(t.dtype())) return fmt::format("{:.3g}", v);
  return fmt::format("{}", int64_t(v));
}

std::string data_text(const Value& v) {
  if (!v.data_text.empty()) return v.data_text;
  if (!v.data) return "?";
  const Tensor& t = *v.data;
  if (t.numel() <= kMaxLiteralElements) return literal_text(t);
  double lo = INFINITY, hi = -INFINITY;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const double x = t.get_double(i);
    if (std::isnan(x)) continue;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  return fmt::format("blob:{:08x} [{}, {}]", crc32(t.bytes(), t.nbytes()), summary_number(t, lo), summary_number(t, hi));
}

std::string attr_text(const AttrValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, int64_t>) return fmt::format("{}", v);
        else if constexpr (std::is_same_v<T, float>) return float_text(v);
        else if constexpr (std::is_same_v<T, std::string>) return quote(v);
        else if constexpr (std::is_same_v<T, std::vector<int64_t>>) return fmt::format("[{}]", fmt::join(v, ","));
        else if constexpr (std::is_same_v<T, std::vector<float>>) {
          if (v.empty()) return "floats[]";
          std::string s = "[";
          for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + float_text(v[i]);
          return s + "]";
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          if (v.empty()) return "strings[]";
          std::string s = "[";
          for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + quote(v[i]);
          return s + "]";
        } else if constexpr (std::is_same_v<T, Tensor>) {
          return fmt::format("tensor<{}>{}", to_string(v.type()), v.numel() <= 64 ? literal_text(v) : "blob");
        } else {
          return "<graph>";
        }
      },
      value);
}

void pad_to(std::string& line, size_t width) {
  if (line.size() < width) line.append(width - line.size(), ' ');
}

struct NodeColumns {
  std::string outputs, types, op, operands, attrs, comment;
};

void print_graph(const Graph& g, const std::string& indent, std::string& out) {
  out += fmt::format("{}graph {} opset={}\n", indent, is_bare_name(g.name) ? g.name : quote(g.name), g.opset);

  // Declarations: inputs, captured values, constants.
  struct Decl {
    std::string keyword, name, type, data;
  };
  std::vector<Decl> decls;
  for (ValueId id : g.inputs) decls.push_back({"input", value_token(g, id), to_string(g.type(id)), ""});
  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].kind == ValueKind::Outer) decls.push_back({"outer", value_token(g, ValueId(i)), to_string(g.values[i].type), ""});
  for (ValueId id : g.consts()) decls.push_back({"const", value_token(g, id), to_string(g.type(id)), data_text(g.value(id))});
  size_t name_width = 0, type_width = 0;
  for (const Decl& d : decls) {
    name_width = std::max(name_width, std::min(d.name.size(), kMaxAlignedWidth));
    type_width = std::max(type_width, std::min(d.type.size(), kMaxAlignedWidth));
  }
  for (const Decl& d : decls) {
    std::string line = indent + d.keyword + "  ";
    line += d.name;
    pad_to(line, indent.size() + 7 + name_width);
    line += "  " + d.type;
    if (!d.data.empty()) {
      pad_to(line, indent.size() + 9 + name_width + type_width);
      line += "  " + d.data;
    }
    out += line + "\n";
  }
  if (!decls.empty() && !g.nodes.empty()) out += "\n";

  std::vector<NodeColumns> rows;
  for (const Node& n : g.nodes) {
    NodeColumns r;
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      r.outputs += (i ? ", " : "") + value_token(g, n.outputs[i]);
      r.types += (i ? ", " : "") + (n.outputs[i] == kNoValue ? std::string("_") : to_string(g.type(n.outputs[i])));
    }
    r.op = std::string(op_name(n.op));
    for (size_t i = 0; i < n.inputs.size(); ++i) r.operands += (i ? ", " : "") + value_token(g, n.inputs[i]);
    for (size_t i = 0; i < n.attrs.size(); ++i)
      r.attrs += (i ? " " : "") + n.attrs[i].name + "=" + attr_text(n.attrs[i].value);
    const bool own_name_only = n.sources.size() == 1 && !n.outputs.empty() && n.outputs[0] != kNoValue &&
                               (n.sources[0] == g.value(n.outputs[0]).name || sanitize_name(n.sources[0]) == g.value(n.outputs[0]).name);
    if (!n.sources.empty() && !own_name_only) r.comment = fmt::format("# from {}", fmt::join(n.sources, ", "));
    rows.push_back(std::move(r));
  }
  std::array<size_t, 5> width{};
  for (const NodeColumns& r : rows) {
    const std::array<size_t, 5> sizes{r.outputs.size(), r.types.size(), r.op.size(), r.operands.size(), r.attrs.size()};
    for (size_t c = 0; c < 5; ++c)
      if (sizes[c] <= kMaxAlignedWidth) width[c] = std::max(width[c], sizes[c]);
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const NodeColumns& r = rows[i];
    std::string line = indent + r.outputs;
    pad_to(line, indent.size() + width[0]);
    line += "  " + r.types;
    pad_to(line, indent.size() + width[0] + 2 + width[1]);
    line += "  = " + r.op;
    size_t column = indent.size() + width[0] + 2 + width[1] + 4 + width[2];
    if (!r.operands.empty() || !r.attrs.empty() || !r.comment.empty()) {
      pad_to(line, column);
      line += "  " + r.operands;
    }
    column += 2 + width[3];
    if (!r.attrs.empty() || !r.comment.empty()) {
      pad_to(line, column);
      line += "  " + r.attrs;
    }
    column += 2 + width[4];
    if (!r.comment.empty()) {
      pad_to(line, column);
      line += "  " + r.comment;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    for (const Attribute& a : g.nodes[i].attrs)
      if (const auto* sub = std::get_if<std::shared_ptr<Graph>>(&a.value)) {
        out += indent + "  {\n";
        if (*sub) print_graph(**sub, indent + "    ", out);
        out += indent + "  }\n";
      }
  }
  std::string ret = indent + "return";
  for (size_t i = 0; i < g.outputs.size(); ++i) ret += (i ? ", " : " ") + value_token(g, g.outputs[i]);
  out += ret + "\n";
}

}  // namespace

bool is_bare_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name)
    if (!(std::isalnum(uint8_t(c)) || c == '_' || c == '.' || c == ':' || c == '/' || c == '-')) return false;
  return true;
}

std::string sanitize_name(std::string_view onnx_name) {
  while (!onnx_name.empty() && onnx_name.front() == '/') onnx_name.remove_prefix(1);
  std::string out;
  for (char c : onnx_name) out += c == '/' ? '.' : (std::isalnum(uint8_t(c)) || c == '_' || c == '.' || c == ':' || c == '-') ? c : '_';
  return out.empty() ? "_" : out;
}

uint32_t crc32(const void* data, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xffffffffu;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

std::string print_ir(const Graph& graph) {
  std::string out;
  print_graph(graph, "", out);
  return out;
}

std::string attribute_text(const AttrValue& value) { return attr_text(value); }

}  // namespace nnc
