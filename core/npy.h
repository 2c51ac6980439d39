// core/npy.h — NumPy .npy files: the format tests, `nnc run --input` and `--save-outputs` use.
//
// Reads versions 1.0-3.0, little-endian or byte-order-free dtypes, C order. The header is parsed
// strictly and the payload size is checked against the file before allocating.
#pragma once

#include <filesystem>
#include <string>

#include "core/tensor.h"

namespace nnc {

Tensor read_npy(const std::filesystem::path& path);
Tensor parse_npy(const std::string& bytes, const std::string& what);
void write_npy(const std::filesystem::path& path, const Tensor& tensor);

}  // namespace nnc
