// core/json.h — a small JSON reader for the files users hand nnc (scene.json): a document tree,
// and accessors that say what is wrong and where ("scene.json: cameras[2].intrinsics[1]: expected
// 3 numbers, got 2").
//
// Strict RFC 8259: no comments, no trailing commas, no NaN; numbers are doubles. Hostile input is
// bounded: nesting deeper than 64 and documents over 64 MiB are refused before they are walked,
// and every error carries the line and column.
//
//   const nnc::json::Value doc = nnc::json::parse(text, "scene.json");
//   const nnc::json::Value& cams = doc.at("cameras");        // error if missing
//   for (size_t i = 0; i < cams.size(); ++i) cams[i].at("image").as_string();
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nnc::json {

enum class Type { Null, Bool, Number, String, Array, Object };
const char* type_name(Type type);

class Value {
 public:
  Type type() const { return type_; }
  // The path from the document root, as a person writes it: `scene.json: cameras[2].image`.
  const std::string& where() const { return where_; }

  bool is(Type t) const { return type_ == t; }
  bool as_bool() const;
  double as_number() const;                // any finite number
  int64_t as_int(int64_t lo, int64_t hi) const;  // an integer in [lo, hi]
  const std::string& as_string() const;

  // Arrays.
  size_t size() const;  // error unless an array
  const Value& operator[](size_t i) const;
  // Objects.
  bool has(const std::string& key) const;  // error unless an object
  const Value& at(const std::string& key) const;  // error naming the key if missing
  const std::vector<std::string>& keys() const;   // in file order

  // An array of exactly `count` numbers (count 0: any length).
  std::vector<double> numbers(size_t count = 0) const;
  // An array of `rows` arrays of `cols` numbers, row-major.
  std::vector<double> matrix(size_t rows, size_t cols) const;

  // Throws BadInput "<where>: <message>".
  [[noreturn]] void fail(const std::string& message) const;

 private:
  friend class Parser;
  Type type_ = Type::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Value> items_;
  std::vector<std::string> keys_;
  std::map<std::string, size_t> key_index_;
  std::string where_;
  void expect(Type t) const;
};

// Parses a whole document. `source` names it in errors ("scene.json").
Value parse(std::string_view text, const std::string& source);

// `s` as a JSON string literal: quoted, with quotes, backslashes and control characters escaped.
std::string quote(std::string_view s);

}  // namespace nnc::json
