// core/ir_parse.cpp — IR text -> Graph (format in core/ir_text.h).
//
// A line-oriented recursive-descent parser. Each error names the line and column. Subgraph
// blocks are the lines between a `{` line and its matching `}` line, parsed recursively.
// Hand-written constants may use `random(seed=N)` (uniform in [-1, 1], a fixed generator so
// tests are reproducible everywhere) or `fill(V)`.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "core/ir_text.h"
#include "core/limits.h"

namespace nnc {
namespace {

struct Line {
  int number;
  std::string text;
};

class LineParser {
 public:
  LineParser(const Line& line, const std::string& source) : line_(line), source_(source) {}

  template <typename... Args>
  [[noreturn]] void error(fmt::format_string<Args...> format, Args&&... args) const {
    throw Error(ErrorKind::BadInput, fmt::format("{}: line {}:{}: {}", source_, line_.number, pos_ + 1,
                                                 fmt::format(format, std::forward<Args>(args)...)));
  }
  void skip_spaces() {
    while (pos_ < text().size() && (text()[pos_] == ' ' || text()[pos_] == '\t')) ++pos_;
  }
  bool at_end() {
    skip_spaces();
    return pos_ >= text().size() || text()[pos_] == '#';
  }
  char peek() {
    skip_spaces();
    return pos_ < text().size() ? text()[pos_] : '\0';
  }
  bool accept(std::string_view s) {
    skip_spaces();
    if (text().compare(pos_, s.size(), s) != 0) return false;
    pos_ += s.size();
    return true;
  }
  void expect(std::string_view s) {
    if (!accept(s)) error("expected '{}'", s);
  }
  std::string word() {  // identifier-like token: letters, digits, _ . : / -
    skip_spaces();
    const size_t start = pos_;
    while (pos_ < text().size() && (std::isalnum(uint8_t(text()[pos_])) || std::string_view("_.:/-").find(text()[pos_]) != std::string_view::npos))
      ++pos_;
    if (start == pos_) error("expected a name");
    return text().substr(start, pos_ - start);
  }
  std::string quoted() {
    expect("\"");
    std::string out;
    while (pos_ < text().size() && text()[pos_] != '"') {
      char c = text()[pos_++];
      if (c == '\\' && pos_ < text().size()) {
        c = text()[pos_++];
        if (c == 'n') c = '\n';
      }
      out += c;
    }
    if (pos_ >= text().size()) error("unterminated string");
    ++pos_;
    return out;
  }
  std::string name() { return peek() == '"' ? quoted() : word(); }
  double number() {
    skip_spaces();
    const char* begin = text().c_str() + pos_;
    if (accept("nan")) return NAN;
    if (accept("inf")) return INFINITY;
    if (accept("-inf")) return -INFINITY;
    char* end = nullptr;
    const double v = std::strtod(begin, &end);
    if (end == begin) error("expected a number");
    pos_ += size_t(end - begin);
    return v;
  }
  // The raw text of a number, to tell ints ("3") from floats ("3.0").
  std::string number_text() {
    skip_spaces();
    const size_t start = pos_;
    number();
    return text().substr(start, pos_ - start);
  }
  std::string rest() {
    skip_spaces();
    return text().substr(pos_);
  }
  size_t position() const { return pos_; }
  std::string where() const { return fmt::format("{}: line {}:{}", source_, line_.number, pos_ + 1); }
  const std::string& text() const { return line_.text; }

 private:
  const Line& line_;
  const std::string& source_;
  size_t pos_ = 0;
};

bool is_float_text(const std::string& s) { return s.find_first_of(".eEn") != std::string::npos; }

TensorType parse_type(LineParser& p) {
  const std::string dtype_text = p.word();
  const std::optional<DType> dtype = parse_dtype(dtype_text);
  if (!dtype) p.error("unknown element type '{}'", dtype_text);
  TensorType type{*dtype, Shape()};
  p.expect("[");
  if (p.accept("*")) {
    p.expect("]");
    type.shape = Shape::unknown_rank();
    return type;
  }
  std::vector<Dim> dims;
  while (!p.accept("]")) {
    if (!dims.empty()) p.expect(",");
    if (p.accept("?")) dims.emplace_back();
    else if (std::isdigit(uint8_t(p.peek()))) {
      const double d = p.number();
      if (d < 0 || d > 1e15 || d != std::floor(d)) p.error("bad dimension {}", d);
      dims.emplace_back(int64_t(d));
    } else {
      dims.push_back(Dim::named(p.word()));
    }
    if (int64_t(dims.size()) > resource_limits().max_rank) check_limit(p.where() + ": a type's rank", "rank", dims.size());
  }
  type.shape = Shape(std::move(dims));
  return type;
}

Tensor literal_tensor(LineParser& p, const TensorType& type) {
  Tensor t(type.dtype, type.shape.concrete());
  p.expect("[");
  int64_t i = 0;
  while (!p.accept("]")) {
    if (i > 0) p.expect(",");
    double v;
    if (p.accept("true")) v = 1;
    else if (p.accept("false")) v = 0;
    else v = p.number();
    if (i >= t.numel()) p.error("more values than {} holds", to_string(type));
    visit_dtype(t.dtype(), [&]<typename T>() { t.data<T>()[i] = from_double<T>(v); });
    ++i;
  }
  if (i != t.numel()) p.error("{} values given but {} holds {}", i, to_string(type), t.numel());
  return t;
}

AttrValue parse_attr_value(LineParser& p) {
  const char c = p.peek();
  if (c == '"') return p.quoted();
  if (p.accept("<graph>")) return std::shared_ptr<Graph>();  // filled from the block that follows
  if (p.accept("floats[]")) return std::vector<float>{};
  if (p.accept("strings[]")) return std::vector<std::string>{};
  if (p.accept("tensor<")) {
    const TensorType type = parse_type(p);
    p.expect(">");
    if (!type.shape.fully_known()) p.error("tensor attributes need a concrete shape");
    if (p.accept("blob")) p.error("tensor attribute data was summarised and cannot be parsed back");
    return literal_tensor(p, type);
  }
  if (p.accept("[")) {
    if (p.accept("]")) return std::vector<int64_t>{};
    if (p.peek() == '"') {
      std::vector<std::string> out{p.quoted()};
      while (p.accept(",")) out.push_back(p.quoted());
      p.expect("]");
      return out;
    }
    std::vector<std::string> texts{p.number_text()};
    while (p.accept(",")) texts.push_back(p.number_text());
    p.expect("]");
    if (std::any_of(texts.begin(), texts.end(), is_float_text)) {
      std::vector<float> out;
      for (const std::string& s : texts) out.push_back(float(std::strtod(s.c_str(), nullptr)));
      return out;
    }
    std::vector<int64_t> out;
    for (const std::string& s : texts) out.push_back(std::strtoll(s.c_str(), nullptr, 10));
    return out;
  }
  const std::string text = p.number_text();
  if (is_float_text(text)) return float(std::strtod(text.c_str(), nullptr));
  return int64_t(std::strtoll(text.c_str(), nullptr, 10));
}

class GraphParser {
 public:
  GraphParser(const std::vector<Line>& lines, const std::string& source) : lines_(lines), source_(source) {}

  Graph parse(size_t& index, size_t end);

 private:
  ValueId operand(Graph& g, LineParser& p);
  void parse_node(Graph& g, LineParser& p, size_t& index, size_t end);
  size_t block_end(size_t open, size_t end);

  const std::vector<Line>& lines_;
  const std::string& source_;
  int64_t depth_ = 0;             // subgraph nesting of the graph being parsed
  uint64_t nodes_ = 0;            // nodes so far, subgraphs included
  uint64_t constant_bytes_ = 0;   // bytes of constants so far
};

ValueId GraphParser::operand(Graph& g, LineParser& p) {
  if (p.accept("_")) return kNoValue;
  const bool is_const = p.accept("@");
  if (!is_const) p.expect("%");
  const std::string name = p.name();
  const ValueId id = g.find(name);
  if (id == kNoValue) p.error("'{}{}' is not defined above", is_const ? '@' : '%', name);
  if (is_const != g.is_const(id)) p.error("'{}' is {}, write it as {}{}", name, is_const ? "not a constant" : "a constant", is_const ? '%' : '@', name);
  return id;
}

size_t GraphParser::block_end(size_t open, size_t end) {
  int depth = 0;
  for (size_t i = open; i < end; ++i) {
    LineParser p(lines_[i], source_);
    if (p.accept("{") && p.at_end()) ++depth;
    else {
      LineParser q(lines_[i], source_);
      if (q.accept("}") && q.at_end() && --depth == 0) return i;
    }
  }
  LineParser p(lines_[open], source_);
  p.error("'{{' has no matching '}}'");
}

void GraphParser::parse_node(Graph& g, LineParser& p, size_t& index, size_t end) {
  std::vector<std::string> output_names;
  do {
    if (p.accept("_")) output_names.emplace_back();
    else {
      p.expect("%");
      output_names.push_back(p.name());
    }
  } while (p.accept(","));
  std::vector<std::optional<TensorType>> types;
  do {
    if (p.accept("_")) types.emplace_back();
    else types.push_back(parse_type(p));
  } while (p.accept(","));
  if (types.size() != output_names.size()) p.error("{} outputs but {} types", output_names.size(), types.size());
  p.expect("=");
  const std::string op_text = p.word();
  const std::optional<OpKind> op = parse_op_kind(op_text);
  if (!op) p.error("unknown op '{}'", op_text);

  // Operands start with % or @, or are `_` (omitted) -- an attribute name is followed by '='.
  std::vector<ValueId> inputs;
  auto at_operand = [&] {
    const char c = p.peek();
    if (c == '%' || c == '@') return true;
    const size_t next = p.position() + 1;
    return c == '_' && (next >= p.text().size() || p.text()[next] == ',' || p.text()[next] == ' ');
  };
  if (at_operand()) {
    inputs.push_back(operand(g, p));
    while (p.accept(",")) inputs.push_back(operand(g, p));
  }
  std::vector<Attribute> attrs;
  while (!p.at_end()) {
    const std::string attr_name = p.word();
    p.expect("=");
    attrs.push_back({attr_name, parse_attr_value(p)});
  }
  std::vector<std::string> sources;
  if (p.accept("#")) {
    std::string comment = p.rest();
    if (comment.starts_with("from ")) {
      comment = comment.substr(5);
      size_t start = 0;
      while (start <= comment.size()) {
        const size_t comma = comment.find(", ", start);
        sources.push_back(comment.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 2;
      }
    }
  }

  std::vector<ValueId> outputs;
  for (size_t i = 0; i < output_names.size(); ++i) {
    if (output_names[i].empty()) {
      outputs.push_back(kNoValue);
      continue;
    }
    if (g.find(output_names[i]) != kNoValue) p.error("'%{}' is already defined", output_names[i]);
    outputs.push_back(g.add_value(output_names[i], types[i] ? *types[i] : TensorType{}));
  }
  check_limit(p.where() + ": the node count", "nodes", ++nodes_);
  const std::string node_name = output_names[0].empty() ? g.unique_node_name(std::string(op_name(*op))) : output_names[0];
  Node& node = g.add_node(*op, node_name, std::move(inputs), std::move(outputs), std::move(attrs));
  node.sources = sources.empty() ? std::vector<std::string>{node_name} : sources;

  // Subgraph blocks follow, one per <graph> attribute, in attribute order.
  for (Attribute& a : node.attrs) {
    auto* sub = std::get_if<std::shared_ptr<Graph>>(&a.value);
    if (!sub) continue;
    ++index;
    LineParser open(lines_[std::min(index, lines_.size() - 1)], source_);
    if (index >= end || !open.accept("{") || !open.at_end()) open.error("expected a '{{' block for attribute '{}'", a.name);
    // Checked before the block is searched and recursed into: nesting is what recursion costs.
    ++depth_;
    check_limit(fmt::format("{}: line {}: subgraph nesting depth", source_, lines_[index].number), "subgraph depth",
                uint64_t(depth_));
    const size_t close = block_end(index, end);
    size_t inner = index + 1;
    *sub = std::make_shared<Graph>(parse(inner, close));
    --depth_;
    index = close;
  }
}

Graph GraphParser::parse(size_t& index, size_t end) {
  Graph g;
  // Header.
  while (index < end && LineParser(lines_[index], source_).at_end()) ++index;
  if (index >= end) throw Error(ErrorKind::BadInput, fmt::format("{}: expected 'graph NAME opset=N'", source_));
  {
    LineParser p(lines_[index], source_);
    if (p.word() != "graph") p.error("expected 'graph NAME opset=N'");
    g.name = p.name();
    p.expect("opset=");
    const double opset = p.number();
    if (!(opset >= 1 && opset <= 1000) || opset != std::floor(opset)) p.error("bad opset {}", opset);
    g.opset = int(opset);
    if (!p.at_end()) p.error("unexpected text after the graph header");
  }
  bool returned = false;
  for (++index; index < end; ++index) {
    LineParser p(lines_[index], source_);
    if (p.at_end()) continue;
    if (returned) p.error("text after 'return'");
    const char c = p.peek();
    if (c == '%' || c == '_') {
      parse_node(g, p, index, end);
      continue;
    }
    const std::string keyword = p.word();
    if (keyword == "input" || keyword == "outer") {
      p.expect("%");
      const std::string name = p.name();
      if (g.find(name) != kNoValue) p.error("'%{}' is already defined", name);
      const TensorType type = parse_type(p);
      if (keyword == "input") g.add_input(name, type);
      else g.add_outer(name, type);
    } else if (keyword == "const") {
      p.expect("@");
      const std::string name = p.name();
      if (g.find(name) != kNoValue) p.error("'@{}' is already defined", name);
      const TensorType type = parse_type(p);
      const size_t data_start = p.position();
      if (p.accept("blob:")) {
        const std::string text = "blob:" + p.rest();
        const ValueId id = g.add_const(name, Tensor(), text);
        g.value(id).type = type;
        g.value(id).data.reset();  // summarised: data is not available
        continue;
      }
      if (!type.shape.fully_known()) p.error("constants need a concrete shape, got {}", to_string(type));
      const int64_t numel = checked_numel(type.shape.concrete(), type.dtype, p.where() + ": @" + name);
      constant_bytes_ += uint64_t(numel) * dtype_size(type.dtype);
      check_limit(p.where() + ": the bytes of the graph's constants", "graph bytes", constant_bytes_);
      Tensor data;
      if (p.accept("random(seed=")) {
        const double seed = p.number();
        if (!(seed >= 0 && seed <= 9007199254740992.0) || seed != std::floor(seed))
          p.error("random(seed=N) needs a whole number N from 0 to 2^53, got {}", seed);
        p.expect(")");
        data = random_tensor(type.dtype, type.shape.concrete(), uint64_t(seed));
      } else if (p.accept("fill(")) {
        const double v = p.number();
        p.expect(")");
        data = Tensor(type.dtype, type.shape.concrete());
        visit_dtype(type.dtype, [&]<typename T>() {
          for (int64_t i = 0; i < data.numel(); ++i) data.data<T>()[i] = from_double<T>(v);
        });
      } else {
        data = literal_tensor(p, type);
      }
      std::string text = p.text().substr(data_start);
      const size_t first = text.find_first_not_of(" \t");
      text = first == std::string::npos ? "" : text.substr(first);
      while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
      // Keep how random/fill were written; literals are re-printed canonically.
      const bool generated = text.starts_with("random(") || text.starts_with("fill(");
      g.add_const(name, std::move(data), generated ? text : "");
      if (!p.at_end()) p.error("unexpected text after the constant");
    } else if (keyword == "return") {
      if (!p.at_end()) {
        do {
          g.outputs.push_back(operand(g, p));
          if (g.outputs.back() == kNoValue) p.error("a graph output cannot be omitted");
        } while (p.accept(","));
      }
      if (!p.at_end()) p.error("unexpected text after 'return'");
      returned = true;
    } else {
      p.error("expected 'input', 'const', 'outer', a node ('%out type = Op ...') or 'return'; got '{}'", keyword);
    }
  }
  if (!returned) throw Error(ErrorKind::BadInput, fmt::format("{}: graph '{}' has no 'return' line", source_, g.name));
  return g;
}

}  // namespace

Graph parse_ir(const std::string& text, const std::string& source_name) {
  std::vector<Line> lines;
  size_t start = 0;
  int number = 1;
  while (start <= text.size()) {
    size_t newline = text.find('\n', start);
    if (newline == std::string::npos) newline = text.size();
    std::string line = text.substr(start, newline - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back({number++, std::move(line)});
    start = newline + 1;
  }
  GraphParser parser(lines, source_name);
  size_t index = 0;
  Graph g = parser.parse(index, lines.size());
  return g;
}

}  // namespace nnc
