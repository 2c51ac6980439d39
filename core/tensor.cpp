#include "core/tensor.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "core/limits.h"

namespace nnc {

bool Shape::fully_known() const {
  if (!rank_known) return false;
  for (const Dim& d : dims)
    if (!d.known()) return false;
  return true;
}

Dims Shape::concrete() const {
  check_internal(fully_known(), "Shape::concrete on a shape with unknown dims");
  Dims out;
  for (const Dim& d : dims) out.push_back(d.value);
  return out;
}

std::string to_string(const Shape& shape) {
  if (!shape.rank_known) return "[*]";
  std::string s = "[";
  for (size_t i = 0; i < shape.dims.size(); ++i) {
    if (i) s += ",";
    const Dim& d = shape.dims[i];
    if (d.known()) s += std::to_string(d.value);
    else if (!d.symbol.empty()) s += d.symbol;
    else s += "?";
  }
  return s + "]";
}

std::string to_string(const TensorType& type) {
  return std::string(dtype_name(type.dtype)) + to_string(type.shape);
}

std::string to_string(const Dims& dims) { return to_string(Shape(dims)); }

int64_t product(std::span<const int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims)
    // Shapes a file declares reach here before any tensor exists (found by tests/fuzz).
    if (__builtin_mul_overflow(p, d, &p))
      bad_input("the element count of shape [{}] does not fit in 64 bits", fmt::join(dims, ","));
  return p;
}

int64_t checked_numel(const Dims& dims, DType dtype, const std::string& what) {
  const uint64_t limit = resource_limits().max_tensor_bytes;
  check_limit(what + "'s rank", "rank", dims.size());
  uint64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0) bad_input("{}: negative dimension in {}", what, to_string(dims));
    if (d == 0) return 0;
  }
  for (int64_t d : dims) {
    // Multiplying only while the product stays within the limit keeps it from overflowing.
    if (uint64_t(d) > limit || count > limit / uint64_t(d))
      check_limit(fmt::format("{}: the element count of shape {}", what, to_string(dims)), "tensor bytes", UINT64_MAX);
    count *= uint64_t(d);
  }
  if (count > limit / dtype_size(dtype))
    check_limit(fmt::format("{}: the size of {}{}", what, dtype_name(dtype), to_string(dims)), "tensor bytes",
                count * dtype_size(dtype));
  return int64_t(count);
}

std::shared_ptr<std::byte> allocate_aligned(size_t bytes, bool zeroed) {
  // Round up to a multiple of 64 so vector kernels may read whole cache lines, and allocate at
  // least one line so even empty tensors have a valid, aligned pointer.
  const size_t size = std::max<size_t>(64, (bytes + 63) / 64 * 64);
  void* p = std::aligned_alloc(64, size);
  if (!p) fail(ErrorKind::Runtime, "out of memory allocating {} bytes", size);
  if (zeroed) std::memset(p, 0, size);
  return std::shared_ptr<std::byte>(static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); });
}

Tensor::Tensor(DType dtype, Dims dims) : dtype_(dtype), dims_(std::move(dims)) {
  numel_ = checked_numel(dims_, dtype_, "tensor");
  storage_ = allocate_aligned(nbytes(), /*zeroed=*/true);
}

Tensor Tensor::view(std::shared_ptr<std::byte> storage, size_t offset, DType dtype, Dims dims) {
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  t.numel_ = checked_numel(t.dims_, dtype, "tensor view");
  t.storage_ = std::move(storage);
  t.offset_ = offset;
  return t;
}

Tensor Tensor::reshaped(Dims dims) const {
  check_internal(product(dims) == numel_, "reshaped: element count differs");
  Tensor t = *this;
  t.dims_ = std::move(dims);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, dims_);
  if (nbytes()) std::memcpy(t.bytes(), bytes(), nbytes());
  return t;
}

double Tensor::get_double(int64_t i) const {
  return visit_dtype(dtype_, [&]<typename T>() { return to_double(data<T>()[i]); });
}

int64_t Tensor::get_int(int64_t i) const {
  return visit_dtype(dtype_, [&]<typename T>() -> int64_t {
    if constexpr (std::is_integral_v<T>) return static_cast<int64_t>(data<T>()[i]);
    else return from_double<int64_t>(to_double(data<T>()[i]));
  });
}

std::vector<int64_t> Tensor::to_int_vector() const {
  std::vector<int64_t> out(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) out[size_t(i)] = get_int(i);
  return out;
}

std::vector<double> Tensor::to_double_vector() const {
  std::vector<double> out(static_cast<size_t>(numel_));
  for (int64_t i = 0; i < numel_; ++i) out[size_t(i)] = get_double(i);
  return out;
}

Tensor Tensor::cast(DType to) const {
  Tensor out(to, dims_);
  visit_dtype(dtype_, [&]<typename From>() {
    visit_dtype(to, [&]<typename To>() {
      const From* src = data<From>();
      To* dst = out.data<To>();
      for (int64_t i = 0; i < numel_; ++i) {
        if constexpr (std::is_integral_v<From> && std::is_integral_v<To>) {
          dst[i] = static_cast<To>(src[i]);  // integer casts wrap, as in ONNX and numpy
        } else {
          dst[i] = from_double<To>(to_double(src[i]));
        }
      }
    });
  });
  return out;
}

Dims strides_of(const Dims& dims) {
  Dims strides(dims.size(), 1);
  for (int i = int(dims.size()) - 2; i >= 0; --i) strides[size_t(i)] = strides[size_t(i) + 1] * dims[size_t(i) + 1];
  return strides;
}

// Deterministic uniform [-1, 1] numbers (a 64-bit LCG) so `random(seed=N)` means the same
// tensor on every machine and compiler.
Tensor random_tensor(DType dtype, const Dims& dims, uint64_t seed) {
  Tensor t(dtype, dims);
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  visit_dtype(t.dtype(), [&]<typename T>() {
    T* out = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      const double u = double(state >> 11) / double(1ull << 53);  // [0, 1)
      out[i] = is_float(t.dtype()) ? from_double<T>(2 * u - 1) : from_double<T>(std::floor(u * 10) - 5);
    }
  });
  return t;
}

}  // namespace nnc
