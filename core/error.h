// core/error.h — the one exception type nnc throws, and how errors name their place.
//
// Every user-facing failure is an nnc::Error with a kind that decides the exit code
// (tools/cli/main.cpp): BadInput and Unsupported exit 2, Runtime and Internal exit 1.
// Messages say what is wrong, with numbers, and where (file, node, op, byte offset).
#pragma once

#include <fmt/format.h>

#include <source_location>
#include <stdexcept>
#include <string>

namespace nnc {

enum class ErrorKind { BadInput, Unsupported, Runtime, Internal };

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message) : std::runtime_error(std::move(message)), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

template <typename... Args>
[[noreturn]] void fail(ErrorKind kind, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(kind, fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void bad_input(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(ErrorKind::BadInput, fmt::format(format, std::forward<Args>(args)...));
}

// An invariant of nnc itself, not of the user's input. Failing it is a bug in nnc.
void check_internal(bool condition, const char* what,
                    std::source_location where = std::source_location::current());

// Prefixes an error's message with context ("model.onnx: ") and keeps its kind.
Error with_context(const Error& error, const std::string& context);

}  // namespace nnc
