// Attributes are any int64 a file holds: sizes derived from them must be refused or clipped,
// never overflow or loop for ages (each case was found by tests/fuzz; its input also lives in the
// regression corpus). Expected values are hand-computed.
#include <doctest/doctest.h>

#include "core/error.h"
#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {

Graph typed(const std::string& text) {
  Graph g = parse_ir(text);
  infer_types(g);
  return g;
}

std::string bad_input_of(const std::string& text) {
  try {
    typed(text);
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::BadInput);
    return e.what();
  }
  FAIL("no error for: " << text);
  return "";
}

}  // namespace

TEST_CASE("a pool window far larger than its input costs what the input has") {
  // kernel 3 x 65536 over 4 x 5, SAME_LOWER: every window covers the whole row band it sits on.
  const Graph g = typed("graph t opset=17\ninput %x f32[1,1,4,5]\n"
                        "%y _ = AveragePool %x kernel_shape=[3,65536] auto_pad=\"SAME_LOWER\" count_include_pad=0\nreturn %y\n");
  Tensor x(DType::F32, {1, 1, 4, 5});
  for (int64_t i = 0; i < 20; ++i) x.data<float>()[i] = float(i);
  const Tensor y = run_reference(g, std::vector<Tensor>{x})[0];  // (the fuzzed 2 x 65536 window on 32x32 took 34 s)
  // Output row 0 averages rows 0-1 (the window starts one row above), all 5 columns: mean of 0..9.
  CHECK(y.data<float>()[0] == doctest::Approx(4.5));
  // Row 1 averages rows 0-2: mean of 0..14.
  CHECK(y.data<float>()[5] == doctest::Approx(7.0));
}

TEST_CASE("EyeLike with a diagonal beyond the matrix is all zeros") {
  const Graph g = typed("graph t opset=17\ninput %x f32[3,4]\n%y _ = EyeLike %x k=9223372036854775807\nreturn %y\n");
  const Tensor y = run_reference(g, std::vector<Tensor>{Tensor(DType::F32, {3, 4})})[0];
  for (int64_t i = 0; i < y.numel(); ++i) CHECK(y.data<float>()[i] == 0.0f);
  const Graph shifted = typed("graph t opset=17\ninput %x f32[3,4]\n%y _ = EyeLike %x k=-2\nreturn %y\n");
  const Tensor s = run_reference(shifted, std::vector<Tensor>{Tensor(DType::F32, {3, 4})})[0];
  CHECK(s.to_double_vector() == std::vector<double>{0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0});
}

TEST_CASE("sizes from huge attributes are refused, naming the node") {
  CHECK(bad_input_of("graph t opset=13\ninput %x f32[2,5]\nconst @s i64[2] [9223372036854775807, 1]\n"
                     "%a, %b _, _ = Split %x, @s axis=1\nreturn %a, %b\n")
            .find("has a piece of 9223372036854775807 on an axis of size 5") != std::string::npos);
  CHECK(bad_input_of("graph t opset=17\ninput %x f32[1,1,3,3]\ninput %i i64[1,1,3,3]\n"
                     "%y _ = MaxUnpool %x, %i kernel_shape=[9223372036854775807,2]\nreturn %y\n")
            .find("over 2^62") != std::string::npos);
  CHECK(bad_input_of("graph t opset=17\ninput %x f32[1,1,3,3]\nconst @w f32[1,1,2,2] fill(1)\n"
                     "%y _ = ConvTranspose %x, @w strides=[9223372036854775807,1]\nreturn %y\n")
            .find("over 2^62") != std::string::npos);
}

TEST_CASE("RoiAlign refuses billions of samples per bin") {
  const Graph g = typed("graph t opset=16\ninput %x f32[1,1,4,4]\ninput %r f32[1,4]\ninput %b i64[1]\n"
                        "%y _ = RoiAlign %x, %r, %b output_height=2 output_width=2 sampling_ratio=100000\nreturn %y\n");
  const Tensor rois = Tensor::from_vector<float>({1, 4}, {0, 0, 3, 3});
  const Tensor batch = Tensor::from_vector<int64_t>({1}, {0});
  try {
    run_reference(g, std::vector<Tensor>{Tensor(DType::F32, {1, 1, 4, 4}), rois, batch});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("samples per bin") != std::string::npos);
  }
}
