#include "core/npy.h"

#include <fstream>

namespace nnc {
namespace {

struct NpyType {
  std::string_view descr;
  DType dtype;
};
// bf16 has no NumPy dtype; it is stored as u16 bits by convention elsewhere, so not listed.
constexpr NpyType kNpyTypes[] = {
    {"<f4", DType::F32}, {"<f2", DType::F16}, {"<f8", DType::F64}, {"|i1", DType::I8},
    {"|u1", DType::U8},  {"<i2", DType::I16}, {"<u2", DType::U16}, {"<i4", DType::I32},
    {"<u4", DType::U32}, {"<i8", DType::I64}, {"<u8", DType::U64}, {"|b1", DType::Bool},
};

// Finds `'key':` in the header dict and returns the text after it.
std::string_view value_after(std::string_view header, std::string_view key, const std::string& what) {
  const std::string quoted = "'" + std::string(key) + "'";
  const size_t at = header.find(quoted);
  if (at == std::string_view::npos) bad_input("{}: .npy header has no '{}'", what, key);
  size_t colon = header.find(':', at + quoted.size());
  if (colon == std::string_view::npos) bad_input("{}: .npy header is malformed near '{}'", what, key);
  std::string_view rest = header.substr(colon + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  return rest;
}

}  // namespace

Tensor parse_npy(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) bad_input("{}: not a .npy file (bad magic)", what);
  const int major = uint8_t(bytes[6]);
  size_t header_len, header_start;
  if (major == 1) {
    header_len = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) bad_input("{}: truncated .npy header", what);
    header_len = 0;
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | uint8_t(bytes[8 + size_t(i)]);
    header_start = 12;
  } else {
    bad_input("{}: .npy version {} is not supported", what, major);
  }
  if (header_start + header_len > bytes.size()) bad_input("{}: truncated .npy header", what);
  const std::string_view header(bytes.data() + header_start, header_len);

  std::string_view descr = value_after(header, "descr", what);
  if (descr.size() < 2 || descr.front() != '\'') bad_input("{}: .npy descr is malformed", what);
  const size_t close = descr.find('\'', 1);
  if (close == std::string_view::npos) bad_input("{}: .npy descr is malformed (no closing quote)", what);
  descr = descr.substr(1, close - 1);
  std::optional<DType> dtype;
  // Every supported descr is a byte-order character and two more ("<f4"); '=' and '|' mean
  // native or not applicable, the same as '<' on this little-endian machine.
  for (const NpyType& t : kNpyTypes)
    if (descr.size() == 3 && t.descr.substr(1) == descr.substr(1) &&
        (descr[0] == '=' || descr[0] == '|' || descr[0] == '<'))
      dtype = t.dtype;
  if (!dtype) bad_input("{}: .npy dtype '{}' is not supported (big-endian, strings and objects are not)", what, descr);

  if (value_after(header, "fortran_order", what).starts_with("True"))
    bad_input("{}: .npy is in Fortran order; save it with np.ascontiguousarray", what);

  std::string_view shape_text = value_after(header, "shape", what);
  if (shape_text.empty() || shape_text.front() != '(') bad_input("{}: .npy shape is malformed", what);
  shape_text = shape_text.substr(1, shape_text.find(')') - 1);
  Dims dims;
  size_t pos = 0;
  while (pos < shape_text.size()) {
    while (pos < shape_text.size() && (shape_text[pos] == ' ' || shape_text[pos] == ',')) ++pos;
    if (pos >= shape_text.size()) break;
    int64_t d = 0;
    size_t digits = 0;
    while (pos < shape_text.size() && std::isdigit(uint8_t(shape_text[pos]))) {
      if (d > (int64_t(1) << 50)) bad_input("{}: .npy dimension is absurdly large", what);
      d = d * 10 + (shape_text[pos++] - '0');
      ++digits;
    }
    if (digits == 0) bad_input("{}: .npy shape '({})' is malformed", what, shape_text);
    dims.push_back(d);
    if (dims.size() > 64) bad_input("{}: .npy rank is over 64", what);
  }
  const int64_t numel = checked_numel(dims, *dtype, what);
  const size_t payload = size_t(numel) * dtype_size(*dtype);
  const size_t data_start = header_start + header_len;
  if (bytes.size() - data_start < payload)
    bad_input("{}: .npy holds {} data bytes but shape {} of {} needs {}", what, bytes.size() - data_start,
              to_string(dims), dtype_name(*dtype), payload);
  Tensor t(*dtype, dims);
  if (payload) std::memcpy(t.bytes(), bytes.data() + data_start, payload);
  if (*dtype == DType::Bool) {
    auto* b = reinterpret_cast<uint8_t*>(t.bytes());
    for (int64_t i = 0; i < numel; ++i) b[i] = b[i] != 0;
  }
  return t;
}

Tensor read_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) bad_input("{}: cannot open file", path.string());
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_npy(bytes, path.string());
}

void write_npy(const std::filesystem::path& path, const Tensor& tensor) {
  std::string descr;
  for (const NpyType& t : kNpyTypes)
    if (t.dtype == tensor.dtype()) descr = t.descr;
  Tensor data = tensor;
  if (descr.empty()) {  // bf16: widen to f32, which every reader understands
    data = tensor.cast(DType::F32);
    descr = "<f4";
  }
  std::string shape;
  for (int i = 0; i < data.rank(); ++i) shape += (i ? ", " : "") + std::to_string(data.dims()[size_t(i)]);
  if (data.rank() == 1) shape += ",";  // Python's one-element tuple
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  // Pad so the data starts on a 64-byte boundary, ending the header with a newline.
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  if (!out) fail(ErrorKind::Runtime, "{}: cannot write file", path.string());
  out.write("\x93NUMPY\x01\x00", 8);
  const uint16_t len = uint16_t(header.size());
  const char len_bytes[2] = {char(len & 0xff), char(len >> 8)};
  out.write(len_bytes, 2);
  out.write(header.data(), std::streamsize(header.size()));
  out.write(reinterpret_cast<const char*>(data.bytes()), std::streamsize(data.nbytes()));
  if (!out) fail(ErrorKind::Runtime, "{}: writing failed", path.string());
}

}  // namespace nnc
