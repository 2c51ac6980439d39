// Tests for ops/loss.cpp. Expected values are from numpy (noted) or hand-computed.
#include <doctest/doctest.h>

#include "core/ir_text.h"
#include "ops/interpreter.h"
#include "ops/shape_inference.h"

using namespace nnc;

namespace {

void check_close(const Tensor& t, const std::vector<double>& expected) {
  const std::vector<double> got = t.to_double_vector();
  REQUIRE(got.size() == expected.size());
  for (size_t i = 0; i < got.size(); ++i)
    CHECK(got[i] == doctest::Approx(expected[i]).epsilon(1e-6));
}

// Scores [[1,2,3],[1,1,1]], targets [2,0], class weights [0.5,1,2].
std::vector<Tensor> loss(const std::string& op, const std::string& loss_type,
                         const std::string& attrs, bool log_prob = false,
                         int64_t second_target = 0) {
  Graph g = parse_ir(
      "graph t opset=13\ninput %x f32[2,3]\ninput %t i64[2]\nconst @w f32[3] [0.5, 1.0, 2.0]\n%l" +
      std::string(log_prob ? ", %p " : " ") + loss_type + (log_prob ? ", f32[2,3]" : "") + " = " +
      op + " %x, %t, @w " + attrs + "\nreturn %l" + (log_prob ? ", %p" : "") + "\n");
  infer_types(g);
  const std::vector<Tensor> inputs{Tensor::from_vector<float>({2, 3}, {1, 2, 3, 1, 1, 1}),
                                   Tensor::from_vector<int64_t>({2}, {2, second_target})};
  return run_reference(g, inputs);
}

}  // namespace

TEST_CASE(
    "NegativeLogLikelihoodLoss: -input[n, target] * weight[target], mean divides by the weights "
    "used") {
  check_close(loss("NegativeLogLikelihoodLoss", "f32[2]", "reduction=\"none\"")[0], {-6, -0.5});
  check_close(loss("NegativeLogLikelihoodLoss", "f32[]", "reduction=\"sum\"")[0], {-6.5});
  check_close(loss("NegativeLogLikelihoodLoss", "f32[]", "")[0], {-6.5 / 2.5});
}

TEST_CASE(
    "NegativeLogLikelihoodLoss: ignore_index zeroes the loss and the weight of its elements") {
  check_close(loss("NegativeLogLikelihoodLoss", "f32[2]", "reduction=\"none\" ignore_index=0")[0],
              {-6, 0});
  check_close(loss("NegativeLogLikelihoodLoss", "f32[]", "ignore_index=0")[0], {-6.0 / 2.0});
}

TEST_CASE("SoftmaxCrossEntropyLoss: NLL of the log-softmax, which it can also return") {
  // numpy: lp = log_softmax(x, axis=1); loss = [-lp[0,2]*2, -lp[1,0]*0.5]
  const auto none = loss("SoftmaxCrossEntropyLoss", "f32[2]", "reduction=\"none\"", true);
  check_close(none[0], {0.815211929, 0.549306144});
  check_close(none[1],
              {-2.407605964, -1.407605964, -0.407605964, -1.098612289, -1.098612289, -1.098612289});
  check_close(loss("SoftmaxCrossEntropyLoss", "f32[]", "")[0], {0.5458072292891262});
  check_close(loss("SoftmaxCrossEntropyLoss", "f32[]", "reduction=\"sum\"")[0],
              {1.3645180732228155});
}

TEST_CASE("NegativeLogLikelihoodLoss: a target outside the classes is an error naming the node") {
  CHECK_THROWS_WITH_AS(
      loss("NegativeLogLikelihoodLoss", "f32[]", "", false, 3),
      doctest::Contains("node 'l' (NegativeLogLikelihoodLoss): target 3 at position 1"), Error);
  CHECK_THROWS_WITH_AS(loss("NegativeLogLikelihoodLoss", "f32[]", "reduction=\"avg\""),
                       doctest::Contains("reduction must be"), Error);
}
