// TensorProto decoding: every storage form ONNX writers use.
#include <doctest/doctest.h>

#include "importers/onnx/tensor_proto.h"
#include "onnx/onnx.pb.h"

using namespace nnc;
using onnx_import::tensor_from_proto;

TEST_CASE("TensorProto: fp16 weights in int32_data are bit patterns, not values") {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::FLOAT16);
  p.add_dims(3);
  for (int bits : {0x3c00, 0xc000, 0x3800}) p.add_int32_data(bits);  // 1.0, -2.0, 0.5
  const Tensor t = tensor_from_proto(p, "w", {});
  CHECK(t.dtype() == DType::F16);
  CHECK(half_to_float(t.data<Half>()[0]) == 1.0f);
  CHECK(half_to_float(t.data<Half>()[1]) == -2.0f);
  CHECK(half_to_float(t.data<Half>()[2]) == 0.5f);
}

TEST_CASE("TensorProto: fp16 weights in raw_data are little-endian bit patterns") {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::FLOAT16);
  p.add_dims(2);
  p.set_raw_data(std::string("\x00\x3c\x00\xc0", 4));
  const Tensor t = tensor_from_proto(p, "w", {});
  CHECK(half_to_float(t.data<Half>()[0]) == 1.0f);
  CHECK(half_to_float(t.data<Half>()[1]) == -2.0f);
}

TEST_CASE("TensorProto: int8 weights in int32_data keep their sign") {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::INT8);
  p.add_dims(3);
  for (int v : {-128, 0, 127}) p.add_int32_data(v);
  const Tensor t = tensor_from_proto(p, "q", {});
  CHECK(t.data<int8_t>()[0] == -128);
  CHECK(t.data<int8_t>()[2] == 127);
}

TEST_CASE("TensorProto: int64 and double fields, and a scalar with no dims") {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::INT64);
  p.add_int64_data(int64_t(1) << 40);
  const Tensor t = tensor_from_proto(p, "s", {});
  CHECK(t.rank() == 0);
  CHECK(t.data<int64_t>()[0] == (int64_t(1) << 40));
  onnx::TensorProto d;
  d.set_data_type(onnx::TensorProto::DOUBLE);
  d.add_dims(1);
  d.add_double_data(0.1);
  CHECK(tensor_from_proto(d, "d", {}).data<double>()[0] == 0.1);
}

TEST_CASE("TensorProto: strings are reported as unsupported, naming the tensor") {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::STRING);
  p.add_string_data("hello");
  CHECK_THROWS_WITH_AS(tensor_from_proto(p, "initializer 'vocab'", {}), doctest::Contains("initializer 'vocab'"), Error);
}

TEST_CASE("TensorProto: a typed field with the wrong count is refused") {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto::FLOAT);
  p.add_dims(4);
  p.add_float_data(1.0f);
  CHECK_THROWS_WITH_AS(tensor_from_proto(p, "w", {}), doctest::Contains("holds 1 values but shape [4] needs 4"), Error);
}
