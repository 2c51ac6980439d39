// tests/ir_test_util.h — helpers for tests written in IR text (house style, section 2.8).
#pragma once

#include <doctest/doctest.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/compare.h"
#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

namespace nnc::testing {

// Uniform random 8-bit values over the type's whole range (u8 0..255, i8 -128..127).
inline Tensor random_bytes(DType t, const Dims& dims, std::mt19937& rng) {
  Tensor out(t, dims);
  std::uniform_int_distribution<int> byte(t == DType::U8 ? 0 : -128, t == DType::U8 ? 255 : 127);
  for (int64_t i = 0; i < out.numel(); ++i) {
    if (t == DType::U8) out.data<uint8_t>()[i] = uint8_t(byte(rng));
    else out.data<int8_t>()[i] = int8_t(byte(rng));
  }
  return out;
}

// Scalars for a quantized op's scale (f32) and zero point (u8 or i8) inputs.
inline Tensor scalar_f32(float v) {
  Tensor t(DType::F32, Dims{});
  t.data<float>()[0] = v;
  return t;
}
inline Tensor scalar_byte(DType type, int v) {
  Tensor t(type, Dims{});
  if (type == DType::U8) t.data<uint8_t>()[0] = uint8_t(v);
  else t.data<int8_t>()[0] = int8_t(v);
  return t;
}

// Parses IR text and infers every type (hand-written text may leave types to inference).
inline Graph parse_typed(const std::string& text) {
  Graph g = parse_ir(text);
  infer_types(g);
  return g;
}

// Splits into lines, drops blank lines, collapses runs of spaces, trims.
inline std::vector<std::string> normalized_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::string collapsed;
    for (char c : line)
      if (!(c == ' ' && (collapsed.empty() || collapsed.back() == ' '))) collapsed += c;
    while (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
    if (!collapsed.empty()) out.push_back(collapsed);
  }
  return out;
}

// Seeded random inputs for one node of a test graph: constants as the graph holds them, omitted
// inputs null, f32 ones in [-scale, scale), 8-bit ones over their whole range, others as
// random_tensor makes them. `pointers` is what run_node takes.
struct NodeInputs {
  std::vector<Tensor> owned;
  std::vector<const Tensor*> pointers;
};
inline NodeInputs random_node_inputs(const Graph& g, const Node& node, float scale = 1.0f) {
  NodeInputs in;
  in.owned.reserve(node.inputs.size());  // `pointers` point into it
  std::mt19937 rng(5);
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (node.inputs[i] == kNoValue) {
      in.pointers.push_back(nullptr);
      continue;
    }
    const Value& v = g.value(node.inputs[i]);
    if (v.kind == ValueKind::Const) {
      in.pointers.push_back(v.data.get());
      continue;
    }
    const bool bytes = v.type.dtype == DType::U8 || v.type.dtype == DType::I8;
    in.owned.push_back(bytes ? random_bytes(v.type.dtype, v.type.shape.concrete(), rng)
                             : random_tensor(v.type.dtype, v.type.shape.concrete(), 50 + i));
    if (v.type.dtype == DType::F32 && scale != 1.0f)
      for (int64_t e = 0; e < in.owned.back().numel(); ++e) in.owned.back().data<float>()[e] *= scale;
    in.pointers.push_back(&in.owned.back());
  }
  return in;
}

// Checks the graph prints as `expected`: runs of spaces count as one (alignment is cosmetic) and
// a line ending in `...` matches any line starting with what precedes it.
inline void expect_ir(const Graph& g, const std::string& expected) {
  const std::string printed = print_ir(g);
  const std::vector<std::string> got = normalized_lines(printed);
  const std::vector<std::string> want = normalized_lines(expected);
  INFO("printed IR:\n" << printed);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const std::string& w = want[i];
    if (w.size() >= 3 && w.compare(w.size() - 3, 3, "...") == 0) {
      std::string prefix = w.substr(0, w.size() - 3);
      while (!prefix.empty() && prefix.back() == ' ') prefix.pop_back();
      CHECK_MESSAGE(got[i].rfind(prefix, 0) == 0, "line " << i + 1 << ": got '" << got[i] << "' want '" << w << "'");
    } else {
      CHECK_MESSAGE(got[i] == w, "line " << i + 1 << ": got '" << got[i] << "' want '" << w << "'");
    }
  }
}

// Runs both graphs on the same seeded random inputs and checks every output agrees within
// `tolerance` relative L2: how a pass test shows the rewrite computes what the original did.
inline void expect_same_outputs(const Graph& before, const Graph& after, double tolerance = 1e-5) {
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < before.inputs.size(); ++i) {
    const TensorType& type = before.type(before.inputs[i]);
    inputs.push_back(random_tensor(type.dtype, type.shape.concrete(), 100 + i));
  }
  const std::vector<Tensor> want = run_reference(before, inputs);
  const std::vector<Tensor> got = run_reference(after, inputs);
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    REQUIRE(got[i].dims() == want[i].dims());
    const Difference d = compare(got[i], want[i]);
    INFO("output " << i << ": rel L2 " << d.rel_l2 << ", max abs " << d.max_abs);
    CHECK(d.rel_l2 <= tolerance);
  }
}

}  // namespace nnc::testing
