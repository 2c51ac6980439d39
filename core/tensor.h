// core/tensor.h — shapes (possibly symbolic), tensor types, and tensors with aligned storage.
//
// A TensorType is what the IR knows about a value before running: dtype and a Shape whose dims
// may be symbolic ("N") or unknown ("?"). A Tensor is a concrete value: dtype, concrete dims and
// a 64-byte aligned buffer shared between copies (tensors are cheap to copy; weights are never
// written after creation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace nnc {

using Dims = std::vector<int64_t>;

// One dimension of a Shape: a known size, a named symbolic size, or unknown.
struct Dim {
  int64_t value = -1;  // >= 0 when known
  std::string symbol;  // non-empty for a named symbolic dim
  Dim() = default;
  Dim(int64_t v) : value(v) {}  // NOLINT: dims convert from sizes implicitly
  static Dim named(std::string name) {
    Dim d;
    d.symbol = std::move(name);
    return d;
  }
  bool known() const { return value >= 0; }
  bool operator==(const Dim&) const = default;
};

struct Shape {
  std::vector<Dim> dims;
  bool rank_known = true;  // false: nothing is known, not even the rank

  Shape() = default;
  Shape(std::vector<Dim> d) : dims(std::move(d)) {}  // NOLINT
  Shape(const Dims& d) : dims(d.begin(), d.end()) {}  // NOLINT
  static Shape unknown_rank() {
    Shape s;
    s.rank_known = false;
    return s;
  }
  int rank() const { return int(dims.size()); }
  bool fully_known() const;
  Dims concrete() const;  // requires fully_known()
  bool operator==(const Shape&) const = default;
};

struct TensorType {
  DType dtype = DType::F32;
  Shape shape;
  int rank() const { return shape.rank(); }
  bool operator==(const TensorType&) const = default;
};

std::string to_string(const Shape& shape);     // "[1,3,N,?]", "[*]" for unknown rank
std::string to_string(const TensorType& type);  // "f32[1,3,N,?]"
std::string to_string(const Dims& dims);        // "[1,3,320,320]"

// 1 for an empty span; BadInput when the product does not fit in int64 (declared shapes).
int64_t product(std::span<const int64_t> dims);

// Checks that dims are non-negative, their rank and byte size within the resource limits
// (core/limits.h); returns the element count. Throws BadInput naming `what` otherwise.
int64_t checked_numel(const Dims& dims, DType dtype, const std::string& what);

// 64-byte aligned storage of at least `bytes` (rounded up to whole 64-byte lines, at least one),
// zero-filled when asked; throws Runtime when memory runs out.
std::shared_ptr<std::byte> allocate_aligned(size_t bytes, bool zeroed);

class Tensor {
 public:
  Tensor() = default;
  Tensor(DType dtype, Dims dims);  // zero-filled

  template <typename T>
  static Tensor from_vector(Dims dims, const std::vector<T>& values);
  template <typename T>
  static Tensor scalar(T value) {
    return from_vector<T>({}, {value});
  }

  DType dtype() const { return dtype_; }
  const Dims& dims() const { return dims_; }
  int rank() const { return int(dims_.size()); }
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return size_t(numel_) * dtype_size(dtype_); }
  bool empty_storage() const { return !storage_; }
  TensorType type() const { return {dtype_, Shape(dims_)}; }

  template <typename T>
  T* data() {
    check_type<T>();
    return reinterpret_cast<T*>(bytes());
  }
  template <typename T>
  const T* data() const {
    check_type<T>();
    return reinterpret_cast<const T*>(bytes());
  }
  std::byte* bytes() { return storage_.get() + offset_; }
  const std::byte* bytes() const { return storage_.get() + offset_; }

  // Same storage, other dims with the same element count.
  Tensor reshaped(Dims dims) const;
  // A tensor over `storage` + `offset` (an arena slot), which it keeps alive; not zero-filled.
  static Tensor view(std::shared_ptr<std::byte> storage, size_t offset, DType dtype, Dims dims);
  // A deep copy with its own storage.
  Tensor clone() const;
  // Element i converted to double / int64 (any dtype).
  double get_double(int64_t i) const;
  int64_t get_int(int64_t i) const;
  // The whole tensor as int64 values (shape inputs, axes, pads).
  std::vector<int64_t> to_int_vector() const;
  std::vector<double> to_double_vector() const;
  // Elementwise conversion to another dtype (ONNX Cast semantics for numbers).
  Tensor cast(DType to) const;

 private:
  template <typename T>
  void check_type() const {
    if (dtype_of<T>() != dtype_)
      fail(ErrorKind::Internal, "tensor is {}, accessed as {}", dtype_name(dtype_),
           dtype_name(dtype_of<T>()));
  }
  DType dtype_ = DType::F32;
  Dims dims_;
  int64_t numel_ = 0;
  std::shared_ptr<std::byte> storage_;
  size_t offset_ = 0;
};

template <typename T>
Tensor Tensor::from_vector(Dims dims, const std::vector<T>& values) {
  Tensor t(dtype_of<T>(), std::move(dims));
  check_internal(size_t(t.numel()) == values.size(), "from_vector: size mismatch");
  T* out = t.data<T>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return t;
}

// Row-major strides in elements.
Dims strides_of(const Dims& dims);

// Deterministic pseudo-random contents, the same on every machine and compiler: floats uniform
// in [-1, 1), integers in [-5, 4]. Used by `random(seed=N)` in IR text, `nnc run --input x=random`
// and the numeric checks of passes.
Tensor random_tensor(DType dtype, const Dims& dims, uint64_t seed);

}  // namespace nnc
