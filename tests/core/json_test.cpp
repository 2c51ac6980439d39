// core/json.h: what scene.json readers rely on — values and paths, and errors that say where.
#include <doctest/doctest.h>

#include <string>

#include "core/error.h"
#include "core/json.h"

using namespace nnc;

namespace {

std::string error_of(std::string_view text) {
  try {
    json::parse(text, "t.json");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::BadInput);
    return e.what();
  }
  FAIL("expected an error for " << std::string(text));
  return "";
}

}  // namespace

TEST_CASE("json: values, nesting and escapes") {
  const json::Value doc = json::parse(R"( {"a": [1, -2.5e2, 0.125], "b": {"c": true, "d": null},
                                           "s": "x\"y\\z\u00e9\ud83d\ude00\n"} )", "t.json");
  CHECK(doc.keys() == std::vector<std::string>{"a", "b", "s"});
  CHECK(doc.at("a").numbers(3) == std::vector<double>{1, -250, 0.125});
  CHECK(doc.at("b").at("c").as_bool());
  CHECK(doc.at("b").at("d").is(json::Type::Null));
  CHECK(doc.at("s").as_string() == "x\"y\\z\xc3\xa9\xf0\x9f\x98\x80\n");
  CHECK(doc.at("a")[1].as_int(-1000, 0) == -250);
  CHECK(json::parse("[]", "t").size() == 0);
  CHECK(json::parse("{}", "t").keys().empty());
}

TEST_CASE("json: accessor errors name the element's path") {
  const json::Value doc = json::parse(R"({"cameras": [{"k": [[1, 2], [3]]}, {"image": 5}]})", "scene.json");
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message([&] { doc.at("cameras")[1].at("image").as_string(); }) == "scene.json: cameras[1].image: expected a string, got a number");
  CHECK(message([&] { doc.at("cameras")[0].at("k").matrix(2, 2); }) == "scene.json: cameras[0].k[1]: expected 2 numbers, got 1");
  CHECK(message([&] { doc.at("cameras")[2]; }) == "scene.json: cameras: has 2 elements, index 2 is past the end");
  CHECK(message([&] { doc.at("timestamp"); }) == "scene.json: has no \"timestamp\"");
  CHECK(message([&] { doc.at("cameras")[0].at("k")[0][0].as_int(5, 9); }) ==
        "scene.json: cameras[0].k[0][0]: expected an integer in [5, 9], got 1");
}

TEST_CASE("json: malformed documents are refused with line and column") {
  CHECK(error_of("{\"a\": 1,}") == "t.json:1:9: expected a quoted key (not valid JSON)");
  CHECK(error_of("[1, 2\n, 3") == "t.json:2:4: expected ',' or ']' in an array (not valid JSON)");
  CHECK(error_of("{\"a\": 1} x").find("unexpected text after the document") != std::string::npos);
  CHECK(error_of("{\"a\": 1, \"a\": 2}").find("key \"a\" appears twice") != std::string::npos);
  CHECK(error_of("[1e999]").find("out of range") != std::string::npos);
  CHECK(error_of("[NaN]").find("unexpected character 'N'") != std::string::npos);
  CHECK(error_of("[01]").find("expected ',' or ']'") != std::string::npos);
  CHECK(error_of("[1.]").find("digits after '.'") != std::string::npos);
  CHECK(error_of("\"abc").find("unterminated string") != std::string::npos);
  CHECK(error_of("\"a\tb\"").find("control character") != std::string::npos);
  CHECK(error_of("\"\\ud800x\"").find("surrogate") != std::string::npos);
  CHECK(error_of("\"\\q\"").find("unknown escape") != std::string::npos);
  CHECK(error_of("").find("unexpected end") != std::string::npos);
  CHECK(error_of("tru").find("unexpected character 't'") != std::string::npos);
  // Deep nesting is refused before it can exhaust the stack.
  CHECK(error_of(std::string(100000, '[')).find("nested deeper than 64") != std::string::npos);
}

TEST_CASE("json: quote gives a literal the parser reads back unchanged") {
  for (const std::string& s : {std::string("plain"), std::string("q\"b\\s/\n\t\x01"), std::string("caf\xc3\xa9"), std::string()})
    CHECK(json::parse(json::quote(s), "t").as_string() == s);
}
