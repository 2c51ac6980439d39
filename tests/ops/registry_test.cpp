#include <doctest/doctest.h>

#include "ops/op_def.h"

using namespace nnc;

TEST_CASE("registry: every OpKind has exactly one OpDef, named as the enum") {
  for (int i = 0; i < kOpCount; ++i) {
    const OpDef& def = op_def(OpKind(i));
    CHECK(def.kind == OpKind(i));
    CHECK(def.onnx_name == op_name(OpKind(i)));
  }
  CHECK(int(all_op_defs().size()) == kOpCount);
}

TEST_CASE("registry: every op has shape inference and a reference kernel") {
  for (const OpDef* def : all_op_defs()) {
    INFO(def->onnx_name);
    CHECK(bool(def->infer));
    CHECK(bool(def->reference));
  }
}
