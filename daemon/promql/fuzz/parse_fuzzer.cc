// libFuzzer target for the PromQL parser: every input must either parse or
// fail with an error, never crash. A parsed expression must re-print to text
// that parses again, and re-printing that must give the same text. (Like
// Prometheus, a literal +Inf prints as "+Inf", which re-parses as a unary
// plus when it is the left operand of `^`; such texts are only re-parsed.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "daemon/promql/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const auto& semantics : {vigil::promql::Semantics::V3(), vigil::promql::Semantics::V2()}) {
    vigil::promql::ParseOptions options{semantics};
    auto expr = vigil::promql::ParseExpr(input, options);
    if (!expr) continue;
    std::string printed = (*expr)->String();
    auto again = vigil::promql::ParseExpr(printed, options);
    if (!again) std::abort();
    if (printed.find("+Inf") == std::string::npos && (*again)->String() != printed) std::abort();
  }
  return 0;
}
