#pragma once

#include <string>
#include <string_view>

#include "daemon/template/detail/funcs.h"
#include "daemon/template/detail/parse.h"
#include "daemon/template/detail/value.h"
#include "daemon/util/result.h"

namespace vigil::tmpl::detail {

// Go's maximum {{template}} call depth here (Go allows 100000; a C++ stack
// does not). Exceeding it fails with "exceeded maximum template depth (100)".
inline constexpr int kMaxExecDepth = 100;

// Executes template `name` of `trees` with `dot` as Go's text/template does
// with Option("missingkey=zero"). Errors read as Go's exec errors.
util::Result<std::string> Execute(const TreeSet& trees, const std::string& name, const Value& dot,
                                  const FuncContext& ctx);

}  // namespace vigil::tmpl::detail
