#include "daemon/template/detail/funcs.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>

#include "daemon/util/duration.h"

namespace vigil::tmpl::detail {
namespace {

using K = Value::Kind;
using util::Fail;
using util::Result;

// ------------------------------------------------------------ builtins --

enum class BasicKind { kInvalid, kBool, kInt, kFloat, kString };

BasicKind Basic(const Value& v) {
  switch (v.kind) {
    case K::kBool:
      return BasicKind::kBool;
    case K::kInt:
      return BasicKind::kInt;
    case K::kFloat:
      return BasicKind::kFloat;
    case K::kString:
      return BasicKind::kString;
    default:
      return BasicKind::kInvalid;
  }
}

std::string PrintV(const Value& v) { return Sprint({v}); }

Result<bool> Eq(const Value& a, const std::vector<Value>& others) {
  if (others.empty()) return Fail("missing argument for comparison");
  BasicKind k1 = Basic(a);
  for (const Value& b : others) {
    BasicKind k2 = Basic(b);
    bool truth = false;
    if (k1 != k2) {
      if (a.valid() && b.valid()) return Fail("incompatible types for comparison");
    } else {
      switch (k1) {
        case BasicKind::kBool:
          truth = a.b == b.b;
          break;
        case BasicKind::kInt:
          truth = a.i == b.i;
          break;
        case BasicKind::kFloat:
          truth = a.f == b.f;
          break;
        case BasicKind::kString:
          truth = a.s == b.s;
          break;
        case BasicKind::kInvalid:
          if (!a.valid() || !b.valid()) {
            truth = a.valid() == b.valid();
          } else if (a.kind != b.kind) {
            return Fail("incompatible types for comparison");
          } else if (a.kind == K::kSample) {
            truth = a.sample == b.sample;
          } else if (a.kind == K::kAlertData) {
            truth = a.data == b.data;
          } else if (a.kind == K::kTime) {
            truth = a.i == b.i;
          } else {
            return Fail("non-comparable type {}: {}", PrintV(b), TypeName(b));
          }
          break;
      }
    }
    if (truth) return true;
  }
  return false;
}

Result<bool> Lt(const Value& a, const Value& b) {
  BasicKind k1 = Basic(a);
  BasicKind k2 = Basic(b);
  if (k1 == BasicKind::kInvalid || k2 == BasicKind::kInvalid)
    return Fail("invalid type for comparison");
  if (k1 != k2) return Fail("incompatible types for comparison");
  switch (k1) {
    case BasicKind::kInt:
      return a.i < b.i;
    case BasicKind::kFloat:
      return a.f < b.f;
    case BasicKind::kString:
      return a.s < b.s;
    default:
      return Fail("invalid type for comparison");
  }
}

Result<bool> Le(const Value& a, const Value& b) {
  auto lt = Lt(a, b);
  if (!lt || *lt) return lt;
  return Eq(a, {b});
}

Result<Value> BoolResult(const Result<bool>& r) {
  if (!r) return tl::unexpected(r.error());
  return Value::Bool(*r);
}

Result<Value> FnEq(const FuncContext&, const std::vector<Value>& a) {
  return BoolResult(Eq(a[0], std::vector<Value>(a.begin() + 1, a.end())));
}
Result<Value> FnNe(const FuncContext&, const std::vector<Value>& a) {
  auto r = Eq(a[0], {a[1]});
  if (!r) return tl::unexpected(r.error());
  return Value::Bool(!*r);
}
Result<Value> FnLt(const FuncContext&, const std::vector<Value>& a) {
  return BoolResult(Lt(a[0], a[1]));
}
Result<Value> FnLe(const FuncContext&, const std::vector<Value>& a) {
  return BoolResult(Le(a[0], a[1]));
}
Result<Value> FnGt(const FuncContext&, const std::vector<Value>& a) {
  auto r = Le(a[0], a[1]);
  if (!r) return tl::unexpected(r.error());
  return Value::Bool(!*r);
}
Result<Value> FnGe(const FuncContext&, const std::vector<Value>& a) {
  auto r = Lt(a[0], a[1]);
  if (!r) return tl::unexpected(r.error());
  return Value::Bool(!*r);
}

Result<Value> FnNot(const FuncContext&, const std::vector<Value>& a) {
  return Value::Bool(!IsTrue(a[0]));
}

Result<Value> FnLen(const FuncContext&, const std::vector<Value>& a) {
  const Value& v = a[0];
  switch (v.kind) {
    case K::kInvalid:
      return Fail("reflect: call of reflect.Value.Type on zero Value");
    case K::kString:
      return Value::Int(static_cast<int64_t>(v.s.size()));
    case K::kStringMap:
      return Value::Int(static_cast<int64_t>(v.string_map->size()));
    case K::kAnyMap:
      return Value::Int(static_cast<int64_t>(v.any_map->size()));
    case K::kVector:
      return Value::Int(static_cast<int64_t>(v.vector->size()));
    case K::kSample:
      if (!v.sample) return Fail("len of nil pointer");
      return Fail("len of type template.sample");
    default:
      return Fail("len of type {}", TypeName(v));
  }
}

Result<int64_t> IndexArg(const Value& index, size_t len) {
  if (index.kind == K::kInvalid) return Fail("cannot index slice/array with nil");
  if (index.kind != K::kInt) return Fail("cannot index slice/array with type {}", TypeName(index));
  if (index.i < 0 || static_cast<uint64_t>(index.i) > len)
    return Fail("index out of range: {}", index.i);
  return index.i;
}

// Go's slice builtin: item[i:j] (item[i:j:k] for slices) of a string or a
// query result. promtool accepts it, so rule files may use it.
Result<Value> FnSlice(const FuncContext&, const std::vector<Value>& a) {
  const Value& item = a[0];
  if (!item.valid()) return Fail("slice of untyped nil");
  const size_t n = a.size() - 1;
  if (n > 3) return Fail("too many slice indexes: {}", n);
  size_t len = 0;
  switch (item.kind) {
    case K::kString:
      if (n == 3) return Fail("cannot 3-index slice a string");
      len = item.s.size();
      break;
    case K::kVector:
      len = item.vector->size();  // a query result's capacity is its length
      break;
    default:
      return Fail("can't slice item of type {}", TypeName(item));
  }
  int64_t idx[3] = {0, static_cast<int64_t>(len), static_cast<int64_t>(len)};
  for (size_t k = 0; k < n; ++k) {
    auto x = IndexArg(a[k + 1], len);
    if (!x) return tl::unexpected(x.error());
    idx[k] = *x;
  }
  if (idx[0] > idx[1]) return Fail("invalid slice index: {} > {}", idx[0], idx[1]);
  if (n == 3 && idx[1] > idx[2]) return Fail("invalid slice index: {} > {}", idx[1], idx[2]);
  const auto from = static_cast<size_t>(idx[0]);
  const auto to = static_cast<size_t>(idx[1]);
  if (item.kind == K::kString) return Value::String(item.s.substr(from, to - from));
  return Value::VectorOf(Vector(item.vector->begin() + static_cast<std::ptrdiff_t>(from),
                                item.vector->begin() + static_cast<std::ptrdiff_t>(to)));
}

Result<Value> FnIndex(const FuncContext&, const std::vector<Value>& a) {
  Value item = a[0];
  if (!item.valid()) return Fail("index of untyped nil");
  for (size_t k = 1; k < a.size(); ++k) {
    const Value& index = a[k];
    switch (item.kind) {
      case K::kString: {
        auto x = IndexArg(index, item.s.size());
        if (!x) return tl::unexpected(x.error());
        if (static_cast<size_t>(*x) == item.s.size())
          return Fail("reflect: string index out of range");
        item = Value::Int(static_cast<unsigned char>(item.s[static_cast<size_t>(*x)]));
        break;
      }
      case K::kVector: {
        auto x = IndexArg(index, item.vector->size());
        if (!x) return tl::unexpected(x.error());
        if (static_cast<size_t>(*x) == item.vector->size())
          return Fail("reflect: slice index out of range");
        item = Value::Sample((*item.vector)[static_cast<size_t>(*x)]);
        break;
      }
      case K::kStringMap:
      case K::kAnyMap: {
        if (!index.valid()) return Fail("value is nil; should be of type string");
        if (index.kind != K::kString)
          return Fail("value has type {}; should be string", TypeName(index));
        if (item.kind == K::kStringMap) {
          auto it = item.string_map->find(index.s);
          item = Value::String(it == item.string_map->end() ? "" : it->second);
        } else {
          auto it = item.any_map->find(index.s);
          item = it == item.any_map->end() ? Value() : it->second;
        }
        break;
      }
      case K::kSample:
        if (!item.sample) return Fail("index of nil pointer");
        return Fail("can't index item of type template.sample");
      default:
        return Fail("can't index item of type {}", TypeName(item));
    }
  }
  return item;
}

Result<Value> FnPrint(const FuncContext&, const std::vector<Value>& a) {
  return Value::String(Sprint(a));
}
Result<Value> FnPrintln(const FuncContext&, const std::vector<Value>& a) {
  return Value::String(Sprintln(a));
}
Result<Value> FnPrintf(const FuncContext&, const std::vector<Value>& a) {
  return Value::String(Sprintf(a[0].s, std::vector<Value>(a.begin() + 1, a.end())));
}

// Go's evalArgs for html/js/urlquery.
std::string EvalArgs(const std::vector<Value>& a) {
  if (a.size() == 1 && a[0].kind == K::kString) return a[0].s;
  std::vector<Value> printable = a;
  for (Value& v : printable) {
    if (!v.valid()) v = Value::String("<no value>");
  }
  return Sprint(printable);
}

Result<Value> FnHtml(const FuncContext&, const std::vector<Value>& a) {
  std::string out;
  for (char c : EvalArgs(a)) {
    switch (c) {
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\0':
        out += "\xEF\xBF\xBD";
        break;
      default:
        out += c;
    }
  }
  return Value::String(out);
}

Result<Value> FnJs(const FuncContext&, const std::vector<Value>& a) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string in = EvalArgs(a);
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    auto c = static_cast<unsigned char>(in[i]);
    if (c >= 0x80) {
      out += in[i];
      continue;
    }
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\'':
        out += "\\'";
        break;
      case '"':
        out += "\\\"";
        break;
      case '<':
        out += "\\u003C";
        break;
      case '>':
        out += "\\u003E";
        break;
      case '&':
        out += "\\u0026";
        break;
      case '=':
        out += "\\u003D";
        break;
      default:
        if (c < ' ') {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return Value::String(out);
}

// Go's url.QueryEscape.
std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<Value> FnUrlquery(const FuncContext&, const std::vector<Value>& a) {
  return Value::String(QueryEscape(EvalArgs(a)));
}

// ------------------------------------------------- Prometheus functions --

constexpr std::string_view kNilDeref =
    "runtime error: invalid memory address or nil pointer dereference";

Result<Value> FnQuery(const FuncContext& ctx, const std::vector<Value>& a) {
  if (ctx.query == nullptr || !*ctx.query) return Fail("no query engine");
  auto res = (*ctx.query)(a[0].s);
  if (!res) return tl::unexpected(res.error());
  Vector v;
  v.reserve(res->size());
  for (const auto& r : *res) {
    auto s = std::make_shared<SampleValue>();
    StringMap labels;
    for (const auto& l : r.labels) labels.emplace(l.name, l.value);
    s->labels = std::make_shared<const StringMap>(std::move(labels));
    s->value = r.value;
    v.push_back(std::move(s));
  }
  return Value::VectorOf(std::move(v));
}

Result<Value> FnFirst(const FuncContext&, const std::vector<Value>& a) {
  if (a[0].vector->empty()) return Fail("first() called on vector with no elements");
  return Value::Sample(a[0].vector->front());
}

Result<Value> FnLabel(const FuncContext&, const std::vector<Value>& a) {
  if (!a[1].sample) return Fail("{}", kNilDeref);
  auto it = a[1].sample->labels->find(a[0].s);
  return Value::String(it == a[1].sample->labels->end() ? "" : it->second);
}

Result<Value> FnValue(const FuncContext&, const std::vector<Value>& a) {
  if (!a[0].sample) return Fail("{}", kNilDeref);
  return Value::Float(a[0].sample->value);
}

Result<Value> FnStrvalue(const FuncContext&, const std::vector<Value>& a) {
  if (!a[0].sample) return Fail("{}", kNilDeref);
  auto it = a[0].sample->labels->find("__value__");
  return Value::String(it == a[0].sample->labels->end() ? "" : it->second);
}

Result<Value> FnArgs(const FuncContext&, const std::vector<Value>& a) {
  AnyMap m;
  for (size_t i = 0; i < a.size(); ++i) m[fmt::format("arg{}", i)] = a[i];
  Value v;
  v.kind = K::kAnyMap;
  v.any_map = std::make_shared<const AnyMap>(std::move(m));
  return v;
}

// Go's regexp error text for an RE2 error code.
std::string RegexpError(const re2::RE2& re) {
  std::string_view code;
  switch (re.error_code()) {
    case re2::RE2::ErrorBadEscape:
      code = "invalid escape sequence";
      break;
    case re2::RE2::ErrorBadCharClass:
      code = "invalid character class";
      break;
    case re2::RE2::ErrorBadCharRange:
      code = "invalid character class range";
      break;
    case re2::RE2::ErrorMissingBracket:
      code = "missing closing ]";
      break;
    case re2::RE2::ErrorMissingParen:
      code = "missing closing )";
      break;
    case re2::RE2::ErrorUnexpectedParen:
      code = "unexpected )";
      break;
    case re2::RE2::ErrorTrailingBackslash:
      code = "trailing backslash at end of expression";
      break;
    case re2::RE2::ErrorRepeatArgument:
      code = "missing argument to repetition operator";
      break;
    case re2::RE2::ErrorRepeatSize:
      code = "invalid repeat count";
      break;
    case re2::RE2::ErrorRepeatOp:
      code = "invalid nested repetition operator";
      break;
    case re2::RE2::ErrorBadPerlOp:
      code = "invalid or unsupported Perl syntax";
      break;
    case re2::RE2::ErrorBadUTF8:
      code = "invalid UTF-8";
      break;
    case re2::RE2::ErrorBadNamedCapture:
      code = "invalid named capture";
      break;
    case re2::RE2::ErrorPatternTooLarge:
      code = "expression too large";
      break;
    default:
      code = re.error();
      break;
  }
  return fmt::format("error parsing regexp: {}: `{}`", code, re.error_arg());
}

std::unique_ptr<re2::RE2> CompileRegexp(const std::string& pattern) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  return std::make_unique<re2::RE2>(pattern, opts);
}

Result<Value> FnMatch(const FuncContext&, const std::vector<Value>& a) {
  auto re = CompileRegexp(a[0].s);
  if (!re->ok()) return Fail("{}", RegexpError(*re));
  return Value::Bool(re2::RE2::PartialMatch(a[1].s, *re));
}

// Go's regexp.Expand for one match: $1, ${1}, $name, ${name}, $$.
void ExpandReplacement(std::string& out, std::string_view repl, const re2::RE2& re,
                       const std::vector<re2::StringPiece>& groups) {
  const auto& names = re.NamedCapturingGroups();
  for (size_t i = 0; i < repl.size();) {
    if (repl[i] != '$') {
      out += repl[i++];
      continue;
    }
    if (i + 1 < repl.size() && repl[i + 1] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    std::string_view name;
    size_t next = i + 1;
    bool brace = next < repl.size() && repl[next] == '{';
    if (brace) ++next;
    size_t start = next;
    while (next < repl.size() &&
           (std::isalnum(static_cast<unsigned char>(repl[next])) || repl[next] == '_'))
      ++next;
    name = repl.substr(start, next - start);
    if (name.empty() || (brace && (next >= repl.size() || repl[next] != '}'))) {
      out += '$';
      ++i;
      continue;
    }
    i = brace ? next + 1 : next;
    int group = -1;
    if (std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      int n = 0;
      auto res = std::from_chars(name.data(), name.data() + name.size(), n);
      if (res.ec == std::errc()) group = n;
    } else {
      auto it = names.find(std::string(name));
      if (it != names.end()) group = it->second;
    }
    if (group >= 0 && static_cast<size_t>(group) < groups.size() &&
        groups[static_cast<size_t>(group)].data()) {
      out.append(groups[static_cast<size_t>(group)].data(),
                 groups[static_cast<size_t>(group)].size());
    }
  }
}

std::string GoQuoteForRegexp(const std::string& s) {
  // strconv.CanBackquote: no backquote, no control characters but tab.
  bool can = std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return c == '`' || (u < ' ' && c != '\t') || u == 0x7F;
  });
  return can ? "`" + s + "`" : Quote(s);
}

Result<Value> FnReReplaceAll(const FuncContext&, const std::vector<Value>& a) {
  const std::string& pattern = a[0].s;
  auto re = CompileRegexp(pattern);
  if (!re->ok())
    return Fail("regexp: Compile({}): {}", GoQuoteForRegexp(pattern), RegexpError(*re));
  const std::string& src = a[2].s;
  std::string out;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(re->NumberOfCapturingGroups()) + 1);
  size_t last_end = 0;
  size_t search = 0;
  re2::StringPiece text(src);
  while (search <= src.size()) {
    if (!re->Match(text, search, src.size(), re2::RE2::UNANCHORED, groups.data(),
                   static_cast<int>(groups.size()))) {
      break;
    }
    auto mstart = static_cast<size_t>(groups[0].data() - src.data());
    size_t mend = mstart + groups[0].size();
    out.append(src, last_end, mstart - last_end);
    if (mend > last_end || mstart == 0) ExpandReplacement(out, a[1].s, *re, groups);
    last_end = mend;
    size_t width = 1;
    if (search < src.size()) {
      auto c = static_cast<unsigned char>(src[search]);
      width = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      width = std::min(width, src.size() - search);
    }
    if (search + width > mend) {
      search += width;
    } else if (search + 1 > mend) {
      ++search;
    } else {
      search = mend;
    }
  }
  out.append(src, std::min(last_end, src.size()), std::string::npos);
  return Value::String(out);
}

Result<Value> FnString(const FuncContext&, const std::vector<Value>& a) { return a[0]; }

bool IsWordByte(unsigned char c) { return std::isalnum(c) || c == '_' || c == '\'' || c >= 0x80; }

// Prometheus 3.x's title, x/text cases.Title with NoLower: upper-cases the
// first letter of each word.
std::string CasesTitle(std::string s) {
  bool in_word = false;
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (IsWordByte(c)) {
      if (!in_word && c >= 'a' && c <= 'z') s[i] = static_cast<char>(c - 'a' + 'A');
      in_word = true;
    } else if ((c == '.' || c == ':') && in_word && i + 1 < s.size() &&
               std::isalpha(static_cast<unsigned char>(s[i + 1])) && i > 0 &&
               std::isalpha(static_cast<unsigned char>(s[i - 1]))) {
      // A full stop or colon between letters continues the word (UAX #29).
      continue;
    } else {
      in_word = false;
    }
  }
  return s;
}

// Simple case mapping for ASCII, Latin-1, Latin Extended-A, Greek and
// Cyrillic (Go's unicode.ToUpper/ToLower for those blocks); other runes are
// kept as they are.
uint32_t UpperRune(uint32_t r) {
  if (r >= 'a' && r <= 'z') return r - 0x20;
  if (r < 0x80) return r;
  if (r == 0xB5) return 0x39C;
  if (r >= 0xE0 && r <= 0xFE && r != 0xF7) return r - 0x20;
  if (r == 0xFF) return 0x178;
  if (r >= 0x100 && r <= 0x17F && r != 0x130 && r != 0x131 && r != 0x138 && r != 0x149 &&
      r != 0x17F) {
    bool odd_lower = (r <= 0x137) || (r >= 0x14A && r <= 0x177);
    if (odd_lower ? (r % 2 == 1) : (r % 2 == 0 && r != 0x178)) return r - 1;
    return r;
  }
  if (r == 0x131) return 'I';
  if (r == 0x17F) return 'S';
  if (r >= 0x3B1 && r <= 0x3C9) return r == 0x3C2 ? 0x3A3 : r - 0x20;
  if (r >= 0x430 && r <= 0x44F) return r - 0x20;
  if (r >= 0x450 && r <= 0x45F) return r - 0x50;
  return r;
}

uint32_t LowerRune(uint32_t r) {
  if (r >= 'A' && r <= 'Z') return r + 0x20;
  if (r < 0x80) return r;
  if (r >= 0xC0 && r <= 0xDE && r != 0xD7) return r + 0x20;
  if (r == 0x178) return 0xFF;
  if (r == 0x130) return 'i';
  if (r >= 0x100 && r <= 0x17F && r != 0x131 && r != 0x138 && r != 0x149 && r != 0x17F) {
    bool even_upper = (r <= 0x137) || (r >= 0x14A && r <= 0x177);
    if (even_upper ? (r % 2 == 0) : (r % 2 == 1)) return r + 1;
    return r;
  }
  if (r >= 0x391 && r <= 0x3A9 && r != 0x3A2) return r + 0x20;
  if (r >= 0x410 && r <= 0x42F) return r + 0x20;
  if (r >= 0x400 && r <= 0x40F) return r + 0x50;
  return r;
}

// Go's strings.Map over runes: invalid UTF-8 bytes become U+FFFD (and `map`
// sees U+FFFD for them, as Go's mapping function does).
template <typename Map>
std::string MapRunes(const std::string& s, Map map) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : c >= 0xF5 ? 0 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    uint32_t r = n == 1 ? c : (c & (0x7Fu >> n));
    bool ok = n > 0 && i + n <= s.size();
    for (size_t k = 1; ok && k < n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xC0) == 0x80;
      r = (r << 6) | (cc & 0x3Fu);
    }
    if (ok && ((n == 3 && (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF))) ||
               (n == 4 && (r < 0x10000 || r > 0x10FFFF)))) {
      ok = false;
    }
    if (!ok) {
      map(0xFFFD);
      out += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    uint32_t m = map(r);
    if (m < 0x80) {
      out += static_cast<char>(m);
    } else if (m < 0x800) {
      out += static_cast<char>(0xC0 | (m >> 6));
      out += static_cast<char>(0x80 | (m & 0x3F));
    } else {
      out.append(s, i, n);  // runes beyond U+07FF map to themselves here
    }
    i += n;
  }
  return out;
}

// Go's unicode.IsSpace.
bool IsGoSpace(uint32_t r) {
  if (r < 0x100) {
    return r == ' ' || (r >= '\t' && r <= '\r') || r == 0x85 || r == 0xA0;
  }
  return r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 || r == 0x2029 ||
         r == 0x202F || r == 0x205F || r == 0x3000;
}

// Prometheus 2.x's title, Go's strings.Title: a rune is upper-cased when the
// one before it is a separator (start of string, ASCII other than letters,
// digits and '_', or a Unicode space).
std::string GoStringsTitle(const std::string& s) {
  uint32_t prev = ' ';
  auto is_separator = [](uint32_t r) {
    if (r < 0x80) return !(std::isalnum(static_cast<int>(r)) || r == '_');
    return IsGoSpace(r);
  };
  return MapRunes(s, [&prev, &is_separator](uint32_t r) {
    const bool start = is_separator(prev);
    prev = r;
    return start ? UpperRune(r) : r;
  });
}

Result<Value> FnTitle(const FuncContext& ctx, const std::vector<Value>& a) {
  return Value::String(ctx.dialect == Dialect::kPrometheus2 ? GoStringsTitle(a[0].s)
                                                             : CasesTitle(a[0].s));
}

Result<Value> FnToUpper(const FuncContext&, const std::vector<Value>& a) {
  return Value::String(MapRunes(a[0].s, UpperRune));
}

Result<Value> FnToLower(const FuncContext&, const std::vector<Value>& a) {
  return Value::String(MapRunes(a[0].s, LowerRune));
}

Result<Value> FnGraphLink(const FuncContext&, const std::vector<Value>& a) {
  return Value::String(fmt::format("/graph?g0.expr={}&g0.tab=0", QueryEscape(a[0].s)));
}
Result<Value> FnTableLink(const FuncContext&, const std::vector<Value>& a) {
  return Value::String(fmt::format("/graph?g0.expr={}&g0.tab=1", QueryEscape(a[0].s)));
}

Result<Value> FnSortByLabel(const FuncContext&, const std::vector<Value>& a) {
  Vector v = *a[1].vector;
  const std::string& label = a[0].s;
  auto get = [&label](const SamplePtr& s) -> std::string_view {
    if (!s) return "";
    auto it = s->labels->find(label);
    return it == s->labels->end() ? std::string_view() : std::string_view(it->second);
  };
  std::stable_sort(v.begin(), v.end(),
                   [&](const SamplePtr& x, const SamplePtr& y) { return get(x) < get(y); });
  return Value::VectorOf(std::move(v));
}

// Go's net.SplitHostPort.
bool SplitHostPort(std::string_view hp, std::string& host, std::string& port) {
  size_t i = hp.rfind(':');
  if (i == std::string_view::npos) return false;
  size_t j = 0, k = 0;
  if (hp[0] == '[') {
    size_t end = hp.find(']');
    if (end == std::string_view::npos) return false;
    if (end + 1 != i) return false;
    host = std::string(hp.substr(1, end - 1));
    j = 1;
    k = end + 1;
  } else {
    host = std::string(hp.substr(0, i));
    if (host.find(':') != std::string::npos) return false;
  }
  if (hp.substr(j).find('[') != std::string_view::npos) return false;
  if (hp.substr(k).find(']') != std::string_view::npos) return false;
  port = std::string(hp.substr(i + 1));
  return true;
}

bool IsIP(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

Result<Value> FnStripPort(const FuncContext&, const std::vector<Value>& a) {
  std::string host, port;
  if (!SplitHostPort(a[0].s, host, port)) return a[0];
  return Value::String(host);
}

Result<Value> FnStripDomain(const FuncContext&, const std::vector<Value>& a) {
  std::string host, port;
  if (!SplitHostPort(a[0].s, host, port)) {
    host = a[0].s;
    port.clear();
  }
  if (IsIP(host)) return a[0];
  host = host.substr(0, host.find('.'));
  if (!port.empty()) {
    if (host.find(':') != std::string::npos) return Value::String("[" + host + "]:" + port);
    return Value::String(host + ":" + port);
  }
  return Value::String(host);
}

// Go's strconv.ParseFloat(s, 64) for decimal input.
Result<double> ParseFloat(const std::string& s) {
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  auto lower = [](std::string_view x) {
    std::string r(x);
    for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return r;
  };
  std::string l = lower(body);
  if (l == "inf" || l == "infinity") return neg ? -HUGE_VAL : HUGE_VAL;
  if (l == "nan") return std::nan("");
  double v = 0;
  bool syntax_ok = !body.empty() && body.find_first_of("(nNiI") == std::string_view::npos;
  if (syntax_ok) {
    auto res =
        std::from_chars(body.data(), body.data() + body.size(), v, std::chars_format::general);
    syntax_ok = res.ec != std::errc::invalid_argument && res.ptr == body.data() + body.size();
  }
  if (!syntax_ok) return Fail("strconv.ParseFloat: parsing {}: invalid syntax", Quote(s));
  std::string copy(body);
  errno = 0;
  v = std::strtod(copy.c_str(), nullptr);
  if (errno == ERANGE && std::isinf(v))
    return Fail("strconv.ParseFloat: parsing {}: value out of range", Quote(s));
  return neg ? -v : v;
}

// Prometheus's convertToFloat.
Result<double> ToFloat(const Value& v) {
  switch (v.kind) {
    case K::kFloat:
      return v.f;
    case K::kInt:
      return static_cast<double>(v.i);
    case K::kString:
      return ParseFloat(v.s);
    default:
      return Fail("can't convert {} to float", TypeName(v));
  }
}

std::string G4(double v) { return FormatFloat(v, 'g', 4); }

Result<Value> FnHumanize(const FuncContext&, const std::vector<Value>& a) {
  auto f = ToFloat(a[0]);
  if (!f) return tl::unexpected(f.error());
  double v = *f;
  if (v == 0 || std::isnan(v) || std::isinf(v)) return Value::String(G4(v));
  std::string_view prefix;
  if (std::fabs(v) >= 1) {
    for (std::string_view p : {"k", "M", "G", "T", "P", "E", "Z", "Y"}) {
      if (std::fabs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
  } else {
    for (std::string_view p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
      if (std::fabs(v) >= 1) break;
      prefix = p;
      v *= 1000;
    }
  }
  return Value::String(G4(v) + std::string(prefix));
}

Result<Value> FnHumanize1024(const FuncContext&, const std::vector<Value>& a) {
  auto f = ToFloat(a[0]);
  if (!f) return tl::unexpected(f.error());
  double v = *f;
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return Value::String(G4(v));
  std::string_view prefix;
  for (std::string_view p : {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"}) {
    if (std::fabs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return Value::String(G4(v) + std::string(prefix));
}

// Go's int64(f) on amd64: out-of-range conversions give math.MinInt64.
int64_t GoInt64(double f) {
  if (!(f > -9223372036854775808.0 && f < 9223372036854775808.0)) return INT64_MIN;
  return static_cast<int64_t>(f);
}

Result<Value> FnHumanizeDuration(const FuncContext&, const std::vector<Value>& a) {
  auto f = ToFloat(a[0]);
  if (!f) return tl::unexpected(f.error());
  double v = *f;
  if (std::isnan(v) || std::isinf(v)) return Value::String(G4(v));
  if (v == 0) return Value::String(G4(v) + "s");
  if (std::fabs(v) >= 1) {
    std::string sign;
    if (v < 0) {
      sign = "-";
      v = -v;
    }
    int64_t d = GoInt64(v);
    int64_t seconds = d % 60;
    int64_t minutes = (d / 60) % 60;
    int64_t hours = (d / 60 / 60) % 24;
    int64_t days = d / 60 / 60 / 24;
    if (days != 0)
      return Value::String(fmt::format("{}{}d {}h {}m {}s", sign, days, hours, minutes, seconds));
    if (hours != 0)
      return Value::String(fmt::format("{}{}h {}m {}s", sign, hours, minutes, seconds));
    if (minutes != 0) return Value::String(fmt::format("{}{}m {}s", sign, minutes, seconds));
    return Value::String(sign + G4(v) + "s");
  }
  std::string_view prefix;
  for (std::string_view p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return Value::String(G4(v) + std::string(prefix) + "s");
}

Result<Value> FnHumanizePercentage(const FuncContext&, const std::vector<Value>& a) {
  auto f = ToFloat(a[0]);
  if (!f) return tl::unexpected(f.error());
  return Value::String(G4(*f * 100) + "%");
}

// Prometheus's floatToTime: milliseconds since the epoch.
Result<int64_t> FloatToMillis(double v) {
  if (std::isnan(v) || std::isinf(v)) return Fail("value is NaN or Inf");
  double ts = v * 1e9;
  if (ts > 9223372036854775807.0 || ts < -9223372036854775808.0) {
    return Fail("{} cannot be represented as a nanoseconds timestamp since it overflows int64",
                FormatFloat(v, 'g', -1));
  }
  return GoInt64(ts) / 1000000;
}

Result<Value> FnHumanizeTimestamp(const FuncContext&, const std::vector<Value>& a) {
  auto f = ToFloat(a[0]);
  if (!f) return tl::unexpected(f.error());
  if (std::isnan(*f) || std::isinf(*f)) return Value::String(G4(*f));
  auto ms = FloatToMillis(*f);
  if (!ms) return tl::unexpected(ms.error());
  return Value::String(FormatTime(*ms));
}

Result<Value> FnToTime(const FuncContext&, const std::vector<Value>& a) {
  auto f = ToFloat(a[0]);
  if (!f) return tl::unexpected(f.error());
  auto ms = FloatToMillis(*f);
  if (!ms) return tl::unexpected(ms.error());
  return Value::Time(*ms);
}

// The path of a URL: what follows scheme://authority, up to ? or #.
std::string UrlPath(const std::string& url) {
  size_t start = 0;
  size_t scheme = url.find("://");
  if (scheme != std::string::npos) {
    start = url.find('/', scheme + 3);
    if (start == std::string::npos) return "";
  }
  size_t end = url.find_first_of("?#", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

Result<Value> FnPathPrefix(const FuncContext& ctx, const std::vector<Value>&) {
  return Value::String(ctx.external_url ? UrlPath(*ctx.external_url) : "");
}
Result<Value> FnExternalURL(const FuncContext& ctx, const std::vector<Value>&) {
  return Value::String(ctx.external_url ? *ctx.external_url : "");
}

Result<Value> FnParseDuration(const FuncContext&, const std::vector<Value>& a) {
  auto d = util::ParseDuration(a[0].s);
  if (!d) return tl::unexpected(d.error());
  return Value::Float(static_cast<double>(d->count()) / 1000.0);
}

// ------------------------------------------------------ *time.Time --

struct CivilTime {
  int64_t year;
  int month, day, hour, minute, second, yday, wday;
  int64_t millis;  // within the second
};

CivilTime Civil(int64_t ms) {
  using std::chrono::days;
  using std::chrono::floor;
  using std::chrono::milliseconds;
  std::chrono::sys_time<milliseconds> tp{milliseconds(ms)};
  auto day = floor<days>(tp);
  std::chrono::year_month_day ymd{day};
  int64_t ms_of_day = (tp - day).count();
  auto jan1 = std::chrono::sys_days{ymd.year() / std::chrono::January / 1};
  int64_t days_since_epoch = day.time_since_epoch().count();
  CivilTime c{};
  c.year = static_cast<int>(ymd.year());
  c.month = static_cast<int>(static_cast<unsigned>(ymd.month()));
  c.day = static_cast<int>(static_cast<unsigned>(ymd.day()));
  c.hour = static_cast<int>(ms_of_day / 3600000);
  c.minute = static_cast<int>(ms_of_day / 60000 % 60);
  c.second = static_cast<int>(ms_of_day / 1000 % 60);
  c.millis = ms_of_day % 1000;
  c.yday = static_cast<int>((day - jan1).count()) + 1;
  c.wday = static_cast<int>(((days_since_epoch % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  return c;
}

constexpr std::string_view kMonths[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
constexpr std::string_view kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                      "Thursday", "Friday", "Saturday"};

// Go's time.Time.Format for a UTC instant in milliseconds since the epoch.
std::string FormatTimeLayout(int64_t millis, std::string_view layout) {
  CivilTime c = Civil(millis);
  std::string out;
  auto lower_next = [&](size_t i) {
    return i < layout.size() && layout[i] >= 'a' && layout[i] <= 'z';
  };
  auto starts = [&](size_t i, std::string_view p) { return layout.substr(i).starts_with(p); };
  size_t i = 0;
  while (i < layout.size()) {
    char ch = layout[i];
    if (starts(i, "January")) {
      out += kMonths[c.month - 1];
      i += 7;
    } else if (starts(i, "Jan") && !lower_next(i + 3)) {
      out += kMonths[c.month - 1].substr(0, 3);
      i += 3;
    } else if (starts(i, "Monday")) {
      out += kDays[c.wday];
      i += 6;
    } else if (starts(i, "Mon") && !lower_next(i + 3)) {
      out += kDays[c.wday].substr(0, 3);
      i += 3;
    } else if (starts(i, "MST")) {
      out += "UTC";
      i += 3;
    } else if (ch == '0' && i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
      int v[] = {c.month,  c.day,    c.hour % 12 == 0 ? 12 : c.hour % 12,
                 c.minute, c.second, static_cast<int>(((c.year % 100) + 100) % 100)};
      out += fmt::format("{:02d}", v[layout[i + 1] - '1']);
      i += 2;
    } else if (starts(i, "002")) {
      out += fmt::format("{:03d}", c.yday);
      i += 3;
    } else if (starts(i, "15")) {
      out += fmt::format("{:02d}", c.hour);
      i += 2;
    } else if (ch == '1') {
      out += std::to_string(c.month);
      ++i;
    } else if (starts(i, "2006")) {
      out += fmt::format("{:04d}", c.year);
      i += 4;
    } else if (ch == '2') {
      out += std::to_string(c.day);
      ++i;
    } else if (starts(i, "_2006")) {
      out += fmt::format("_{:04d}", c.year);
      i += 5;
    } else if (starts(i, "_2")) {
      out += fmt::format("{:>2d}", c.day);
      i += 2;
    } else if (starts(i, "__2")) {
      out += fmt::format("{:>3d}", c.yday);
      i += 3;
    } else if (ch == '3') {
      out += std::to_string(c.hour % 12 == 0 ? 12 : c.hour % 12);
      ++i;
    } else if (ch == '4') {
      out += std::to_string(c.minute);
      ++i;
    } else if (ch == '5') {
      out += std::to_string(c.second);
      ++i;
    } else if (starts(i, "PM")) {
      out += c.hour >= 12 ? "PM" : "AM";
      i += 2;
    } else if (starts(i, "pm")) {
      out += c.hour >= 12 ? "pm" : "am";
      i += 2;
    } else if (ch == '-' || ch == 'Z') {
      // Numeric zones; the instant is UTC, so Z forms print "Z".
      static constexpr std::pair<std::string_view, std::string_view> kZones[] = {
          {"070000", "+000000"},
          {"07:00:00", "+00:00:00"},
          {"0700", "+0000"},
          {"07:00", "+00:00"},
          {"07", "+00"}};
      bool matched = false;
      for (const auto& [pat, val] : kZones) {
        if (starts(i + 1, pat)) {
          out += ch == 'Z' ? std::string_view("Z") : val;
          i += 1 + pat.size();
          matched = true;
          break;
        }
      }
      if (!matched) out += layout[i++];
    } else if ((ch == '.' || ch == ',') && i + 1 < layout.size() &&
               (layout[i + 1] == '0' || layout[i + 1] == '9')) {
      char digit = layout[i + 1];
      size_t j = i + 1;
      while (j < layout.size() && layout[j] == digit) ++j;
      if (j < layout.size() && layout[j] >= '0' && layout[j] <= '9') {
        out += layout[i++];
        continue;
      }
      size_t n = j - i - 1;
      std::string frac = fmt::format("{:03d}", c.millis) + std::string(n > 3 ? n - 3 : 0, '0');
      frac.resize(n);
      if (digit == '9') {
        while (!frac.empty() && frac.back() == '0') frac.pop_back();
      }
      if (!frac.empty()) {
        out += ch;
        out += frac;
      }
      i = j;
    } else {
      out += layout[i++];
    }
  }
  return out;
}

Result<Value> MethodFormat(const FuncContext&, const std::vector<Value>& a) {
  return Value::String(FormatTimeLayout(a[0].i, a[1].s));
}
Result<Value> MethodUnix(const FuncContext&, const std::vector<Value>& a) {
  int64_t ms = a[0].i;
  return Value::Int(ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
}
Result<Value> MethodUnixMilli(const FuncContext&, const std::vector<Value>& a) {
  return Value::Int(a[0].i);
}
Result<Value> MethodUTC(const FuncContext&, const std::vector<Value>& a) { return a[0]; }
Result<Value> MethodString(const FuncContext&, const std::vector<Value>& a) {
  return Value::String(FormatTime(a[0].i));
}
Result<Value> MethodYear(const FuncContext&, const std::vector<Value>& a) {
  return Value::Int(Civil(a[0].i).year);
}
Result<Value> MethodYearDay(const FuncContext&, const std::vector<Value>& a) {
  return Value::Int(Civil(a[0].i).yday);
}
Result<Value> MethodDay(const FuncContext&, const std::vector<Value>& a) {
  return Value::Int(Civil(a[0].i).day);
}
Result<Value> MethodHour(const FuncContext&, const std::vector<Value>& a) {
  return Value::Int(Civil(a[0].i).hour);
}
Result<Value> MethodMinute(const FuncContext&, const std::vector<Value>& a) {
  return Value::Int(Civil(a[0].i).minute);
}
Result<Value> MethodSecond(const FuncContext&, const std::vector<Value>& a) {
  return Value::Int(Civil(a[0].i).second);
}

using P = ParamType;

const std::vector<FuncDef>& Funcs() {
  static const std::vector<FuncDef> kFuncs = {
      // Go's builtins.
      // and/or short-circuit: the executor evaluates them itself (no impl).
      {"and", {P::kReflect, P::kReflect}, true, nullptr},
      {"or", {P::kReflect, P::kReflect}, true, nullptr},
      {"not", {P::kReflect}, false, FnNot},
      {"len", {P::kReflect}, false, FnLen},
      {"index", {P::kReflect, P::kReflect}, true, FnIndex},
      {"slice", {P::kReflect, P::kReflect}, true, FnSlice},
      {"print", {P::kAny}, true, FnPrint},
      {"printf", {P::kString, P::kAny}, true, FnPrintf},
      {"println", {P::kAny}, true, FnPrintln},
      {"html", {P::kAny}, true, FnHtml},
      {"js", {P::kAny}, true, FnJs},
      {"urlquery", {P::kAny}, true, FnUrlquery},
      {"eq", {P::kReflect, P::kReflect}, true, FnEq},
      {"ne", {P::kReflect, P::kReflect}, false, FnNe},
      {"lt", {P::kReflect, P::kReflect}, false, FnLt},
      {"le", {P::kReflect, P::kReflect}, false, FnLe},
      {"gt", {P::kReflect, P::kReflect}, false, FnGt},
      {"ge", {P::kReflect, P::kReflect}, false, FnGe},
      // Prometheus's template functions.
      {"query", {P::kString}, false, FnQuery},
      {"first", {P::kVector}, false, FnFirst},
      {"label", {P::kString, P::kSample}, false, FnLabel},
      {"value", {P::kSample}, false, FnValue},
      {"strvalue", {P::kSample}, false, FnStrvalue},
      {"args", {P::kAny}, true, FnArgs},
      {"reReplaceAll", {P::kString, P::kString, P::kString}, false, FnReReplaceAll},
      {"safeHtml", {P::kString}, false, FnString},
      {"match", {P::kString, P::kString}, false, FnMatch},
      {"title", {P::kString}, false, FnTitle},
      {"toUpper", {P::kString}, false, FnToUpper},
      {"toLower", {P::kString}, false, FnToLower},
      {"graphLink", {P::kString}, false, FnGraphLink},
      {"tableLink", {P::kString}, false, FnTableLink},
      {"sortByLabel", {P::kString, P::kVector}, false, FnSortByLabel},
      {"stripPort", {P::kString}, false, FnStripPort},
      {"stripDomain", {P::kString}, false, FnStripDomain},
      {"humanize", {P::kAny}, false, FnHumanize},
      {"humanize1024", {P::kAny}, false, FnHumanize1024},
      {"humanizeDuration", {P::kAny}, false, FnHumanizeDuration},
      {"humanizePercentage", {P::kAny}, false, FnHumanizePercentage},
      {"humanizeTimestamp", {P::kAny}, false, FnHumanizeTimestamp},
      {"toTime", {P::kAny}, false, FnToTime},
      {"pathPrefix", {}, false, FnPathPrefix},
      {"externalURL", {}, false, FnExternalURL},
      {"parseDuration", {P::kString}, false, FnParseDuration},
  };
  return kFuncs;
}

}  // namespace

std::string_view ParamTypeName(ParamType t) {
  switch (t) {
    case P::kAny:
      return "interface {}";
    case P::kReflect:
      return "reflect.Value";
    case P::kString:
      return "string";
    case P::kFloat:
      return "float64";
    case P::kSample:
      return "*template.sample";
    case P::kVector:
      return "template.queryResult";
  }
  return "";
}

const FuncDef* LookupFunc(std::string_view name) {
  for (const auto& f : Funcs()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool HasFunc(std::string_view name) { return LookupFunc(name) != nullptr; }

const FuncDef* LookupTimeMethod(std::string_view name) {
  static const std::vector<FuncDef> kMethods = {
      {"Format", {P::kString}, false, MethodFormat},
      {"Unix", {}, false, MethodUnix},
      {"UnixMilli", {}, false, MethodUnixMilli},
      {"UTC", {}, false, MethodUTC},
      {"String", {}, false, MethodString},
      {"Year", {}, false, MethodYear},
      {"YearDay", {}, false, MethodYearDay},
      {"Day", {}, false, MethodDay},
      {"Hour", {}, false, MethodHour},
      {"Minute", {}, false, MethodMinute},
      {"Second", {}, false, MethodSecond},
  };
  for (const auto& m : kMethods) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace vigil::tmpl::detail
