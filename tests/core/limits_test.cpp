// Resource limits (core/limits.h): each is checked where a file's number is first read, and the
// error names the limit, the value and the environment variable that raises it.
#include <doctest/doctest.h>

#include <string>

#include "core/ir_text.h"
#include "core/limits.h"
#include "core/tensor.h"

using namespace nnc;

namespace {

// Lowers one limit for the length of a test case and restores the defaults afterwards.
struct ScopedLimits {
  explicit ScopedLimits(const ResourceLimits& limits) : saved(resource_limits()) { set_resource_limits(limits); }
  ~ScopedLimits() { set_resource_limits(saved); }
  ResourceLimits saved;
};

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::BadInput);
    return e.what();
  }
  FAIL("no error");
  return "";
}

// `depth` If nodes nested inside each other's then_branch.
std::string nested_ifs(int depth) {
  std::string text = "graph g opset=17\ninput %c bool[]\n";
  std::string indent;
  for (int i = 0; i < depth; ++i) {
    text += indent + fmt::format("%y{} f32[1] = If %c then_branch=<graph> else_branch=<graph>\n", i);
    text += indent + "{\n";
    indent += "  ";
    text += indent + fmt::format("graph t{} opset=17\n", i) + indent + "outer %c bool[]\n";
  }
  text += indent + "const @one f32[1] [1.0]\n" + indent + "return @one\n";
  for (int i = depth - 1; i >= 0; --i) {
    indent.resize(indent.size() - 2);
    text += indent + "}\n" + indent + "{\n" + indent + fmt::format("  graph e{} opset=17\n", i) + indent +
            "  const @two f32[1] [2.0]\n" + indent + "  return @two\n" + indent + "}\n";
    if (i > 0) text += indent + fmt::format("return %y{}\n", i);
  }
  return text + "return %y0\n";
}

}  // namespace

TEST_CASE("limits: the message names the limit, the value and the variable that raises it") {
  ResourceLimits low;
  low.max_rank = 4;
  ScopedLimits scope(low);
  const std::string message = error_of([] { check_limit("input 'x''s rank", "rank", 5); });
  CHECK(message.find("input 'x''s rank is 5, over the rank limit of 4 (set NNC_MAX_RANK to raise it)") != std::string::npos);
  check_limit("input 'x''s rank", "rank", 4);  // at the limit is fine
}

TEST_CASE("limits: tensor bytes and rank are checked before allocating") {
  ResourceLimits low;
  low.max_tensor_bytes = 1024;
  low.max_rank = 3;
  ScopedLimits scope(low);
  Tensor ok(DType::F32, {16, 16});  // exactly 1024 bytes
  CHECK(ok.numel() == 256);
  CHECK(error_of([] { Tensor t(DType::F32, {16, 17}); }).find("NNC_MAX_TENSOR_BYTES") != std::string::npos);
  CHECK(error_of([] { Tensor t(DType::U8, {1, 1, 1, 1}); }).find("NNC_MAX_RANK") != std::string::npos);
  // A product that would overflow 64 bits is refused, not wrapped around to a small size.
  CHECK(error_of([] { Tensor t(DType::F32, {int64_t(1) << 40, int64_t(1) << 40}); }).find("tensor bytes limit") !=
        std::string::npos);
}

TEST_CASE("limits: the IR parser bounds subgraph nesting, nodes and constant bytes") {
  REQUIRE_NOTHROW(parse_ir(nested_ifs(3)));
  ResourceLimits low;
  low.max_subgraph_depth = 2;
  low.max_nodes = 3;
  low.max_graph_bytes = 64;
  ScopedLimits scope(low);
  CHECK(error_of([] { parse_ir(nested_ifs(3)); }).find("NNC_MAX_SUBGRAPH_DEPTH") != std::string::npos);
  // Deep nesting is refused at the limit, long before the parser's recursion could hurt.
  CHECK(error_of([] { parse_ir(nested_ifs(5000)); }).find("subgraph depth limit of 2") != std::string::npos);
  const std::string four_nodes =
      "graph g opset=17\ninput %x f32[2]\n%a f32[2] = Relu %x\n%b f32[2] = Relu %a\n%c f32[2] = Relu %b\n"
      "%d f32[2] = Relu %c\nreturn %d\n";
  CHECK(error_of([&] { parse_ir(four_nodes); }).find("NNC_MAX_NODES") != std::string::npos);
  const std::string big_constants = "graph g opset=17\nconst @a f32[10] fill(1)\nconst @b f32[10] fill(2)\nreturn @a, @b\n";
  CHECK(error_of([&] { parse_ir(big_constants); }).find("NNC_MAX_GRAPH_BYTES") != std::string::npos);
}
