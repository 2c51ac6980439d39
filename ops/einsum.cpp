// ops/einsum.cpp — Einsum: sums of products named by an equation ("bij,bjk->bik").
// ONNX opset 12. https://onnx.ai/onnx/operators/onnx__Einsum.html
//
// Each input term names its axes with letters; "..." stands for the leading axes not named,
// broadcast across inputs as numpy does. A letter repeated in one term takes the diagonal.
// Without "->" the output is the broadcast "..." axes, then every letter used exactly once, in
// alphabetical order. Letters absent from the output are summed over.
// The reference kernel walks the whole index space (output letters × summed letters) once:
// slow for big contractions, obviously right; sums run in double (integers exact below 2^53).
#include <map>

#include "ops/op_def.h"

namespace nnc {
namespace {

constexpr int kEllipsisBase = 128;  // labels for "..." axes: kEllipsisBase + j

struct Equation {
  std::vector<std::vector<int>> inputs;  // labels per input axis
  std::vector<int> output;
};

// Term letters, with "..." expanded to `rank - letters` ellipsis labels (right-aligned among
// `ellipsis_rank` labels shared by all terms).
std::vector<int> parse_term(const Node& n, const std::string& term, int rank, int& ellipsis_rank, bool is_output) {
  std::vector<int> labels;
  int letters = 0;
  size_t dots = std::string::npos;
  for (size_t i = 0; i < term.size(); ++i) {
    const char c = term[i];
    if (c == '.') {
      if (dots != std::string::npos || term.compare(i, 3, "...") != 0) node_error(n, "equation term '{}' has a malformed '...'", term);
      dots = i;
      i += 2;
    } else if (std::isalpha(static_cast<unsigned char>(c))) {
      ++letters;
    } else if (c != ' ') {
      node_error(n, "equation term '{}' has the character '{}'; only letters and '...' are allowed", term, c);
    }
  }
  int here = 0;
  if (dots != std::string::npos) {
    here = is_output ? ellipsis_rank : rank - letters;
    if (here < 0) node_error(n, "term '{}' names {} axes but the input has rank {}", term, letters, rank);
    if (!is_output) ellipsis_rank = std::max(ellipsis_rank, here);
  } else if (!is_output && letters != rank) {
    node_error(n, "term '{}' names {} axes but the input has rank {}", term, letters, rank);
  }
  for (size_t i = 0; i < term.size(); ++i) {
    if (term[i] == '.') {
      for (int j = 0; j < here; ++j) labels.push_back(kEllipsisBase + j);
      i += 2;
    } else if (term[i] != ' ') {
      labels.push_back(term[i]);
    }
  }
  return labels;
}

Equation parse(const Node& n, const std::vector<int>& ranks) {
  const std::string eq = attr_string(n, "equation");
  const size_t arrow = eq.find("->");
  const std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t start = 0;;) {
    const size_t comma = lhs.find(',', start);
    terms.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != ranks.size()) node_error(n, "equation '{}' has {} input terms but the node has {} inputs", eq, terms.size(), ranks.size());
  Equation e;
  int ellipsis_rank = 0;
  for (size_t i = 0; i < terms.size(); ++i) e.inputs.push_back(parse_term(n, terms[i], ranks[i], ellipsis_rank, false));
  // Ellipsis labels are right-aligned: an input with fewer "..." axes uses the last ones.
  for (size_t i = 0; i < terms.size(); ++i) {
    int count = 0;
    for (int l : e.inputs[i]) count += l >= kEllipsisBase ? 1 : 0;
    for (int& l : e.inputs[i])
      if (l >= kEllipsisBase) l += ellipsis_rank - count;
  }
  if (arrow != std::string::npos) {
    e.output = parse_term(n, eq.substr(arrow + 2), 0, ellipsis_rank, true);
    for (int l : e.output) {
      bool found = false;
      for (const auto& in : e.inputs) found = found || std::find(in.begin(), in.end(), l) != in.end();
      if (!found && l < kEllipsisBase) node_error(n, "output letter '{}' appears in no input term", char(l));
      if (std::count(e.output.begin(), e.output.end(), l) > 1) node_error(n, "output repeats the letter '{}'", char(l));
    }
  } else {
    for (int j = 0; j < ellipsis_rank; ++j) e.output.push_back(kEllipsisBase + j);
    std::map<int, int> uses;
    for (const auto& in : e.inputs)
      for (int l : in)
        if (l < kEllipsisBase) ++uses[l];
    for (const auto& [l, count] : uses)
      if (count == 1) e.output.push_back(l);
  }
  return e;
}

// The size of every label; throws for disagreeing sizes (1 broadcasts for "..." axes).
std::map<int, Dim> label_sizes(const Node& n, const Equation& e, const std::vector<Shape>& shapes) {
  std::map<int, Dim> size;
  for (size_t i = 0; i < e.inputs.size(); ++i)
    for (size_t a = 0; a < e.inputs[i].size(); ++a) {
      const int l = e.inputs[i][a];
      const Dim d = shapes[i].dims[a];
      auto it = size.find(l);
      if (it == size.end() || (it->second.known() && it->second.value == 1 && l >= kEllipsisBase)) {
        if (it == size.end() || d.known()) size[l] = d;
        continue;
      }
      if (d.known() && it->second.known() && d.value != it->second.value && !(l >= kEllipsisBase && d.value == 1))
        node_error(n, "axis '{}' has size {} in input {} but {} elsewhere", l < kEllipsisBase ? std::string(1, char(l)) : "...",
                   d.value, i, it->second.value);
    }
  return size;
}

std::vector<TensorType> infer(InferContext& c) {
  const Node& n = c.node;
  std::vector<int> ranks;
  std::vector<Shape> shapes;
  for (int i = 0; i < c.input_count(); ++i) {
    if (c.in(i).dtype != c.in(0).dtype) node_error(n, "input {} is {} but input 0 is {}", i, dtype_name(c.in(i).dtype), dtype_name(c.in(0).dtype));
    if (!c.in(i).shape.rank_known) return {TensorType{c.in(0).dtype, Shape::unknown_rank()}};
    ranks.push_back(c.in(i).rank());
    shapes.push_back(c.in(i).shape);
  }
  const Equation e = parse(n, ranks);
  const std::map<int, Dim> size = label_sizes(n, e, shapes);
  std::vector<Dim> out;
  for (int l : e.output) out.push_back(size.at(l));
  return {TensorType{c.in(0).dtype, Shape(out)}};
}

void reference(KernelContext& k) {
  const Node& n = k.node;
  std::vector<int> ranks;
  std::vector<Shape> shapes;
  for (const Tensor* t : k.inputs) ranks.push_back(t->rank()), shapes.push_back(Shape(t->dims()));
  const Equation e = parse(n, ranks);
  const std::map<int, Dim> size = label_sizes(n, e, shapes);
  std::vector<int> loop = e.output;  // output labels first, then the summed ones
  for (const auto& [l, d] : size)
    if (std::find(loop.begin(), loop.end(), l) == loop.end()) loop.push_back(l);
  std::vector<int64_t> extent;
  for (int l : loop) extent.push_back(size.at(l).value);
  // stride[i][j]: how far input i moves when loop label j advances (0 if absent or broadcast).
  std::vector<std::vector<int64_t>> stride(k.inputs.size(), std::vector<int64_t>(loop.size(), 0));
  for (size_t i = 0; i < k.inputs.size(); ++i) {
    const Dims& d = k.inputs[i]->dims();
    int64_t s = 1;
    for (size_t a = d.size(); a-- > 0;) {
      const size_t j = size_t(std::find(loop.begin(), loop.end(), e.inputs[i][a]) - loop.begin());
      if (d[a] != 1 || extent[j] == 1) stride[i][j] += s;
      s *= d[a];
    }
  }
  const int64_t inner = product(std::span(extent).subspan(e.output.size()));
  const int64_t outer = product(std::span(extent).first(e.output.size()));
  std::vector<std::vector<double>> values;
  for (const Tensor* t : k.inputs) values.push_back(t->to_double_vector());
  std::vector<int64_t> index(loop.size(), 0), offset(k.inputs.size(), 0);
  Tensor& y = k.out(0);
  visit_dtype(y.dtype(), [&]<typename T>() {
    T* out = y.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      double sum = 0;
      for (int64_t r = 0; r < inner; ++r) {
        double product_value = 1;
        for (size_t i = 0; i < values.size(); ++i) product_value *= values[i][size_t(offset[i])];
        sum += product_value;
        // Advance the odometer (the last label fastest) and every input's offset with it.
        for (size_t j = loop.size(); j-- > 0;) {
          for (size_t i = 0; i < offset.size(); ++i) offset[i] += stride[i][j];
          if (++index[j] < extent[j]) break;
          for (size_t i = 0; i < offset.size(); ++i) offset[i] -= stride[i][j] * extent[j];
          index[j] = 0;
        }
      }
      out[o] = from_double<T>(sum);
    }
  });
}

}  // namespace

extern const OpDef kEinsum{.kind = OpKind::Einsum,
                           .onnx_name = "Einsum",
                           .min_inputs = 1,
                           .max_inputs = -1,
                           .attrs = {AttrSpec{"equation", AttrType::String, std::nullopt}},
                           .infer = infer,
                           .reference = reference};

}  // namespace nnc
