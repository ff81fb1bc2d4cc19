#include "exporters/http/json_assertion.h"

#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>
#include <optional>

namespace vigil::http {
namespace {

bool IsKeyStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// Parses a JSON scalar literal at the start of `rest`; returns its length, 0
// when there is none.
size_t LiteralLength(std::string_view rest) {
  if (rest.empty()) return 0;
  if (rest.front() == '"') {
    for (size_t i = 1; i < rest.size(); ++i) {
      if (rest[i] == '\\') {
        ++i;
      } else if (rest[i] == '"') {
        return i + 1;
      }
    }
    return 0;
  }
  size_t n = 0;
  while (n < rest.size() && !std::isspace(static_cast<unsigned char>(rest[n]))) ++n;
  return n;
}

}  // namespace

util::Result<JsonAssertion> JsonAssertion::Parse(std::string_view text) {
  JsonAssertion out;
  out.text_ = std::string(text);
  size_t pos = 0;
  auto fail = [&](std::string_view what) {
    return util::Fail("invalid JSON assertion \"{}\": {} at column {}", text, what, pos + 1);
  };
  auto skip_space = [&] {
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos]))) ++pos;
  };
  skip_space();
  // Path.
  bool first = true;
  for (;;) {
    if (pos < text.size() && text[pos] == '[') {
      ++pos;
      if (pos < text.size() && text[pos] == '"') {
        size_t length = LiteralLength(text.substr(pos));
        if (length == 0) return fail("unterminated key");
        auto key = nlohmann::json::parse(text.substr(pos, length), nullptr, false);
        if (key.is_discarded() || !key.is_string()) return fail("invalid key");
        out.path_.emplace_back(key.get<std::string>());
        pos += length;
      } else {
        size_t start = pos;
        size_t index = 0;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
          if (pos - start >= 9) return fail("index too large");
          index = index * 10 + static_cast<size_t>(text[pos] - '0');
          ++pos;
        }
        if (pos == start) return fail("expected an index or a quoted key");
        out.path_.emplace_back(index);
      }
      if (pos >= text.size() || text[pos] != ']') return fail("expected ']'");
      ++pos;
    } else if ((first || (pos < text.size() && text[pos] == '.'))) {
      if (!first) ++pos;
      if (pos >= text.size() || !IsKeyStart(text[pos])) return fail("expected a key");
      size_t start = pos;
      while (pos < text.size() && IsKeyChar(text[pos])) ++pos;
      out.path_.emplace_back(std::string(text.substr(start, pos - start)));
    } else {
      break;
    }
    first = false;
  }
  skip_space();
  // Operator.
  static constexpr std::pair<std::string_view, Op> kOps[] = {{"==", Op::kEq}, {"!=", Op::kNe},
                                                             {"<=", Op::kLe}, {">=", Op::kGe},
                                                             {"<", Op::kLt},  {">", Op::kGt}};
  bool found = false;
  for (const auto& [token, op] : kOps) {
    if (text.substr(pos).starts_with(token)) {
      out.op_ = op;
      pos += token.size();
      found = true;
      break;
    }
  }
  if (!found) return fail("expected one of == != < <= > >=");
  skip_space();
  // Literal.
  size_t length = LiteralLength(text.substr(pos));
  if (length == 0) return fail("expected a literal");
  auto literal = nlohmann::json::parse(text.substr(pos, length), nullptr, false);
  if (literal.is_discarded() || literal.is_structured()) {
    return fail("expected a string, number, true, false or null");
  }
  out.literal_ = literal.dump();
  pos += length;
  skip_space();
  if (pos != text.size()) return fail("unexpected text");
  return out;
}

const nlohmann::json* JsonAssertion::Find(const nlohmann::json& document) const {
  const nlohmann::json* node = &document;
  for (const Step& step : path_) {
    if (const auto* key = std::get_if<std::string>(&step)) {
      if (!node->is_object()) return nullptr;
      auto it = node->find(*key);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else {
      size_t index = std::get<size_t>(step);
      if (!node->is_array() || index >= node->size()) return nullptr;
      node = &(*node)[index];
    }
  }
  return node;
}

bool JsonAssertion::Holds(const nlohmann::json& document) const {
  const nlohmann::json* value = Find(document);
  if (value == nullptr) return op_ == Op::kNe;
  const nlohmann::json literal = nlohmann::json::parse(literal_);
  // -1, 0, 1 when comparable; nullopt otherwise.
  std::optional<int> order;
  bool equal = false;
  if (value->is_number() && literal.is_number()) {
    double a = value->get<double>(), b = literal.get<double>();
    equal = a == b;
    order = a < b ? -1 : (a > b ? 1 : 0);
  } else if (value->is_string() && literal.is_string()) {
    int c = value->get_ref<const std::string&>().compare(literal.get_ref<const std::string&>());
    equal = c == 0;
    order = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    equal = *value == literal;
  }
  switch (op_) {
    case Op::kEq:
      return equal;
    case Op::kNe:
      return !equal;
    case Op::kLt:
      return order && *order < 0;
    case Op::kLe:
      return order && *order <= 0;
    case Op::kGt:
      return order && *order > 0;
    case Op::kGe:
      return order && *order >= 0;
  }
  return false;
}

std::string JsonAssertion::Describe(const nlohmann::json& document) const {
  const nlohmann::json* value = Find(document);
  return value == nullptr ? "nothing" : value->dump();
}

}  // namespace vigil::http
