#include "daemon/promql/parser.h"

#include "daemon/util/utf8.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>

#include "daemon/util/duration.h"

namespace vigil::promql {
namespace {

enum class Tok {
  kEof,
  kIdent,
  kNumber,
  kDuration,
  kString,
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kLBracket,
  kRBracket,
  kComma,
  kColon,
  kAt,
  kAssign,
  kEqlRegex,
  kNeqRegex,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEql,
  kNeq,
  kGtr,
  kLss,
  kGte,
  kLte,
};

struct Token {
  Tok type = Tok::kEof;
  int pos = 0;
  int end = 0;
  std::string text;   // raw text (identifier, number, duration)
  std::string value;  // unquoted string value
};

// ParseError carries the byte position of the failure; converted to the
// "line:col: parse error: msg" form at the API boundary.
struct ParseError {
  int pos;
  std::string message;
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  // Produces the next token or throws ParseError (caught inside this file).
  Token Next() {
    SkipSpace();
    Token t;
    t.pos = static_cast<int>(i_);
    if (i_ >= in_.size()) {
      t.end = t.pos;
      return t;
    }
    char c = in_[i_];
    auto single = [&](Tok type, size_t len) {
      t.type = type;
      t.text = std::string(in_.substr(i_, len));
      i_ += len;
      t.end = static_cast<int>(i_);
      return t;
    };
    char n = i_ + 1 < in_.size() ? in_[i_ + 1] : '\0';
    switch (c) {
      case '(':
        return single(Tok::kLParen, 1);
      case ')':
        return single(Tok::kRParen, 1);
      case '{':
        return single(Tok::kLBrace, 1);
      case '}':
        return single(Tok::kRBrace, 1);
      case '[':
        ++bracket_depth_;
        return single(Tok::kLBracket, 1);
      case ']':
        if (bracket_depth_ > 0) --bracket_depth_;
        return single(Tok::kRBracket, 1);
      case ',':
        return single(Tok::kComma, 1);
      case ':':
        // As in Prometheus's lexer: outside brackets a colon starts an identifier
        // (metric names may begin with ':'); inside `[..:..]` it is the subquery colon.
        if (bracket_depth_ > 0) return single(Tok::kColon, 1);
        break;
      case '@':
        return single(Tok::kAt, 1);
      case '+':
        return single(Tok::kAdd, 1);
      case '-':
        return single(Tok::kSub, 1);
      case '*':
        return single(Tok::kMul, 1);
      case '/':
        return single(Tok::kDiv, 1);
      case '%':
        return single(Tok::kMod, 1);
      case '^':
        return single(Tok::kPow, 1);
      case '=':
        if (n == '=') return single(Tok::kEql, 2);
        if (n == '~') return single(Tok::kEqlRegex, 2);
        return single(Tok::kAssign, 1);
      case '!':
        if (n == '=') return single(Tok::kNeq, 2);
        if (n == '~') return single(Tok::kNeqRegex, 2);
        throw ParseError{t.pos, fmt::format("unexpected character after '!': '{}'",
                                            n == '\0' ? std::string() : std::string(1, n))};
      case '<':
        if (n == '=') return single(Tok::kLte, 2);
        return single(Tok::kLss, 1);
      case '>':
        if (n == '=') return single(Tok::kGte, 2);
        return single(Tok::kGtr, 1);
      case '"':
      case '\'':
      case '`':
        return LexString(t);
      default:
        break;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && std::isdigit(static_cast<unsigned char>(n)))) {
      return LexNumber(t);
    }
    if (IsIdentStart(c) || c == ':') {
      while (i_ < in_.size() && IsIdentChar(in_[i_])) ++i_;
      t.type = Tok::kIdent;
      t.text = std::string(in_.substr(static_cast<size_t>(t.pos), i_ - t.pos));
      t.end = static_cast<int>(i_);
      return t;
    }
    throw ParseError{t.pos, fmt::format("unexpected character: '{}'", c)};
  }

 private:
  void SkipSpace() {
    while (i_ < in_.size()) {
      char c = in_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i_;
      } else if (c == '#') {
        while (i_ < in_.size() && in_[i_] != '\n') ++i_;
      } else {
        break;
      }
    }
  }

  Token LexNumber(Token& t) {
    size_t start = i_;
    if (in_[i_] == '0' && i_ + 1 < in_.size() && (in_[i_ + 1] == 'x' || in_[i_ + 1] == 'X')) {
      i_ += 2;
      while (i_ < in_.size() && HexVal(in_[i_]) >= 0) ++i_;
    } else {
      while (i_ < in_.size() && std::isdigit(static_cast<unsigned char>(in_[i_]))) ++i_;
      if (i_ < in_.size() && in_[i_] == '.') {
        ++i_;
        while (i_ < in_.size() && std::isdigit(static_cast<unsigned char>(in_[i_]))) ++i_;
      }
      if (i_ < in_.size() && (in_[i_] == 'e' || in_[i_] == 'E')) {
        size_t save = i_;
        ++i_;
        if (i_ < in_.size() && (in_[i_] == '+' || in_[i_] == '-')) ++i_;
        if (i_ < in_.size() && std::isdigit(static_cast<unsigned char>(in_[i_]))) {
          while (i_ < in_.size() && std::isdigit(static_cast<unsigned char>(in_[i_]))) ++i_;
        } else {
          i_ = save;
        }
      }
    }
    // A number directly followed by a unit letter is a duration ("5m", "1h30m").
    if (i_ < in_.size() && std::isalpha(static_cast<unsigned char>(in_[i_]))) {
      size_t j = start;
      bool digits_only = true;
      for (; j < i_; ++j) {
        if (!std::isdigit(static_cast<unsigned char>(in_[j]))) digits_only = false;
      }
      if (digits_only) {
        while (i_ < in_.size() && (std::isalnum(static_cast<unsigned char>(in_[i_])))) ++i_;
        t.type = Tok::kDuration;
        t.text = std::string(in_.substr(start, i_ - start));
        t.end = static_cast<int>(i_);
        if (!util::ParseDuration(t.text)) {
          throw ParseError{t.pos, fmt::format("bad number or duration syntax: \"{}\"", t.text)};
        }
        return t;
      }
      while (i_ < in_.size() && IsIdentChar(in_[i_])) ++i_;
      throw ParseError{t.pos, fmt::format("bad number or duration syntax: \"{}\"",
                                          in_.substr(start, i_ - start))};
    }
    t.type = Tok::kNumber;
    t.text = std::string(in_.substr(start, i_ - start));
    t.end = static_cast<int>(i_);
    return t;
  }

  Token LexString(Token& t) {
    char quote = in_[i_++];
    std::string value;
    if (quote == '`') {
      while (i_ < in_.size() && in_[i_] != '`') value += in_[i_++];
      if (i_ >= in_.size()) throw ParseError{t.pos, "unterminated raw string"};
      ++i_;
    } else {
      while (true) {
        if (i_ >= in_.size() || in_[i_] == '\n') {
          throw ParseError{t.pos, "unterminated quoted string"};
        }
        char c = in_[i_];
        if (c == quote) {
          ++i_;
          break;
        }
        if (c != '\\') {
          value += c;
          ++i_;
          continue;
        }
        ParseEscape(quote, value, t.pos);
      }
    }
    t.type = Tok::kString;
    t.end = static_cast<int>(i_);
    t.text = std::string(in_.substr(static_cast<size_t>(t.pos), i_ - t.pos));
    t.value = std::move(value);
    return t;
  }

  // Go's escape sequences: \a \b \f \n \r \t \v \\ \<quote> \xHH \ooo \uHHHH \UHHHHHHHH.
  void ParseEscape(char quote, std::string& value, int pos) {
    ++i_;  // backslash
    if (i_ >= in_.size()) throw ParseError{pos, "unterminated quoted string"};
    char c = in_[i_++];
    auto hex = [&](int digits) {
      uint32_t r = 0;
      for (int k = 0; k < digits; ++k) {
        if (i_ >= in_.size() || HexVal(in_[i_]) < 0) {
          throw ParseError{pos, "invalid syntax"};
        }
        r = r * 16 + static_cast<uint32_t>(HexVal(in_[i_++]));
      }
      return r;
    };
    switch (c) {
      case 'a':
        value += '\a';
        return;
      case 'b':
        value += '\b';
        return;
      case 'f':
        value += '\f';
        return;
      case 'n':
        value += '\n';
        return;
      case 'r':
        value += '\r';
        return;
      case 't':
        value += '\t';
        return;
      case 'v':
        value += '\v';
        return;
      case '\\':
        value += '\\';
        return;
      case 'x':
        value += static_cast<char>(hex(2));
        return;
      case 'u': {
        uint32_t r = hex(4);
        if (r >= 0xD800 && r < 0xE000) throw ParseError{pos, "invalid syntax"};
        util::AppendUtf8(value, r);
        return;
      }
      case 'U': {
        uint32_t r = hex(8);
        if (r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) throw ParseError{pos, "invalid syntax"};
        util::AppendUtf8(value, r);
        return;
      }
      default:
        break;
    }
    if (c >= '0' && c <= '7') {
      uint32_t r = static_cast<uint32_t>(c - '0');
      for (int k = 0; k < 2; ++k) {
        if (i_ >= in_.size() || in_[i_] < '0' || in_[i_] > '7') {
          throw ParseError{pos, "invalid syntax"};
        }
        r = r * 8 + static_cast<uint32_t>(in_[i_++] - '0');
      }
      if (r > 255) throw ParseError{pos, "invalid syntax"};
      value += static_cast<char>(r);
      return;
    }
    if (c == quote) {
      value += c;
      return;
    }
    throw ParseError{pos, fmt::format("unknown escape sequence '{}'", c)};
  }

  std::string_view in_;
  int bracket_depth_ = 0;  // open `[`: a colon inside is the subquery separator
  size_t i_ = 0;
};

std::optional<AggOp> AggregatorFor(const std::string& lower) {
  static const std::pair<std::string_view, AggOp> kAggs[] = {
      {"sum", AggOp::kSum},
      {"avg", AggOp::kAvg},
      {"count", AggOp::kCount},
      {"min", AggOp::kMin},
      {"max", AggOp::kMax},
      {"group", AggOp::kGroup},
      {"stddev", AggOp::kStddev},
      {"stdvar", AggOp::kStdvar},
      {"topk", AggOp::kTopk},
      {"bottomk", AggOp::kBottomk},
      {"count_values", AggOp::kCountValues},
      {"quantile", AggOp::kQuantile},
  };
  for (const auto& [name, op] : kAggs) {
    if (lower == name) return op;
  }
  return {};
}

bool IsKeyword(const std::string& lower) {
  static const std::string_view kWords[] = {"and",        "or",          "unless", "atan2",
                                            "by",         "without",     "on",     "ignoring",
                                            "group_left", "group_right", "bool",   "offset"};
  return std::find(std::begin(kWords), std::end(kWords), lower) != std::end(kWords);
}

struct OpInfo {
  BinaryOp op;
  int prec;
};

class Parser {
 public:
  Parser(std::string_view input, const ParseOptions& options) : options_(options), lexer_(input) {
    Advance();
  }

  ExprPtr ParseTop() {
    if (tok_.type == Tok::kEof) throw ParseError{0, "no expression found in input"};
    ExprPtr e = ParseBinary(0);
    if (tok_.type != Tok::kEof) Unexpected("");
    return e;
  }

  model::Labels ParseSeries() {
    if (tok_.type != Tok::kIdent && tok_.type != Tok::kLBrace) Unexpected("");
    std::vector<model::Label> labels;
    if (tok_.type == Tok::kIdent) {
      labels.push_back({std::string(model::kMetricName), tok_.text});
      Advance();
    }
    if (tok_.type == Tok::kLBrace) {
      Advance();
      while (tok_.type != Tok::kRBrace) {
        std::string name = LabelName();
        Expect(Tok::kAssign, "label matching");
        if (tok_.type != Tok::kString) Unexpected(" in label matching, expected string");
        labels.push_back({name, tok_.value});
        Advance();
        if (tok_.type == Tok::kComma) {
          Advance();
        } else if (tok_.type != Tok::kRBrace) {
          Unexpected(" in label matching, expected \",\" or \"}\"");
        }
      }
      Advance();
    }
    if (tok_.type != Tok::kEof) Unexpected("");
    return model::Labels::FromUnsorted(std::move(labels));
  }

 private:
  void Advance() { tok_ = lexer_.Next(); }

  [[noreturn]] void Unexpected(std::string_view context) {
    throw ParseError{tok_.pos, fmt::format("unexpected {}{}", Describe(tok_), context)};
  }

  static std::string Describe(const Token& t) {
    switch (t.type) {
      case Tok::kEof:
        return "end of input";
      case Tok::kIdent:
        return fmt::format("identifier \"{}\"", t.text);
      case Tok::kNumber:
        return fmt::format("number \"{}\"", t.text);
      case Tok::kDuration:
        return fmt::format("duration \"{}\"", t.text);
      case Tok::kString:
        return fmt::format("string {}", t.text);
      case Tok::kLParen:
        return "\"(\"";
      case Tok::kRParen:
        return "right parenthesis \")\"";
      case Tok::kLBrace:
        return "\"{\"";
      case Tok::kRBrace:
        return "\"}\"";
      case Tok::kLBracket:
        return "left bracket \"[\"";
      case Tok::kRBracket:
        return "right bracket \"]\"";
      case Tok::kComma:
        return "\",\"";
      case Tok::kColon:
        return "\":\"";
      case Tok::kAt:
        return "\"@\"";
      default:
        return fmt::format("\"{}\"", t.text);
    }
  }

  void Expect(Tok type, std::string_view context) {
    if (tok_.type != type) Unexpected(fmt::format(" in {}", context));
    Advance();
  }

  bool IsWord(std::string_view lower) const {
    return tok_.type == Tok::kIdent && Lower(tok_.text) == lower;
  }

  std::optional<OpInfo> BinaryOpAt() const {
    switch (tok_.type) {
      case Tok::kAdd:
        return OpInfo{BinaryOp::kAdd, 4};
      case Tok::kSub:
        return OpInfo{BinaryOp::kSub, 4};
      case Tok::kMul:
        return OpInfo{BinaryOp::kMul, 5};
      case Tok::kDiv:
        return OpInfo{BinaryOp::kDiv, 5};
      case Tok::kMod:
        return OpInfo{BinaryOp::kMod, 5};
      case Tok::kPow:
        return OpInfo{BinaryOp::kPow, 6};
      case Tok::kEql:
        return OpInfo{BinaryOp::kEql, 3};
      case Tok::kNeq:
        return OpInfo{BinaryOp::kNeq, 3};
      case Tok::kGtr:
        return OpInfo{BinaryOp::kGtr, 3};
      case Tok::kLss:
        return OpInfo{BinaryOp::kLss, 3};
      case Tok::kGte:
        return OpInfo{BinaryOp::kGte, 3};
      case Tok::kLte:
        return OpInfo{BinaryOp::kLte, 3};
      case Tok::kIdent: {
        std::string w = Lower(tok_.text);
        if (w == "and") return OpInfo{BinaryOp::kAnd, 2};
        if (w == "unless") return OpInfo{BinaryOp::kUnless, 2};
        if (w == "or") return OpInfo{BinaryOp::kOr, 1};
        if (w == "atan2") return OpInfo{BinaryOp::kAtan2, 5};
        return {};
      }
      default:
        return {};
    }
  }

  ExprPtr ParseBinary(int min_prec) {
    ExprPtr lhs = ParseUnary();
    while (true) {
      auto info = BinaryOpAt();
      if (!info || info->prec < min_prec) return lhs;
      Advance();
      auto bin = std::make_unique<BinaryExpr>();
      bin->op = info->op;
      VectorMatching vm;
      bool explicit_matching = false;
      if (IsWord("bool")) {
        bin->return_bool = true;
        Advance();
      }
      if (IsWord("on") || IsWord("ignoring")) {
        vm.on = IsWord("on");
        explicit_matching = true;
        Advance();
        vm.matching_labels = ParseGroupingLabels();
        if (IsWord("group_left") || IsWord("group_right")) {
          vm.card = IsWord("group_left") ? Cardinality::kManyToOne : Cardinality::kOneToMany;
          Advance();
          if (tok_.type == Tok::kLParen) vm.include = ParseGroupingLabels();
        }
      }
      int next_min = info->op == BinaryOp::kPow ? info->prec : info->prec + 1;
      ExprPtr rhs = ParseBinary(next_min);
      bin->pos = PosRange{lhs->pos.start, rhs->pos.end};
      bin->lhs = std::move(lhs);
      bin->rhs = std::move(rhs);
      CheckBinary(*bin, vm, explicit_matching);
      lhs = std::move(bin);
    }
  }

  void CheckBinary(BinaryExpr& b, VectorMatching& vm, bool explicit_matching) {
    ValueType lt = b.lhs->Type();
    ValueType rt = b.rhs->Type();
    bool both_vectors = lt == ValueType::kVector && rt == ValueType::kVector;
    if (b.return_bool && !IsComparison(b.op)) {
      throw ParseError{b.pos.start, "bool modifier can only be used on comparison operators"};
    }
    if (IsComparison(b.op) && !b.return_bool && lt == ValueType::kScalar &&
        rt == ValueType::kScalar) {
      throw ParseError{b.pos.start, "comparisons between scalars must use BOOL modifier"};
    }
    if (IsSetOperator(b.op)) {
      if (vm.card == Cardinality::kManyToOne || vm.card == Cardinality::kOneToMany) {
        throw ParseError{b.pos.start, fmt::format("no grouping allowed for \"{}\" operation",
                                                  BinaryOpName(b.op))};
      }
      vm.card = Cardinality::kManyToMany;
    }
    auto valid = [](ValueType t) { return t == ValueType::kScalar || t == ValueType::kVector; };
    if (!valid(lt) || !valid(rt)) {
      throw ParseError{b.pos.start,
                       "binary expression must contain only scalar and instant vector types"};
    }
    if (explicit_matching && !both_vectors) {
      throw ParseError{b.pos.start, "vector matching only allowed between instant vectors"};
    }
    if (IsSetOperator(b.op) && !both_vectors) {
      throw ParseError{b.pos.start,
                       fmt::format("set operator \"{}\" not allowed in binary scalar expression",
                                   BinaryOpName(b.op))};
    }
    if (vm.on) {
      for (const auto& l : vm.include) {
        if (std::find(vm.matching_labels.begin(), vm.matching_labels.end(), l) !=
            vm.matching_labels.end()) {
          throw ParseError{
              b.pos.start,
              fmt::format("label \"{}\" must not occur in ON and GROUP clause at once", l)};
        }
      }
    }
    if (both_vectors) {
      std::sort(vm.matching_labels.begin(), vm.matching_labels.end());
      b.matching = std::move(vm);
    }
  }

  ExprPtr ParseUnary() {
    if (tok_.type == Tok::kSub || tok_.type == Tok::kAdd) {
      int pos = tok_.pos;
      BinaryOp op = tok_.type == Tok::kSub ? BinaryOp::kSub : BinaryOp::kAdd;
      Advance();
      ExprPtr operand = ParseBinary(6);
      if (operand->kind == ExprKind::kNumber) {
        auto* n = static_cast<NumberLiteral*>(operand.get());
        if (op == BinaryOp::kSub) n->value = -n->value;
        n->pos.start = pos;
        return operand;
      }
      ValueType t = operand->Type();
      if (t != ValueType::kScalar && t != ValueType::kVector) {
        throw ParseError{pos,
                         fmt::format("unary expression only allowed on expressions of type scalar "
                                     "or instant vector, got {}",
                                     ValueTypeName(t))};
      }
      auto u = std::make_unique<UnaryExpr>();
      u->op = op;
      u->pos = PosRange{pos, operand->pos.end};
      u->expr = std::move(operand);
      return u;
    }
    return ParsePostfix(ParsePrimary());
  }

  int64_t ParseDurationToken(std::string_view context) {
    if (tok_.type == Tok::kDuration) {
      int64_t ms = util::ParseDuration(tok_.text)->count();
      Advance();
      return ms;
    }
    if (tok_.type == Tok::kNumber && options_.semantics.durations_as_numbers) {
      double secs = ParseNumber(tok_);
      // Like util::ParseDuration: the milliseconds must fit an int64.
      if (!(secs * 1000 < 9.2e18)) {
        throw ParseError{tok_.pos, fmt::format("duration out of range: \"{}\"", tok_.text)};
      }
      Advance();
      return static_cast<int64_t>(std::llround(secs * 1000));
    }
    Unexpected(fmt::format(" in {}, expected duration", context));
  }

  double ParseNumber(const Token& t) {
    const std::string& s = t.text;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
      return static_cast<double>(std::strtoull(s.c_str() + 2, nullptr, 16));
    }
    return std::strtod(s.c_str(), nullptr);
  }

  ExprPtr ParsePostfix(ExprPtr e) {
    while (true) {
      if (tok_.type == Tok::kLBracket) {
        int pos = tok_.pos;
        Advance();
        int64_t range = ParseDurationToken("range");
        if (tok_.type == Tok::kColon) {
          Advance();
          int64_t step = 0;
          if (tok_.type != Tok::kRBracket) step = ParseDurationToken("subquery");
          int end = tok_.end;
          Expect(Tok::kRBracket, "subquery selector");
          if (e->Type() != ValueType::kVector) {
            throw ParseError{e->pos.start,
                             fmt::format("subquery is only allowed on instant vector, got {} in "
                                         "\"{}\" instead",
                                         ValueTypeName(e->Type()), e->String())};
          }
          auto sq = std::make_unique<SubqueryExpr>();
          sq->pos = PosRange{e->pos.start, end};
          sq->expr = std::move(e);
          sq->range_ms = range;
          sq->step_ms = step;
          e = std::move(sq);
        } else {
          int end = tok_.end;
          Expect(Tok::kRBracket, "range selector");
          if (e->kind != ExprKind::kVectorSelector) {
            throw ParseError{pos, "ranges only allowed for vector selectors"};
          }
          auto* vs = static_cast<VectorSelector*>(e.get());
          if (vs->offset_ms != 0 || vs->at != AtModifier::kNone) {
            throw ParseError{pos, "no offset or @ modifiers allowed before range"};
          }
          auto ms = std::make_unique<MatrixSelector>();
          ms->pos = PosRange{e->pos.start, end};
          ms->range_ms = range;
          ms->selector.reset(static_cast<VectorSelector*>(e.release()));
          e = std::move(ms);
        }
      } else if (IsWord("offset")) {
        int pos = tok_.pos;
        Advance();
        bool neg = false;
        if (tok_.type == Tok::kSub || tok_.type == Tok::kAdd) {
          neg = tok_.type == Tok::kSub;
          Advance();
        }
        int end = tok_.end;
        int64_t off = ParseDurationToken("offset");
        if (neg) off = -off;
        int64_t* slot = OffsetSlot(*e);
        if (slot == nullptr) {
          throw ParseError{pos,
                           "offset modifier must be preceded by an instant vector selector or "
                           "range vector selector or a subquery"};
        }
        if (*slot != 0) throw ParseError{pos, "offset may not be set multiple times"};
        *slot = off;
        e->pos.end = end;
      } else if (tok_.type == Tok::kAt) {
        int pos = tok_.pos;
        Advance();
        AtModifier at = AtModifier::kTimestamp;
        int64_t at_ms = 0;
        int end = tok_.end;
        if (IsWord("start") || IsWord("end")) {
          at = IsWord("start") ? AtModifier::kStart : AtModifier::kEnd;
          Advance();
          Expect(Tok::kLParen, "@ modifier");
          end = tok_.end;
          Expect(Tok::kRParen, "@ modifier");
        } else {
          bool neg = false;
          if (tok_.type == Tok::kSub || tok_.type == Tok::kAdd) {
            neg = tok_.type == Tok::kSub;
            Advance();
          }
          end = tok_.end;
          double v = 0;
          if (tok_.type == Tok::kDuration && options_.semantics.durations_as_numbers) {
            v = static_cast<double>(util::ParseDuration(tok_.text)->count()) / 1000.0;
          } else if (tok_.type == Tok::kNumber) {
            v = ParseNumber(tok_);
          } else {
            Unexpected(" in @ modifier, expected timestamp");
          }
          if (neg) v = -v;
          if (!std::isfinite(v) || std::fabs(v) > 9.2e15) {
            throw ParseError{pos, fmt::format("timestamp out of bounds for @ modifier: {}", v)};
          }
          at_ms = std::llround(v * 1000);
          Advance();
        }
        AtModifier* slot = AtSlot(*e);
        if (slot == nullptr) {
          throw ParseError{pos,
                           "@ modifier must be preceded by an instant vector selector or range "
                           "vector selector or a subquery"};
        }
        if (*slot != AtModifier::kNone) {
          throw ParseError{pos, "@ <timestamp> may not be set multiple times"};
        }
        *slot = at;
        if (e->kind == ExprKind::kVectorSelector) {
          static_cast<VectorSelector*>(e.get())->at_ms = at_ms;
        } else if (e->kind == ExprKind::kMatrixSelector) {
          static_cast<MatrixSelector*>(e.get())->selector->at_ms = at_ms;
        } else {
          static_cast<SubqueryExpr*>(e.get())->at_ms = at_ms;
        }
        e->pos.end = end;
      } else {
        return e;
      }
    }
  }

  static int64_t* OffsetSlot(Expr& e) {
    switch (e.kind) {
      case ExprKind::kVectorSelector:
        return &static_cast<VectorSelector&>(e).offset_ms;
      case ExprKind::kMatrixSelector:
        return &static_cast<MatrixSelector&>(e).selector->offset_ms;
      case ExprKind::kSubquery:
        return &static_cast<SubqueryExpr&>(e).offset_ms;
      default:
        return nullptr;
    }
  }

  static AtModifier* AtSlot(Expr& e) {
    switch (e.kind) {
      case ExprKind::kVectorSelector:
        return &static_cast<VectorSelector&>(e).at;
      case ExprKind::kMatrixSelector:
        return &static_cast<MatrixSelector&>(e).selector->at;
      case ExprKind::kSubquery:
        return &static_cast<SubqueryExpr&>(e).at;
      default:
        return nullptr;
    }
  }

  ExprPtr ParsePrimary() {
    int pos = tok_.pos;
    switch (tok_.type) {
      case Tok::kNumber: {
        auto n = std::make_unique<NumberLiteral>();
        n->value = ParseNumber(tok_);
        n->pos = PosRange{pos, tok_.end};
        Advance();
        return n;
      }
      case Tok::kDuration: {
        if (!options_.semantics.durations_as_numbers) Unexpected("");
        auto n = std::make_unique<NumberLiteral>();
        n->value = static_cast<double>(util::ParseDuration(tok_.text)->count()) / 1000.0;
        n->pos = PosRange{pos, tok_.end};
        Advance();
        return n;
      }
      case Tok::kString: {
        auto s = std::make_unique<StringLiteral>();
        s->value = tok_.value;
        s->pos = PosRange{pos, tok_.end};
        Advance();
        return s;
      }
      case Tok::kLParen: {
        Advance();
        auto p = std::make_unique<ParenExpr>();
        p->expr = ParseBinary(0);
        p->pos = PosRange{pos, tok_.end};
        Expect(Tok::kRParen, "paren expression");
        return p;
      }
      case Tok::kLBrace:
        return ParseSelector("", pos);
      case Tok::kIdent:
        break;
      default:
        Unexpected("");
    }
    std::string word = tok_.text;
    std::string lower = Lower(word);
    if (auto agg = AggregatorFor(lower)) {
      Advance();
      return ParseAggregate(*agg, pos);
    }
    if (lower == "inf" || lower == "nan") {
      auto n = std::make_unique<NumberLiteral>();
      n->value = lower == "inf" ? std::numeric_limits<double>::infinity()
                                : std::numeric_limits<double>::quiet_NaN();
      n->pos = PosRange{pos, tok_.end};
      Advance();
      return n;
    }
    Token ident = tok_;
    Advance();
    if (tok_.type == Tok::kLParen && word.find(':') == std::string::npos) {
      return ParseCall(ident);
    }
    if (IsKeyword(lower)) {
      throw ParseError{pos, fmt::format("unexpected {}", Describe(ident))};
    }
    return ParseSelector(word, pos);
  }

  ExprPtr ParseCall(const Token& ident) {
    const FunctionInfo* f = LookupFunction(ident.text, options_.semantics.holt_winters_name,
                                           options_.semantics.experimental_functions);
    if (f == nullptr) {
      throw ParseError{ident.pos, fmt::format("unknown function with name \"{}\"", ident.text)};
    }
    Advance();  // (
    auto call = std::make_unique<Call>();
    call->func = f;
    while (tok_.type != Tok::kRParen) {
      call->args.push_back(ParseBinary(0));
      if (tok_.type == Tok::kComma) {
        Advance();
        if (tok_.type == Tok::kRParen) Unexpected(" in function call args");
      } else if (tok_.type != Tok::kRParen) {
        Unexpected(" in function call args, expected \",\" or \")\"");
      }
    }
    call->pos = PosRange{ident.pos, tok_.end};
    Advance();
    CheckCall(*call);
    return call;
  }

  void CheckCall(const Call& call) {
    const FunctionInfo& f = *call.func;
    int nargs = static_cast<int>(f.arg_types.size());
    int got = static_cast<int>(call.args.size());
    if (f.variadic == 0) {
      if (nargs != got) {
        throw ParseError{
            call.pos.start,
            fmt::format("expected {} argument(s) in call to \"{}\", got {}", nargs, f.name, got)};
      }
    } else {
      int min = nargs - 1;
      if (min > got) {
        throw ParseError{call.pos.start,
                         fmt::format("expected at least {} argument(s) in call to \"{}\", got {}",
                                     min, f.name, got)};
      }
      if (f.variadic > 0 && min + f.variadic < got) {
        throw ParseError{call.pos.start,
                         fmt::format("expected at most {} argument(s) in call to \"{}\", got {}",
                                     min + f.variadic, f.name, got)};
      }
    }
    for (int i = 0; i < got; ++i) {
      ValueType want = f.arg_types[static_cast<size_t>(std::min(i, nargs - 1))];
      ExpectType(*call.args[static_cast<size_t>(i)], want,
                 fmt::format("call to function \"{}\"", f.name));
    }
  }

  static void ExpectType(const Expr& e, ValueType want, std::string_view context) {
    if (e.Type() != want) {
      throw ParseError{e.pos.start,
                       fmt::format("expected type {} in {}, got {}", ValueTypeName(want), context,
                                   ValueTypeName(e.Type()))};
    }
  }

  std::vector<std::string> ParseGroupingLabels() {
    Expect(Tok::kLParen, "grouping opts");
    std::vector<std::string> labels;
    while (tok_.type != Tok::kRParen) {
      labels.push_back(LabelName());
      if (tok_.type == Tok::kComma) {
        Advance();
      } else if (tok_.type != Tok::kRParen) {
        Unexpected(" in grouping opts, expected \",\" or \")\"");
      }
    }
    Advance();
    return labels;
  }

  std::string LabelName() {
    if (tok_.type == Tok::kIdent && tok_.text.find(':') == std::string::npos) {
      std::string name = tok_.text;
      Advance();
      return name;
    }
    if (tok_.type == Tok::kString && options_.semantics.utf8_names) {
      std::string name = tok_.value;
      Advance();
      return name;
    }
    Unexpected(" in grouping opts, expected label");
  }

  ExprPtr ParseAggregate(AggOp op, int pos) {
    auto agg = std::make_unique<AggregateExpr>();
    agg->op = op;
    bool have_grouping = false;
    auto grouping = [&]() {
      if (IsWord("by") || IsWord("without")) {
        if (have_grouping) Unexpected(" in aggregation");
        agg->without = IsWord("without");
        Advance();
        agg->grouping = ParseGroupingLabels();
        have_grouping = true;
      }
    };
    grouping();
    if (tok_.type != Tok::kLParen) Unexpected(" in aggregation, expected \"(\"");
    Advance();
    std::vector<ExprPtr> args;
    while (tok_.type != Tok::kRParen) {
      args.push_back(ParseBinary(0));
      if (tok_.type == Tok::kComma) {
        Advance();
      } else if (tok_.type != Tok::kRParen) {
        Unexpected(" in aggregation, expected \",\" or \")\"");
      }
    }
    agg->pos = PosRange{pos, tok_.end};
    Advance();
    grouping();
    bool has_param = op == AggOp::kTopk || op == AggOp::kBottomk || op == AggOp::kQuantile ||
                     op == AggOp::kCountValues;
    size_t want = has_param ? 2 : 1;
    if (args.size() != want) {
      throw ParseError{pos, fmt::format("wrong number of arguments for aggregate expression "
                                        "provided, expected {}, got {}",
                                        want, args.size())};
    }
    if (has_param) {
      agg->param = std::move(args[0]);
      agg->expr = std::move(args[1]);
      ValueType pt = op == AggOp::kCountValues ? ValueType::kString : ValueType::kScalar;
      ExpectType(*agg->param, pt, "aggregation parameter");
    } else {
      agg->expr = std::move(args[0]);
    }
    ExpectType(*agg->expr, ValueType::kVector, "aggregation expression");
    return agg;
  }

  ExprPtr ParseSelector(const std::string& name, int pos) {
    auto vs = std::make_unique<VectorSelector>();
    vs->name = name;
    int end = pos + static_cast<int>(name.size());
    std::vector<model::Matcher> matchers;
    bool quoted_metric = false;
    if (tok_.type == Tok::kLBrace) {
      Advance();
      while (tok_.type != Tok::kRBrace) {
        if (tok_.type == Tok::kEof)
          throw ParseError{tok_.pos, "unexpected end of input inside braces"};
        int mpos = tok_.pos;
        bool quoted_name = tok_.type == Tok::kString;
        std::string lname = LabelName();
        model::MatchType type;
        switch (tok_.type) {
          case Tok::kAssign:
            type = model::MatchType::kEqual;
            break;
          case Tok::kNeq:
            type = model::MatchType::kNotEqual;
            break;
          case Tok::kEqlRegex:
            type = model::MatchType::kRegexMatch;
            break;
          case Tok::kNeqRegex:
            type = model::MatchType::kRegexNoMatch;
            break;
          default:
            if (quoted_name && (tok_.type == Tok::kComma || tok_.type == Tok::kRBrace)) {
              // {"metric.name"}: a quoted metric name.
              if (!vs->name.empty() || quoted_metric) {
                throw ParseError{mpos, "metric name must not be set twice"};
              }
              quoted_metric = true;
              vs->name = lname;
              AddMatcher(matchers, model::MatchType::kEqual, std::string(model::kMetricName), lname,
                         mpos);
              if (tok_.type == Tok::kComma) Advance();
              continue;
            }
            Unexpected(" in label matching, expected label matching operator");
        }
        Advance();
        if (tok_.type != Tok::kString) Unexpected(" in label matching, expected string");
        AddMatcher(matchers, type, lname, tok_.value, mpos);
        Advance();
        if (tok_.type == Tok::kComma) {
          Advance();
        } else if (tok_.type == Tok::kEof) {
          throw ParseError{tok_.pos, "unexpected end of input inside braces"};
        } else if (tok_.type != Tok::kRBrace) {
          Unexpected(" in label matching, expected \",\" or \"}\"");
        }
      }
      end = tok_.end;
      Advance();
    }
    if (!name.empty()) {
      for (const auto& m : matchers) {
        if (m.name() == model::kMetricName) {
          throw ParseError{pos, fmt::format("metric name must not be set twice: \"{}\" or \"{}\"",
                                            name, m.value())};
        }
      }
      AddMatcher(matchers, model::MatchType::kEqual, std::string(model::kMetricName), name, pos,
                 true);
    }
    bool non_empty = std::any_of(matchers.begin(), matchers.end(),
                                 [](const model::Matcher& m) { return !m.MatchesEmpty(); });
    if (!non_empty) {
      throw ParseError{pos, "vector selector must contain at least one non-empty matcher"};
    }
    vs->matchers = std::move(matchers);
    vs->pos = PosRange{pos, end};
    return vs;
  }

  void AddMatcher(std::vector<model::Matcher>& out, model::MatchType type, std::string name,
                  std::string value, int pos, bool front = false) {
    auto m = model::Matcher::Create(type, std::move(name), std::move(value),
                                    options_.semantics.regex_options());
    if (!m) throw ParseError{pos, m.error().message};
    if (front) {
      out.insert(out.begin(), std::move(*m));
    } else {
      out.push_back(std::move(*m));
    }
  }

  const ParseOptions& options_;
  Lexer lexer_;
  Token tok_;
};

util::Error ToError(std::string_view input, const ParseError& e) {
  int line = 1;
  int col = 1;
  for (int i = 0; i < e.pos && i < static_cast<int>(input.size()); ++i) {
    if (input[static_cast<size_t>(i)] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return util::Error{fmt::format("{}:{}: parse error: {}", line, col, e.message)};
}

}  // namespace

util::Result<ExprPtr> ParseExpr(std::string_view input, const ParseOptions& options) {
  try {
    Parser parser(input, options);
    return parser.ParseTop();
  } catch (const ParseError& e) {
    return tl::unexpected(ToError(input, e));
  }
}

util::Result<model::Labels> ParseSeriesLabels(std::string_view input) {
  ParseOptions options;
  try {
    Parser parser(input, options);
    return parser.ParseSeries();
  } catch (const ParseError& e) {
    return tl::unexpected(ToError(input, e));
  }
}

}  // namespace vigil::promql
