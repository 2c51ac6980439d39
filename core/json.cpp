#include "core/json.h"

#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace nnc::json {
namespace {

constexpr int kMaxDepth = 64;
constexpr size_t kMaxDocumentBytes = size_t(64) << 20;

}  // namespace

const char* type_name(Type type) {
  switch (type) {
    case Type::Null: return "null";
    case Type::Bool: return "a boolean";
    case Type::Number: return "a number";
    case Type::String: return "a string";
    case Type::Array: return "an array";
    case Type::Object: return "an object";
  }
  return "?";
}

// Recursive descent over the text; `where` paths are built as values are made, so an accessor's
// error can name the element without a back pointer to the document.
class Parser {
 public:
  Parser(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

  Value document() {
    if (text_.size() > kMaxDocumentBytes)
      bad_input("{}: {} bytes, over the {} MiB a JSON document may have", source_, text_.size(), kMaxDocumentBytes >> 20);
    Value v = value(source_, 0);
    skip_space();
    if (pos_ != text_.size()) error("unexpected text after the document");
    return v;
  }

 private:
  std::string_view text_;
  std::string source_;
  size_t pos_ = 0;

  [[noreturn]] void error(const std::string& what) const {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < pos_ && i < text_.size(); ++i) {
      if (text_[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    bad_input("{}:{}:{}: {} (not valid JSON)", source_, line, column, what);
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  Value value(const std::string& where, int depth) {
    if (depth > kMaxDepth) error(fmt::format("nested deeper than {}", kMaxDepth));
    skip_space();
    if (pos_ >= text_.size()) error("unexpected end of the document");
    Value v;
    v.where_ = where;
    const char c = text_[pos_];
    if (c == '{') {
      v.type_ = Type::Object;
      ++pos_;
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return v;
      }
      while (true) {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != '"') error("expected a quoted key");
        std::string key = string();
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] != ':') error(fmt::format("expected ':' after key \"{}\"", key));
        ++pos_;
        if (v.key_index_.count(key)) error(fmt::format("key \"{}\" appears twice", key));
        const std::string child = depth == 0 ? where + ": " + key : where + "." + key;
        v.key_index_[key] = v.items_.size();
        v.items_.push_back(value(child, depth + 1));
        v.keys_.push_back(std::move(key));
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == '}') {
          ++pos_;
          return v;
        }
        error("expected ',' or '}' in an object");
      }
    }
    if (c == '[') {
      v.type_ = Type::Array;
      ++pos_;
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return v;
      }
      while (true) {
        const size_t i = v.items_.size();
        v.items_.push_back(value(depth == 0 ? fmt::format("{}: [{}]", where, i) : fmt::format("{}[{}]", where, i), depth + 1));
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == ']') {
          ++pos_;
          return v;
        }
        error("expected ',' or ']' in an array");
      }
    }
    if (c == '"') {
      v.type_ = Type::String;
      v.string_ = string();
      return v;
    }
    if (consume("true") || consume("false")) {
      v.type_ = Type::Bool;
      v.bool_ = c == 't';
      return v;
    }
    if (consume("null")) return v;
    if (c == '-' || (c >= '0' && c <= '9')) {
      v.type_ = Type::Number;
      v.number_ = number();
      return v;
    }
    error(fmt::format("unexpected character '{}'", c));
  }

  double number() {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ > from;
    };
    if (text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      error("a number needs digits");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) error("a number needs digits after '.'");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) error("a number needs digits in its exponent");
    }
    const std::string literal(text_.substr(start, pos_ - start));
    const double value = std::strtod(literal.c_str(), nullptr);
    if (!std::isfinite(value)) error(fmt::format("number {} is out of range", literal));
    return value;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  uint32_t hex4() {
    if (pos_ + 4 > text_.size()) error("a \\u escape needs four hex digits");
    uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = text_[pos_++];
      cp <<= 4;
      if (h >= '0' && h <= '9') cp |= uint32_t(h - '0');
      else if (h >= 'a' && h <= 'f') cp |= uint32_t(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') cp |= uint32_t(h - 'A' + 10);
      else error("a \\u escape needs four hex digits");
    }
    return cp;
  }

  std::string string() {
    ++pos_;  // the opening quote
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) error("unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (uint8_t(c) < 0x20) error("control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) error("unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {  // a surrogate pair
            if (!consume("\\u")) error("a high surrogate must be followed by a low one");
            const uint32_t low = hex4();
            if (low < 0xDC00 || low >= 0xE000) error("a high surrogate must be followed by a low one");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            error("a lone low surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: error(fmt::format("unknown escape '\\{}'", e));
      }
    }
  }
};

void Value::fail(const std::string& message) const { bad_input("{}: {}", where_, message); }

void Value::expect(Type t) const {
  if (type_ != t) fail(fmt::format("expected {}, got {}", type_name(t), type_name(type_)));
}

bool Value::as_bool() const {
  expect(Type::Bool);
  return bool_;
}

double Value::as_number() const {
  expect(Type::Number);
  return number_;
}

int64_t Value::as_int(int64_t lo, int64_t hi) const {
  const double v = as_number();
  if (v != std::floor(v) || v < double(lo) || v > double(hi))
    fail(fmt::format("expected an integer in [{}, {}], got {}", lo, hi, v));
  return int64_t(v);
}

const std::string& Value::as_string() const {
  expect(Type::String);
  return string_;
}

size_t Value::size() const {
  expect(Type::Array);
  return items_.size();
}

const Value& Value::operator[](size_t i) const {
  expect(Type::Array);
  if (i >= items_.size()) fail(fmt::format("has {} elements, index {} is past the end", items_.size(), i));
  return items_[i];
}

bool Value::has(const std::string& key) const {
  expect(Type::Object);
  return key_index_.count(key) > 0;
}

const Value& Value::at(const std::string& key) const {
  expect(Type::Object);
  const auto it = key_index_.find(key);
  if (it == key_index_.end()) fail(fmt::format("has no \"{}\"", key));
  return items_[it->second];
}

const std::vector<std::string>& Value::keys() const {
  expect(Type::Object);
  return keys_;
}

std::vector<double> Value::numbers(size_t count) const {
  expect(Type::Array);
  if (count && items_.size() != count) fail(fmt::format("expected {} numbers, got {}", count, items_.size()));
  std::vector<double> out;
  out.reserve(items_.size());
  for (const Value& item : items_) out.push_back(item.as_number());
  return out;
}

std::vector<double> Value::matrix(size_t rows, size_t cols) const {
  expect(Type::Array);
  if (items_.size() != rows) fail(fmt::format("expected a {}x{} matrix ({} rows), got {} rows", rows, cols, rows, items_.size()));
  std::vector<double> out;
  out.reserve(rows * cols);
  for (const Value& row : items_)
    for (const double v : row.numbers(cols)) out.push_back(v);
  return out;
}

Value parse(std::string_view text, const std::string& source) { return Parser(text, source).document(); }

std::string quote(std::string_view s) {
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

}  // namespace nnc::json
