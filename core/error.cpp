#include "core/error.h"

namespace nnc {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadInput: return "bad input";
    case ErrorKind::Unsupported: return "unsupported";
    case ErrorKind::Runtime: return "runtime error";
    case ErrorKind::Internal: return "internal error";
  }
  return "error";
}

void check_internal(bool condition, const char* what, std::source_location where) {
  if (!condition)
    fail(ErrorKind::Internal, "{} ({}:{}); please report", what, where.file_name(), where.line());
}

Error with_context(const Error& error, const std::string& context) {
  return Error(error.kind(), context + error.what());
}

}  // namespace nnc
