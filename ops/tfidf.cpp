// ops/tfidf.cpp — TfIdfVectorizer: counts how often each n-gram of a pool occurs in each row of
// token ids, optionally weighted. ONNX opset 9. https://onnx.ai/onnx/operators/onnx__TfIdfVectorizer.html
//
// Input [C] or [N, C] of int32/int64 token ids (string tokens are valid ONNX that nnc does not
// support). The pool lists n-grams grouped by length: pool_int64s holds all 1-grams, then all
// 2-grams, ...; ngram_counts[i] is where the (i+1)-grams start. ngram_indexes maps the j-th
// n-gram of the pool to its output column; the output has max(ngram_indexes) + 1 columns.
// For each length n in [min_gram_length, max_gram_length] and each skip s in
// [0, max_skip_count], the n-grams of a row are tokens i, i+s+1, i+2(s+1), ... (n of them);
// 1-grams are counted once, not once per skip. mode: TF = count, IDF = weight if present,
// TFIDF = count * weight (weights default to 1).
#include <algorithm>
#include <map>

#include "core/limits.h"
#include "ops/op_def.h"

namespace nnc {
namespace {

struct Config {
  int64_t min_n, max_n, max_skip;
  std::string mode;
  std::map<std::vector<int64_t>, int64_t> columns;  // n-gram -> output column
  std::vector<float> weights;                      // per column, empty: all 1
  int64_t width = 0;                               // output columns
  int64_t longest = 0;                             // the pool's longest n-gram
};

Config config_of(const Node& n) {
  if (n.has_attr("pool_strings"))
    fail(ErrorKind::Unsupported, "{}: string pools (pool_strings) are not supported; nnc has no string tensors",
         describe(n));
  Config c{attr_int(n, "min_gram_length"), attr_int(n, "max_gram_length"), attr_int(n, "max_skip_count"),
           attr_string(n, "mode"), {}, attr_floats(n, "weights")};
  if (c.mode != "TF" && c.mode != "IDF" && c.mode != "TFIDF") node_error(n, "mode is '{}'; it must be TF, IDF or TFIDF", c.mode);
  if (c.min_n < 1 || c.max_n < c.min_n || c.max_skip < 0)
    node_error(n, "gram lengths {}..{} with max_skip_count {}: lengths must satisfy 1 <= min <= max, skips >= 0",
               c.min_n, c.max_n, c.max_skip);
  const std::vector<int64_t> pool = attr_ints(n, "pool_int64s");
  const std::vector<int64_t> starts = attr_ints(n, "ngram_counts");
  const std::vector<int64_t> indexes = attr_ints(n, "ngram_indexes");
  size_t ngram = 0;  // index of the n-gram in the pool, across lengths
  for (size_t length = 1; length <= starts.size(); ++length) {
    const int64_t begin = starts[length - 1];
    const int64_t end = length < starts.size() ? starts[length] : int64_t(pool.size());
    if (begin < 0 || end < begin || end > int64_t(pool.size()) || (end - begin) % int64_t(length) != 0)
      node_error(n, "ngram_counts {} does not split the pool of {} ids into {}-grams", to_string(starts), pool.size(), length);
    for (int64_t at = begin; at < end; at += int64_t(length), ++ngram) {
      if (ngram >= indexes.size()) node_error(n, "the pool has more n-grams than ngram_indexes has entries ({})", indexes.size());
      if (indexes[ngram] < 0) node_error(n, "ngram_indexes holds {}; indexes must not be negative", indexes[ngram]);
      c.columns[std::vector<int64_t>(pool.begin() + at, pool.begin() + at + int64_t(length))] = indexes[ngram];
    }
  }
  c.longest = int64_t(starts.size());
  for (int64_t index : indexes) {
    // The largest index sets the output's width: keep it within what one f32 row may hold.
    if (index < 0 || uint64_t(index) >= resource_limits().max_tensor_bytes / sizeof(float))
      node_error(n, "ngram_indexes holds {}; an index must be 0 or more and keep an output row within the {}-byte "
                 "tensor limit", index, resource_limits().max_tensor_bytes);
    c.width = std::max(c.width, index + 1);
  }
  if (!c.weights.empty() && int64_t(c.weights.size()) < c.width)
    node_error(n, "weights has {} entries but the output has {} columns", c.weights.size(), c.width);
  return c;
}

std::vector<TensorType> infer(InferContext& c) {
  const TensorType& x = c.in(0);
  if (x.dtype != DType::I32 && x.dtype != DType::I64)
    node_error(c.node, "input 0 has type {}; nnc's TfIdfVectorizer takes i32 or i64 token ids", dtype_name(x.dtype));
  const Config config = config_of(c.node);
  if (!x.shape.rank_known) return {{DType::F32, Shape::unknown_rank()}};
  if (x.rank() == 1) return {{DType::F32, Shape(std::vector<Dim>{Dim(config.width)})}};
  if (x.rank() == 2) return {{DType::F32, Shape(std::vector<Dim>{x.shape.dims[0], Dim(config.width)})}};
  node_error(c.node, "input 0 has rank {}; it must be 1 ([C]) or 2 ([N, C])", x.rank());
}

void reference(KernelContext& k) {
  const Config c = config_of(k.node);
  const Tensor& x = k.in(0);
  const std::vector<int64_t> tokens = x.to_int_vector();
  const int64_t rows = x.rank() == 2 ? x.dims()[0] : 1;
  const int64_t length = x.dims().back();
  float* out = k.out(0).data<float>();
  std::vector<int64_t> gram;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t* row = tokens.data() + r * length;
    float* counts = out + r * c.width;
    // No n-gram is longer than the row or the pool's longest, and no skip wider than the row:
    // the attributes' word alone (max_gram_length, max_skip_count up to 2^63) must not set the
    // work (found by tests/fuzz).
    for (int64_t n = c.min_n; n <= std::min({c.max_n, length, c.longest}); ++n)
      for (int64_t skip = 0; skip <= (n == 1 ? 0 : std::min(c.max_skip, length)); ++skip) {
        const int64_t span = (n - 1) * (skip + 1);  // distance from the first token to the last
        if (span >= length) break;                  // grows with skip: no window fits any more
        for (int64_t i = 0; i + span < length; ++i) {
          gram.clear();
          for (int64_t j = 0; j < n; ++j) gram.push_back(row[i + j * (skip + 1)]);
          if (auto it = c.columns.find(gram); it != c.columns.end()) counts[it->second] += 1;
        }
      }
    for (int64_t col = 0; col < c.width; ++col) {
      const float weight = c.weights.empty() ? 1.0f : c.weights[size_t(col)];
      if (c.mode == "IDF") counts[col] = counts[col] > 0 ? weight : 0;
      else if (c.mode == "TFIDF") counts[col] *= weight;
    }
  }
}

}  // namespace

extern const OpDef kTfIdfVectorizer{
    .kind = OpKind::TfIdfVectorizer,
    .onnx_name = "TfIdfVectorizer",
    .attrs = {AttrSpec{"max_gram_length", AttrType::Int, std::nullopt},
              AttrSpec{"max_skip_count", AttrType::Int, std::nullopt},
              AttrSpec{"min_gram_length", AttrType::Int, std::nullopt},
              AttrSpec{"mode", AttrType::String, std::nullopt},
              AttrSpec{"ngram_counts", AttrType::Ints, std::nullopt},
              AttrSpec{"ngram_indexes", AttrType::Ints, std::nullopt},
              AttrSpec{"pool_int64s", AttrType::Ints, std::vector<int64_t>{}},
              AttrSpec{.name = "pool_strings", .type = AttrType::Strings, .optional = true},
              AttrSpec{"weights", AttrType::Floats, std::vector<float>{}}},
    .infer = infer,
    .reference = reference,
    .since_opset = 9};

}  // namespace nnc
