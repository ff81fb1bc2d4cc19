#pragma once

#include <string>
#include <utility>

#include <fmt/format.h>
#include <tl/expected.hpp>

namespace vigil::util {

// Error is the failure value carried by Result<T> across module boundaries: a
// human-readable message, already phrased for the operator (no stack traces).
struct Error {
  std::string message;
};

// Result<T> is either a T or an Error. Fallible calls at module boundaries
// return it instead of throwing (STYLE.md #7).
template <typename T>
using Result = tl::expected<T, Error>;

// Returns an unexpected Error built with fmt syntax: `return Fail("bad {}", x);`
template <typename... Args>
tl::unexpected<Error> Fail(fmt::format_string<Args...> format, Args&&... args) {
  return tl::unexpected<Error>(Error{fmt::format(format, std::forward<Args>(args)...)});
}

}  // namespace vigil::util
