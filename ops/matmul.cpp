// ops/matmul.cpp — MatMul (numpy matmul) and Gemm (Y = alpha·A'·B' + beta·C).
// ONNX opsets 1, 9, 13 (MatMul); 1, 6, 7, 9, 11, 13 (Gemm).
// https://onnx.ai/onnx/operators/onnx__MatMul.html, https://onnx.ai/onnx/operators/onnx__Gemm.html
//
// MatMul: a 1-D A is a row vector and a 1-D B a column vector (the added axis is removed from
// the result); leading (batch) dims broadcast. Gemm: 2-D only, transA/transB, and C broadcast
// to [M, N] in one direction. f32 runs on the sgemm; other floats in double; integers exactly
// (with wrap-around, like numpy). A fused `act` (ops/epilogue.h) applies to f32 results.
// nnc extension for fused graphs (passes/fuse_activations.cpp): MatMul's optional input 2 is an
// f32 bias of shape [N] added to every row before the activation, so MatMul + Add(bias) + Gelu
// is one pass over the output.
#include "ops/epilogue.h"
#include "ops/sgemm.h"

namespace nnc {
namespace {

// ---- MatMul ---------------------------------------------------------------------------------

struct MatMulShape {
  std::vector<Dim> batch;  // broadcast leading dims
  Dim m, k_a, k_b, n;
  bool a_vector, b_vector;
};

MatMulShape matmul_shape(const Node& node, const Shape& a, const Shape& b) {
  if (a.rank() == 0 || b.rank() == 0) node_error(node, "MatMul inputs must have rank at least 1");
  MatMulShape s;
  s.a_vector = a.rank() == 1;
  s.b_vector = b.rank() == 1;
  s.m = s.a_vector ? Dim(1) : a.dims[size_t(a.rank() - 2)];
  s.k_a = a.dims.back();
  s.k_b = s.b_vector ? b.dims[0] : b.dims[size_t(b.rank() - 2)];
  s.n = s.b_vector ? Dim(1) : b.dims.back();
  if (s.k_a.known() && s.k_b.known() && s.k_a.value != s.k_b.value)
    node_error(node, "A is {} and B is {}: inner dims {} and {} differ", to_string(a), to_string(b), s.k_a.value,
               s.k_b.value);
  const Shape batch_a(std::vector<Dim>(a.dims.begin(), a.dims.end() - (s.a_vector ? 1 : 2)));
  const Shape batch_b(std::vector<Dim>(b.dims.begin(), b.dims.end() - (s.b_vector ? 1 : 2)));
  const Shape shapes[] = {batch_a, batch_b};
  s.batch = broadcast_shapes(node, shapes).dims;
  return s;
}

std::vector<TensorType> infer_matmul(InferContext& c) {
  const TensorType& a = c.in(0);
  const TensorType& b = c.in(1);
  if (a.dtype != b.dtype) node_error(c.node, "A is {} but B is {}", dtype_name(a.dtype), dtype_name(b.dtype));
  if (a.dtype == DType::Bool) node_error(c.node, "MatMul does not take bool");
  validate_epilogue(c.node);
  if (!a.shape.rank_known || !b.shape.rank_known) return {TensorType{a.dtype, Shape::unknown_rank()}};
  const MatMulShape s = matmul_shape(c.node, a.shape, b.shape);
  if (c.has_input(2)) {
    const TensorType& bias = c.in(2);
    if (a.dtype != DType::F32 || bias.dtype != DType::F32) node_error(c.node, "a fused bias needs f32 inputs");
    if (s.b_vector || bias.rank() != 1 || (bias.shape.dims[0].known() && s.n.known() && bias.shape.dims[0].value != s.n.value))
      node_error(c.node, "the fused bias must have shape [N] = {}, got {}", to_string(Shape({s.n})), to_string(bias.shape));
  }
  std::vector<Dim> out = s.batch;
  if (!s.a_vector) out.push_back(s.m);
  if (!s.b_vector) out.push_back(s.n);
  return {TensorType{a.dtype, Shape(out)}};
}

// C[m,n] = Σ_k A[m,k]·B[k,n] for one pair of matrices, any type (accumulating in Acc).
template <typename T, typename Acc>
void matmul_plain(const T* A, const T* B, T* C, int64_t M, int64_t N, int64_t K) {
  std::vector<Acc> row(static_cast<size_t>(N));
  for (int64_t i = 0; i < M; ++i) {
    std::fill(row.begin(), row.end(), Acc(0));
    for (int64_t k = 0; k < K; ++k) {
      Acc a;
      if constexpr (std::is_integral_v<T>) a = Acc(A[i * K + k]); else a = Acc(to_double(A[i * K + k]));
      const T* b = B + k * N;
      for (int64_t j = 0; j < N; ++j) {
        if constexpr (std::is_integral_v<T>) row[size_t(j)] = Acc(row[size_t(j)] + a * Acc(b[j]));
        else row[size_t(j)] += a * Acc(to_double(b[j]));
      }
    }
    for (int64_t j = 0; j < N; ++j) {
      if constexpr (std::is_integral_v<T>) C[i * N + j] = T(row[size_t(j)]);
      else C[i * N + j] = from_double<T>(double(row[size_t(j)]));
    }
  }
}

void reference_matmul(KernelContext& k) {
  const Tensor& a = k.in(0);
  const Tensor& b = k.in(1);
  const MatMulShape s = matmul_shape(k.node, Shape(a.dims()), Shape(b.dims()));
  const int64_t M = s.m.value, N = s.n.value, K = s.k_a.value;
  const Dims batch = Shape(s.batch).concrete();
  const int64_t batches = product(batch);
  const Dims batch_a(a.dims().begin(), a.dims().end() - (s.a_vector ? 1 : 2));
  const Dims batch_b(b.dims().begin(), b.dims().end() - (s.b_vector ? 1 : 2));
  Tensor& y = k.out(0);
  visit_dtype(a.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      node_error(k.node, "MatMul does not take bool");
    } else {
      for (int64_t i = 0; i < batches; ++i) {
        const T* A = a.data<T>() + broadcast_index(i, batch, batch_a) * M * K;
        const T* B = b.data<T>() + broadcast_index(i, batch, batch_b) * K * N;
        T* C = y.data<T>() + i * M * N;
        if constexpr (std::is_same_v<T, float>) {
          sgemm(M, N, K, A, K, B, N, C, N, false);
          if (k.has_input(2)) {
            const float* bias = k.in(2).data<float>();
            for (int64_t r = 0; r < M; ++r)
              for (int64_t j = 0; j < N; ++j) C[r * N + j] += bias[j];
          }
          apply_epilogue(k.node, C, M * N);
        } else if constexpr (std::is_integral_v<T>) {
          matmul_plain<T, std::make_unsigned_t<std::conditional_t<(sizeof(T) < 4), int32_t, T>>>(A, B, C, M, N, K);
        } else {
          matmul_plain<T, double>(A, B, C, M, N, K);
        }
      }
    }
  });
}

// ---- Gemm -----------------------------------------------------------------------------------

std::vector<TensorType> infer_gemm(InferContext& c) {
  const Node& n = c.node;
  const TensorType& a = c.in(0);
  const TensorType& b = c.in(1);
  if (a.dtype != b.dtype) node_error(n, "A is {} but B is {}", dtype_name(a.dtype), dtype_name(b.dtype));
  // C shares A's type T (a fuzzed u32 C reached a kernel reading it as f32).
  if (c.has_input(2) && c.in(2).dtype != a.dtype) node_error(n, "A is {} but C is {}", dtype_name(a.dtype), dtype_name(c.in(2).dtype));
  validate_epilogue(n);
  if (!a.shape.rank_known || !b.shape.rank_known) return {TensorType{a.dtype, Shape(std::vector<Dim>(2))}};
  if (a.rank() != 2 || b.rank() != 2) node_error(n, "A and B must be 2-D, got {} and {}", to_string(a.shape), to_string(b.shape));
  const bool ta = attr_int(n, "transA") != 0, tb = attr_int(n, "transB") != 0;
  const Dim m = a.shape.dims[ta ? 1 : 0], ka = a.shape.dims[ta ? 0 : 1];
  const Dim kb = b.shape.dims[tb ? 1 : 0], cols = b.shape.dims[tb ? 0 : 1];
  if (ka.known() && kb.known() && ka.value != kb.value)
    node_error(n, "A' is [{},{}] and B' is [{},{}]: inner dims differ", m.known() ? m.value : -1, ka.value, kb.value,
               cols.known() ? cols.value : -1);
  const Shape y({m, cols});
  if (c.has_input(2) && c.in(2).shape.rank_known) {
    const Shape& cs = c.in(2).shape;
    if (cs.rank() > 2) node_error(n, "C has rank {}; it must broadcast to [M, N]", cs.rank());
    for (int i = 0; i < cs.rank(); ++i) {
      const Dim& cd = cs.dims[size_t(i)];
      const Dim& yd = y.dims[size_t(2 - cs.rank() + i)];
      if (cd.known() && yd.known() && cd.value != 1 && cd.value != yd.value)
        node_error(n, "C is {} and does not broadcast to [M, N] = {}", to_string(cs), to_string(y));
    }
  }
  return {TensorType{a.dtype, y}};
}

void reference_gemm(KernelContext& k) {
  const Node& n = k.node;
  const bool ta = attr_int(n, "transA") != 0, tb = attr_int(n, "transB") != 0;
  const float alpha = attr_float(n, "alpha"), beta = attr_float(n, "beta");
  const Tensor& a = k.in(0);
  const Tensor& b = k.in(1);
  Tensor& y = k.out(0);
  const int64_t M = y.dims()[0], N = y.dims()[1], K = a.dims()[ta ? 0 : 1];
  const Dims out_dims = y.dims();
  visit_dtype(a.dtype(), [&]<typename T>() {
    if constexpr (std::is_same_v<T, bool>) {
      node_error(n, "Gemm does not take bool");
    } else {
      // A' and B' as plain row-major matrices, then one multiply.
      auto transposed = [](const T* src, int64_t rows, int64_t cols) {
        std::vector<T> t(size_t(rows * cols));
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < cols; ++c) t[size_t(c * rows + r)] = src[r * cols + c];
        return t;
      };
      std::vector<T> at, bt;
      const T* A = a.data<T>();
      const T* B = b.data<T>();
      if (ta) at = transposed(A, K, M), A = at.data();
      if (tb) bt = transposed(B, N, K), B = bt.data();
      T* Y = y.data<T>();
      if constexpr (std::is_same_v<T, float>) sgemm(M, N, K, A, K, B, N, Y, N, false);
      else if constexpr (std::is_integral_v<T>) matmul_plain<T, std::make_unsigned_t<std::conditional_t<(sizeof(T) < 4), int32_t, T>>>(A, B, Y, M, N, K);
      else matmul_plain<T, double>(A, B, Y, M, N, K);
      const Tensor* c = k.has_input(2) ? &k.in(2) : nullptr;
      for (int64_t i = 0; i < M * N; ++i) {
        double v = double(alpha) * to_double(Y[i]);
        if (c) v += double(beta) * c->get_double(broadcast_index(i, out_dims, c->dims()));
        Y[i] = from_double<T>(v);
      }
      if constexpr (std::is_same_v<T, float>) apply_epilogue(n, Y, M * N);
    }
  });
}

}  // namespace

extern const OpDef kMatMul{.kind = OpKind::MatMul,
                           .onnx_name = "MatMul",
                           .min_inputs = 2,
                           .max_inputs = 3,  // 3rd: nnc's fused bias
                           .attrs = with_epilogue_attrs({}),
                           .infer = infer_matmul,
                           .reference = reference_matmul};

extern const OpDef kGemm{.kind = OpKind::Gemm,
                         .onnx_name = "Gemm",
                         .min_inputs = 2,
                         .max_inputs = 3,
                         .attrs = with_epilogue_attrs({AttrSpec{"alpha", AttrType::Float, 1.0f},
                                                 AttrSpec{"beta", AttrType::Float, 1.0f},
                                                 AttrSpec{"transA", AttrType::Int, int64_t{0}},
                                                 AttrSpec{"transB", AttrType::Int, int64_t{0}}}),
                         .infer = infer_gemm,
                         .reference = reference_gemm};

}  // namespace nnc
