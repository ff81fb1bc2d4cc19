#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "daemon/template/detail/value.h"
#include "daemon/template/template.h"
#include "daemon/util/result.h"

namespace vigil::tmpl::detail {

// The Go type a function parameter declares, which decides how arguments are
// evaluated and checked (Go's evalArg/validateType).
enum class ParamType {
  kAny,      // interface {}
  kReflect,  // reflect.Value (the builtins)
  kString,   // string
  kFloat,    // float64
  kSample,   // *template.sample
  kVector,   // template.queryResult
};
std::string_view ParamTypeName(ParamType t);

// What functions may use from the execution.
struct FuncContext {
  const QueryFunc* query = nullptr;
  const std::string* external_url = nullptr;
  Dialect dialect = Dialect::kPrometheus3;
};

// One template function: Go's builtins or Prometheus's. An error becomes the
// template error "error calling <name>: <message>". `impl` is null for and/or,
// which short-circuit and so are evaluated by the executor.
struct FuncDef {
  std::string_view name;
  std::vector<ParamType> params;
  bool variadic = false;
  util::Result<Value> (*impl)(const FuncContext&, const std::vector<Value>&) = nullptr;
};

// The function called `name`, or null.
const FuncDef* LookupFunc(std::string_view name);

// The method `name` of *time.Time (toTime's result), or null. Its impl gets
// the receiver as the first argument; `params` excludes the receiver.
const FuncDef* LookupTimeMethod(std::string_view name);

// Whether a function called `name` exists (the parser's check).
bool HasFunc(std::string_view name);

}  // namespace vigil::tmpl::detail
