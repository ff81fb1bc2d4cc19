#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/util/result.h"

namespace vigil::http {

// JsonAssertion is one comparison against a JSON response body, written as
//
//   <path> <op> <literal>        e.g.  status == "ok"
//                                      checks.db.latency_ms < 200
//                                      items[0].tags[2] != null
//                                      ["key with.dots"].up == true
//
// <path> is a dotted list of object keys (letters, digits, '_' and '-'; a key
// starting with a letter or '_') with [index] array subscripts, or ["key"] for
// any key; a path may start with a subscript. <op> is one of == != < <= > >=.
// <literal> is a JSON string, number, true, false or null.
// == and != compare type and value (numbers numerically: 12 == 12.0). The
// ordering operators hold only between two numbers or two strings. A path that
// does not exist makes every operator false except !=.
// An immutable value; thread-safe.
class JsonAssertion {
 public:
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };
  // One path step: an object key or an array index.
  using Step = std::variant<std::string, size_t>;

  // Parses an expression. Errors name the 1-based column:
  // `invalid JSON assertion "a ==": expected a literal at column 5`.
  static util::Result<JsonAssertion> Parse(std::string_view text);

  // Whether the assertion holds for `document`.
  bool Holds(const nlohmann::json& document) const;
  // What the path holds in `document`, for failure messages: the JSON text of
  // the value, or "nothing" when the path does not exist.
  std::string Describe(const nlohmann::json& document) const;

  const std::string& text() const { return text_; }
  const std::vector<Step>& path() const { return path_; }
  Op op() const { return op_; }

 private:
  const nlohmann::json* Find(const nlohmann::json& document) const;

  std::string text_;
  std::vector<Step> path_;
  Op op_ = Op::kEq;
  std::string literal_;  // the literal as JSON text (nlohmann::json is not in the header)
};

}  // namespace vigil::http
