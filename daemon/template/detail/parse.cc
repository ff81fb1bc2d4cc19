#include "daemon/template/detail/parse.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "daemon/template/detail/value.h"
#include "daemon/util/utf8.h"

namespace vigil::tmpl::detail {
namespace {

// ---------------------------------------------------------------- lexer --

enum class ItemType {
  kError,
  kBool,
  kChar,
  kCharConstant,
  kComplex,
  kAssign,
  kDeclare,
  kEOF,
  kField,
  kIdentifier,
  kLeftDelim,
  kLeftParen,
  kNumber,
  kPipe,
  kRawString,
  kRightDelim,
  kRightParen,
  kSpace,
  kString,
  kText,
  kVariable,
  kKeyword,  // keywords follow
  kBlock,
  kBreak,
  kContinue,
  kDot,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kNil,
  kRange,
  kTemplate,
  kWith,
};

struct Item {
  ItemType type = ItemType::kEOF;
  int64_t pos = 0;
  std::string val;
};

ItemType Keyword(std::string_view w) {
  static const std::pair<std::string_view, ItemType> kKeys[] = {
      {".", ItemType::kDot},
      {"block", ItemType::kBlock},
      {"break", ItemType::kBreak},
      {"continue", ItemType::kContinue},
      {"define", ItemType::kDefine},
      {"else", ItemType::kElse},
      {"end", ItemType::kEnd},
      {"if", ItemType::kIf},
      {"range", ItemType::kRange},
      {"nil", ItemType::kNil},
      {"template", ItemType::kTemplate},
      {"with", ItemType::kWith},
  };
  for (const auto& [k, t] : kKeys) {
    if (k == w) return t;
  }
  return ItemType::kError;
}

constexpr std::string_view kLeftDelim = "{{";
constexpr std::string_view kRightDelim = "}}";
constexpr std::string_view kLeftComment = "/*";
constexpr std::string_view kRightComment = "*/";
constexpr int64_t kTrimMarkerLen = 2;
constexpr int32_t kEof = -1;

bool IsSpace(int32_t r) { return r == ' ' || r == '\t' || r == '\r' || r == '\n'; }
// Go's unicode.IsLetter/IsDigit are approximated by ASCII: a rune beyond
// ASCII is neither (documented in README.md).
bool IsAlphaNumeric(int32_t r) {
  return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9');
}

// Go's %#U: U+0041 'A' (the quoted rune only when printable).
std::string RuneDesc(int32_t r) {
  std::string out = fmt::format("U+{:04X}", r);
  std::string s;
  if (r >= 0) {
    util::AppendUtf8(s, static_cast<uint32_t>(r));
  }
  std::string q = Quote(s);
  // Printable runes come back from Quote unescaped.
  if (r >= 0x20 && q.size() == s.size() + 2 && q.find('\\') == std::string::npos) {
    out += " '" + s + "'";
  } else if (r == '"' || r == '\\') {
    out += " '" + s + "'";
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view input) : input_(input) {}

  std::vector<Item> Run() {
    State state = State::kText;
    while (state != State::kDone) state = Step(state);
    return std::move(items_);
  }

 private:
  enum class State {
    kText,
    kLeftDelim,
    kComment,
    kRightDelim,
    kInsideAction,
    kSpace,
    kIdentifier,
    kField,
    kVariable,
    kChar,
    kNumber,
    kQuote,
    kRawQuote,
    kDone
  };

  int32_t Next() {
    if (pos_ >= static_cast<int64_t>(input_.size())) {
      width_ = 0;
      return kEof;
    }
    auto c = static_cast<unsigned char>(input_[static_cast<size_t>(pos_)]);
    int64_t w = 1;
    int32_t r = c;
    if (c >= 0x80) {
      // Decode UTF-8; an invalid sequence is one U+FFFD byte.
      int64_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      r = 0xFFFD;
      if (n > 0 && c <= 0xF4 && pos_ + n <= static_cast<int64_t>(input_.size())) {
        int32_t v = c & (0x7F >> n);
        bool ok = true;
        for (int64_t k = 1; k < n; ++k) {
          auto cc = static_cast<unsigned char>(input_[static_cast<size_t>(pos_ + k)]);
          if ((cc & 0xC0) != 0x80) ok = false;
          v = (v << 6) | (cc & 0x3F);
        }
        if (ok) {
          r = v;
          w = n;
        }
      }
    }
    width_ = w;
    pos_ += w;
    return r;
  }
  int32_t Peek() {
    int32_t r = Next();
    Backup();
    return r;
  }
  void Backup() { pos_ -= width_; }
  std::string_view Rest(int64_t from) const {
    return from >= static_cast<int64_t>(input_.size()) ? std::string_view()
                                                       : input_.substr(static_cast<size_t>(from));
  }
  State Emit(ItemType t) {
    items_.push_back(Item{t, start_,
                          std::string(input_.substr(static_cast<size_t>(start_),
                                                    static_cast<size_t>(pos_ - start_)))});
    start_ = pos_;
    return State::kInsideAction;
  }
  void Ignore() { start_ = pos_; }
  bool Accept(std::string_view valid) {
    int32_t r = Next();
    if (r != kEof && r < 0x80 && valid.find(static_cast<char>(r)) != std::string_view::npos)
      return true;
    Backup();
    return false;
  }
  void AcceptRun(std::string_view valid) {
    while (Accept(valid)) {
    }
  }
  State Errorf(std::string msg) {
    items_.push_back(Item{ItemType::kError, start_, std::move(msg)});
    return State::kDone;
  }
  static bool HasLeftTrimMarker(std::string_view s) {
    return s.size() >= 2 && s[0] == '-' && IsSpace(static_cast<unsigned char>(s[1]));
  }
  static bool HasRightTrimMarker(std::string_view s) {
    return s.size() >= 2 && IsSpace(static_cast<unsigned char>(s[0])) && s[1] == '-';
  }
  std::pair<bool, bool> AtRightDelim() const {
    std::string_view rest = Rest(pos_);
    if (HasRightTrimMarker(rest) && rest.substr(kTrimMarkerLen).starts_with(kRightDelim)) {
      return {true, true};
    }
    return {rest.starts_with(kRightDelim), false};
  }
  bool AtTerminator() {
    int32_t r = Peek();
    if (IsSpace(r)) return true;
    switch (r) {
      case kEof:
      case '.':
      case ',':
      case '|':
      case ':':
      case ')':
      case '(':
        return true;
      default:
        break;
    }
    return Rest(pos_).starts_with(kRightDelim);
  }

  State Step(State s) {
    switch (s) {
      case State::kText:
        return LexText();
      case State::kLeftDelim:
        return LexLeftDelim();
      case State::kComment:
        return LexComment();
      case State::kRightDelim:
        return LexRightDelim();
      case State::kInsideAction:
        return LexInsideAction();
      case State::kSpace:
        return LexSpace();
      case State::kIdentifier:
        return LexIdentifier();
      case State::kField:
        return LexFieldOrVariable(ItemType::kField);
      case State::kVariable:
        if (AtTerminator()) return Emit(ItemType::kVariable);
        return LexFieldOrVariable(ItemType::kVariable);
      case State::kChar:
        return LexChar();
      case State::kNumber:
        return LexNumber();
      case State::kQuote:
        return LexQuote();
      case State::kRawQuote:
        return LexRawQuote();
      case State::kDone:
        break;
    }
    return State::kDone;
  }

  State LexText() {
    width_ = 0;
    size_t x = Rest(pos_).find(kLeftDelim);
    if (x != std::string_view::npos) {
      if (x > 0) {
        pos_ += static_cast<int64_t>(x);
        int64_t trim = 0;
        if (HasLeftTrimMarker(Rest(pos_ + static_cast<int64_t>(kLeftDelim.size())))) {
          std::string_view text =
              input_.substr(static_cast<size_t>(start_), static_cast<size_t>(pos_ - start_));
          size_t keep = text.find_last_not_of(" \t\r\n");
          trim = static_cast<int64_t>(keep == std::string_view::npos ? text.size()
                                                                     : text.size() - keep - 1);
        }
        pos_ -= trim;
        if (pos_ > start_) {
          Emit(ItemType::kText);
        }
        pos_ += trim;
        Ignore();
      }
      return State::kLeftDelim;
    }
    pos_ = static_cast<int64_t>(input_.size());
    if (pos_ > start_) Emit(ItemType::kText);
    Emit(ItemType::kEOF);
    return State::kDone;
  }

  State LexLeftDelim() {
    pos_ += static_cast<int64_t>(kLeftDelim.size());
    bool trim = HasLeftTrimMarker(Rest(pos_));
    int64_t after = trim ? kTrimMarkerLen : 0;
    if (Rest(pos_ + after).starts_with(kLeftComment)) {
      pos_ += after;
      Ignore();
      return State::kComment;
    }
    Emit(ItemType::kLeftDelim);
    pos_ += after;
    Ignore();
    paren_depth_ = 0;
    return State::kInsideAction;
  }

  State LexComment() {
    pos_ += static_cast<int64_t>(kLeftComment.size());
    size_t x = Rest(pos_).find(kRightComment);
    if (x == std::string_view::npos) return Errorf("unclosed comment");
    pos_ += static_cast<int64_t>(x + kRightComment.size());
    auto [delim, trim] = AtRightDelim();
    if (!delim) return Errorf("comment ends before closing delimiter");
    if (trim) pos_ += kTrimMarkerLen;
    pos_ += static_cast<int64_t>(kRightDelim.size());
    if (trim) pos_ += LeftTrimLength(Rest(pos_));
    Ignore();
    return State::kText;
  }

  static int64_t LeftTrimLength(std::string_view s) {
    size_t k = s.find_first_not_of(" \t\r\n");
    return static_cast<int64_t>(k == std::string_view::npos ? s.size() : k);
  }

  State LexRightDelim() {
    auto [delim, trim] = AtRightDelim();
    if (trim) {
      pos_ += kTrimMarkerLen;
      Ignore();
    }
    pos_ += static_cast<int64_t>(kRightDelim.size());
    Emit(ItemType::kRightDelim);
    if (trim) {
      pos_ += LeftTrimLength(Rest(pos_));
      Ignore();
    }
    return State::kText;
  }

  State LexInsideAction() {
    auto [delim, trim] = AtRightDelim();
    if (delim) {
      if (paren_depth_ == 0) return State::kRightDelim;
      return Errorf("unclosed left paren");
    }
    int32_t r = Next();
    if (r == kEof) return Errorf("unclosed action");
    if (IsSpace(r)) {
      Backup();
      return State::kSpace;
    }
    switch (r) {
      case '=':
        return Emit(ItemType::kAssign);
      case ':':
        if (Next() != '=') return Errorf("expected :=");
        return Emit(ItemType::kDeclare);
      case '|':
        return Emit(ItemType::kPipe);
      case '"':
        return State::kQuote;
      case '`':
        return State::kRawQuote;
      case '$':
        return State::kVariable;
      case '\'':
        return State::kChar;
      case '.':
        if (pos_ < static_cast<int64_t>(input_.size())) {
          char c = input_[static_cast<size_t>(pos_)];
          if (c < '0' || c > '9') return State::kField;
        }
        Backup();
        return State::kNumber;
      case '(':
        ++paren_depth_;
        return Emit(ItemType::kLeftParen);
      case ')':
        --paren_depth_;
        if (paren_depth_ < 0) return Errorf("unexpected right paren");
        return Emit(ItemType::kRightParen);
      default:
        break;
    }
    if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
      Backup();
      return State::kNumber;
    }
    if (IsAlphaNumeric(r)) {
      Backup();
      return State::kIdentifier;
    }
    if (r < 0x80 && r >= 0x20 && r != 0x7F) {
      Emit(ItemType::kChar);
      return State::kInsideAction;
    }
    return Errorf("unrecognized character in action: " + RuneDesc(r));
  }

  State LexSpace() {
    int num_spaces = 0;
    while (IsSpace(Peek())) {
      Next();
      ++num_spaces;
    }
    // Go checks for a literal " -}}" here (an ASCII space only).
    if (Rest(pos_ - 1).starts_with(" -}}")) {
      Backup();
      if (num_spaces == 1) return State::kRightDelim;
    }
    return Emit(ItemType::kSpace);
  }

  State LexIdentifier() {
    while (true) {
      int32_t r = Next();
      if (IsAlphaNumeric(r)) continue;
      Backup();
      std::string_view word =
          input_.substr(static_cast<size_t>(start_), static_cast<size_t>(pos_ - start_));
      if (!AtTerminator()) return Errorf("bad character " + RuneDesc(r));
      ItemType key = Keyword(word);
      if (key > ItemType::kKeyword) return Emit(key);
      if (word == "true" || word == "false") return Emit(ItemType::kBool);
      return Emit(ItemType::kIdentifier);
    }
  }

  State LexFieldOrVariable(ItemType typ) {
    if (AtTerminator())
      return Emit(typ == ItemType::kVariable ? ItemType::kVariable : ItemType::kDot);
    int32_t r;
    while (true) {
      r = Next();
      if (!IsAlphaNumeric(r)) {
        Backup();
        break;
      }
    }
    if (!AtTerminator()) return Errorf("bad character " + RuneDesc(r));
    return Emit(typ);
  }

  State LexChar() {
    while (true) {
      int32_t r = Next();
      if (r == '\\') {
        int32_t n = Next();
        if (n != kEof && n != '\n') continue;
        return Errorf("unterminated character constant");
      }
      if (r == kEof || r == '\n') return Errorf("unterminated character constant");
      if (r == '\'') break;
    }
    return Emit(ItemType::kCharConstant);
  }

  bool ScanNumber() {
    Accept("+-");
    std::string_view digits = "0123456789_";
    if (Accept("0")) {
      if (Accept("xX")) {
        digits = "0123456789abcdefABCDEF_";
      } else if (Accept("oO")) {
        digits = "01234567_";
      } else if (Accept("bB")) {
        digits = "01_";
      }
    }
    AcceptRun(digits);
    if (Accept(".")) AcceptRun(digits);
    if (digits.size() == 11 && Accept("eE")) {
      Accept("+-");
      AcceptRun("0123456789_");
    }
    if (digits.size() == 23 && Accept("pP")) {
      Accept("+-");
      AcceptRun("0123456789_");
    }
    Accept("i");
    if (IsAlphaNumeric(Peek())) {
      Next();
      return false;
    }
    return true;
  }

  State LexNumber() {
    if (!ScanNumber()) {
      return Errorf(
          "bad number syntax: " +
          Quote(input_.substr(static_cast<size_t>(start_), static_cast<size_t>(pos_ - start_))));
    }
    int32_t sign = Peek();
    if (sign == '+' || sign == '-') {
      if (!ScanNumber() || input_[static_cast<size_t>(pos_ - 1)] != 'i') {
        return Errorf(
            "bad number syntax: " +
            Quote(input_.substr(static_cast<size_t>(start_), static_cast<size_t>(pos_ - start_))));
      }
      return Emit(ItemType::kComplex);
    }
    return Emit(ItemType::kNumber);
  }

  State LexQuote() {
    while (true) {
      int32_t r = Next();
      if (r == '\\') {
        int32_t n = Next();
        if (n != kEof && n != '\n') continue;
        return Errorf("unterminated quoted string");
      }
      if (r == kEof || r == '\n') return Errorf("unterminated quoted string");
      if (r == '"') break;
    }
    return Emit(ItemType::kString);
  }

  State LexRawQuote() {
    while (true) {
      int32_t r = Next();
      if (r == kEof) return Errorf("unterminated raw quoted string");
      if (r == '`') break;
    }
    return Emit(ItemType::kRawString);
  }

  std::string_view input_;
  int64_t pos_ = 0;
  int64_t start_ = 0;
  int64_t width_ = 0;
  int paren_depth_ = 0;
  std::vector<Item> items_;
};

// ------------------------------------------------------ literal parsing --

// strconv.Unquote for "..." , `...` and '...'; nullopt on invalid syntax.
bool Unquote(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() < 2) return false;
  char q = in[0];
  if (in.back() != q) return false;
  std::string_view body = in.substr(1, in.size() - 2);
  if (q == '`') {
    if (body.find('`') != std::string_view::npos) return false;
    for (char c : body) {
      if (c != '\r') out += c;
    }
    return true;
  }
  if (q != '"' && q != '\'') return false;
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  size_t runes = 0;
  for (size_t i = 0; i < body.size();) {
    char c = body[i];
    ++runes;
    if (c == q || c == '\n') return false;
    if (c != '\\') {
      out += c;
      ++i;
      // Continuation bytes of a multi-byte rune are not runes of their own.
      while (i < body.size() && (static_cast<unsigned char>(body[i]) & 0xC0) == 0x80)
        out += body[i++];
      continue;
    }
    if (i + 1 >= body.size()) return false;
    char e = body[i + 1];
    i += 2;
    switch (e) {
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '\'':
      case '"':
        if (e != q) return false;
        out += e;
        break;
      case 'x':
      case 'u':
      case 'U': {
        size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + n > body.size()) return false;
        uint32_t v = 0;
        for (size_t k = 0; k < n; ++k) {
          int h = hexval(body[i + k]);
          if (h < 0) return false;
          v = v * 16 + static_cast<uint32_t>(h);
        }
        i += n;
        if (e == 'x') {
          if (q == '\'') {
            util::AppendUtf8(out, v);
          } else {
            out += static_cast<char>(v);
          }
        } else {
          if (v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return false;
          util::AppendUtf8(out, v);
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          if (i + 2 > body.size()) return false;
          uint32_t v = static_cast<uint32_t>(e - '0');
          for (size_t k = 0; k < 2; ++k) {
            char d = body[i + k];
            if (d < '0' || d > '7') return false;
            v = v * 8 + static_cast<uint32_t>(d - '0');
          }
          if (v > 255) return false;
          i += 2;
          if (q == '\'') {
            util::AppendUtf8(out, v);
          } else {
            out += static_cast<char>(v);
          }
          break;
        }
        return false;
    }
  }
  if (q == '\'' && runes != 1) return false;
  return true;
}

// strconv.ParseUint with base 0 after an optional sign: prefixes 0x, 0o, 0b
// and a leading 0 (octal), underscores only between digits or after a prefix.
bool ParseGoInt(std::string_view s, bool& neg, uint64_t& out) {
  neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  std::string_view digits = s;
  bool prefix = false;
  if (s.size() >= 2 && s[0] == '0') {
    char p = static_cast<char>(s[1] | 0x20);
    prefix = true;
    if (p == 'x' || p == 'o' || p == 'b') {
      base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
      digits = s.substr(2);
    } else {
      base = 8;
      digits = s.substr(1);
    }
  }
  // Go's underscoreOK: '_' must sit between digits (a prefix counts as one).
  char prev = prefix ? '0' : '^';
  for (char c : digits) {
    if (c == '_' && prev != '0' && prev != 'd') return false;
    if (c == '_') {
      prev = '_';
      continue;
    }
    prev = 'd';
  }
  if (prev == '_') return false;
  std::string clean;
  for (char c : digits) {
    if (c != '_') clean += c;
  }
  if (clean.empty()) return base == 8 && digits.empty() && !s.empty() ? (out = 0, true) : false;
  auto res = std::from_chars(clean.data(), clean.data() + clean.size(), out, base);
  return res.ec == std::errc() && res.ptr == clean.data() + clean.size();
}

// --------------------------------------------------------------- parser --

struct ParseError {
  std::string message;
};

class Parser {
 public:
  Parser(std::string name, std::string_view text, std::vector<Item> items,
         bool (*has_function)(std::string_view), Dialect dialect, TreeSet& set)
      : name_(std::move(name)),
        items_(std::move(items)),
        has_function_(has_function),
        else_with_(dialect != Dialect::kPrometheus2),
        set_(set) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') newlines_.push_back(static_cast<int64_t>(i));
    }
  }

  void ParseAll() {
    vars_ = {"$"};
    auto root = NewList(Peek().pos);
    while (Peek().type != ItemType::kEOF) {
      if (Peek().type == ItemType::kLeftDelim) {
        Item delim = Next();
        if (NextNonSpace().type == ItemType::kDefine) {
          ParseDefinition();
          continue;
        }
        Backup2(delim);
      }
      auto n = TextOrAction();
      if (n->type == NodeType::kEnd || n->type == NodeType::kElse) {
        Errorf("unexpected " + n->String());
      }
      root->nodes.push_back(std::move(n));
    }
    Add(name_, std::move(root));
  }

 private:
  int Line(int64_t pos) const {
    return 1 + static_cast<int>(std::lower_bound(newlines_.begin(), newlines_.end(), pos) -
                                newlines_.begin());
  }

  [[noreturn]] void Errorf(const std::string& msg) {
    throw ParseError{fmt::format("template: {}:{}: {}", name_, Line(token_[0].pos), msg)};
  }

  static std::string ItemString(const Item& i) {
    if (i.type == ItemType::kEOF) return "EOF";
    if (i.type == ItemType::kError) return i.val;
    if (i.type > ItemType::kKeyword) return "<" + i.val + ">";
    // %.10q: at most 10 runes, quoted.
    size_t runes = 0, k = 0;
    while (k < i.val.size() && runes < 10) {
      ++k;
      while (k < i.val.size() && (static_cast<unsigned char>(i.val[k]) & 0xC0) == 0x80) ++k;
      ++runes;
    }
    if (k < i.val.size()) return Quote(std::string_view(i.val).substr(0, k)) + "...";
    return Quote(i.val);
  }

  [[noreturn]] void Unexpected(const Item& token, std::string_view context) {
    if (token.type == ItemType::kError) {
      std::string extra;
      if (action_line_ != 0 && action_line_ != Line(token.pos)) {
        extra = fmt::format(" in action started at {}:{}", name_, action_line_);
        if (std::string_view(token.val).ends_with(" action"))
          extra = extra.substr(std::string(" in action").size());
      }
      Errorf(token.val + extra);
    }
    Errorf(fmt::format("unexpected {} in {}", ItemString(token), context));
  }

  const Item& Lex() {
    // The lexer stops after an error or EOF item; repeat it.
    const Item& it = items_[std::min(lex_pos_, items_.size() - 1)];
    ++lex_pos_;
    return it;
  }
  Item Next() {
    if (peek_count_ > 0) {
      --peek_count_;
    } else {
      token_[0] = Lex();
    }
    return token_[peek_count_];
  }
  void Backup() { ++peek_count_; }
  void Backup2(const Item& t1) {
    token_[1] = t1;
    peek_count_ = 2;
  }
  void Backup3(const Item& t2, const Item& t1) {
    token_[1] = t1;
    token_[2] = t2;
    peek_count_ = 3;
  }
  Item Peek() {
    if (peek_count_ > 0) return token_[peek_count_ - 1];
    peek_count_ = 1;
    token_[0] = Lex();
    return token_[0];
  }
  Item NextNonSpace() {
    Item t;
    do {
      t = Next();
    } while (t.type == ItemType::kSpace);
    return t;
  }
  Item PeekNonSpace() {
    Item t = NextNonSpace();
    Backup();
    return t;
  }
  Item Expect(ItemType expected, std::string_view context) {
    Item t = NextNonSpace();
    if (t.type != expected) Unexpected(t, context);
    return t;
  }

  static std::unique_ptr<Node> NewNode(NodeType type, int64_t pos) {
    auto n = std::make_unique<Node>();
    n->type = type;
    n->pos = pos;
    return n;
  }
  static std::unique_ptr<Node> NewList(int64_t pos) { return NewNode(NodeType::kList, pos); }

  void Add(const std::string& name, std::unique_ptr<Node> root) {
    auto it = set_.trees.find(name);
    if (it == set_.trees.end() || it->second->nodes.empty() ||
        std::all_of(it->second->nodes.begin(), it->second->nodes.end(), [](const auto& n) {
          return n->type == NodeType::kText &&
                 n->text.find_first_not_of(" \t\r\n") == std::string::npos;
        })) {
      set_.trees[name] = std::move(root);
      return;
    }
    bool empty = std::all_of(root->nodes.begin(), root->nodes.end(), [](const auto& n) {
      return n->type == NodeType::kText &&
             n->text.find_first_not_of(" \t\r\n") == std::string::npos;
    });
    if (!empty) Errorf(fmt::format("template: multiple definition of template {}", Quote(name)));
  }

  void ParseDefinition() {
    constexpr std::string_view kContext = "define clause";
    Item name = NextNonSpace();
    if (name.type != ItemType::kString && name.type != ItemType::kRawString)
      Unexpected(name, kContext);
    std::string def_name;
    if (!Unquote(name.val, def_name)) Errorf("invalid syntax");
    Expect(ItemType::kRightDelim, kContext);
    std::vector<std::string> saved_vars = vars_;
    vars_ = {"$"};
    auto [list, end] = ItemList();
    if (end->type != NodeType::kEnd)
      Errorf(fmt::format("unexpected {} in {}", end->String(), kContext));
    vars_ = std::move(saved_vars);
    Add(def_name, std::move(list));
  }

  std::pair<std::unique_ptr<Node>, std::unique_ptr<Node>> ItemList() {
    auto list = NewList(PeekNonSpace().pos);
    while (PeekNonSpace().type != ItemType::kEOF) {
      auto n = TextOrAction();
      if (n->type == NodeType::kEnd || n->type == NodeType::kElse)
        return {std::move(list), std::move(n)};
      list->nodes.push_back(std::move(n));
    }
    Errorf("unexpected EOF");
  }

  std::unique_ptr<Node> TextOrAction() {
    Item token = NextNonSpace();
    switch (token.type) {
      case ItemType::kText: {
        auto n = NewNode(NodeType::kText, token.pos);
        n->text = token.val;
        return n;
      }
      case ItemType::kLeftDelim: {
        action_line_ = Line(token.pos);
        auto n = Action();
        action_line_ = 0;
        return n;
      }
      default:
        Unexpected(token, "input");
    }
  }

  std::unique_ptr<Node> Action() {
    Item token = NextNonSpace();
    switch (token.type) {
      case ItemType::kBlock:
        return BlockControl();
      case ItemType::kBreak:
      case ItemType::kContinue: {
        bool is_break = token.type == ItemType::kBreak;
        Item t = NextNonSpace();
        if (t.type != ItemType::kRightDelim) Unexpected(t, is_break ? "{{break}}" : "{{continue}}");
        if (range_depth_ == 0)
          Errorf(is_break ? "{{break}} outside {{range}}" : "{{continue}} outside {{range}}");
        return NewNode(is_break ? NodeType::kBreak : NodeType::kContinue, token.pos);
      }
      case ItemType::kElse: {
        Item peek = PeekNonSpace();
        if (peek.type == ItemType::kIf || (else_with_ && peek.type == ItemType::kWith))
          return NewNode(NodeType::kElse, peek.pos);
        Item t = Expect(ItemType::kRightDelim, "else");
        return NewNode(NodeType::kElse, t.pos);
      }
      case ItemType::kEnd:
        return NewNode(NodeType::kEnd, Expect(ItemType::kRightDelim, "end").pos);
      case ItemType::kIf:
        return Control(NodeType::kIf, "if");
      case ItemType::kRange:
        return Control(NodeType::kRange, "range");
      case ItemType::kWith:
        return Control(NodeType::kWith, "with");
      case ItemType::kTemplate:
        return TemplateControl();
      default:
        break;
    }
    Backup();
    Item t = Peek();
    auto n = NewNode(NodeType::kAction, t.pos);
    n->pipe = Pipeline("command", ItemType::kRightDelim);
    return n;
  }

  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p(p) {
      if (++p.depth_ > kMaxParseDepth) p.Errorf("max expression depth exceeded");
    }
    ~DepthGuard() { --p.depth_; }
    Parser& p;
  };

  std::unique_ptr<Node> Control(NodeType type, std::string_view context) {
    DepthGuard guard(*this);
    size_t saved_vars = vars_.size();
    auto n = NewNode(type, 0);
    n->pipe = Pipeline(context, ItemType::kRightDelim);
    if (type == NodeType::kRange) ++range_depth_;
    auto [list, next] = ItemList();
    if (type == NodeType::kRange) --range_depth_;
    n->list = std::move(list);
    if (next->type == NodeType::kElse) {
      if (type == NodeType::kIf && Peek().type == ItemType::kIf) {
        Next();
        n->else_list = NewList(next->pos);
        n->else_list->nodes.push_back(Control(NodeType::kIf, "if"));
      } else if (else_with_ && type == NodeType::kWith && Peek().type == ItemType::kWith) {
        Next();
        n->else_list = NewList(next->pos);
        n->else_list->nodes.push_back(Control(NodeType::kWith, "with"));
      } else {
        auto [else_list, end] = ItemList();
        if (end->type != NodeType::kEnd) Errorf("expected end; found " + end->String());
        n->else_list = std::move(else_list);
      }
    }
    n->pos = n->pipe->pos;
    vars_.resize(saved_vars);
    return n;
  }

  // {{block "name" pipeline}} T {{end}}: defines "name" as T (a tree of its
  // own: fresh variables, outside any range) and executes it with the
  // pipeline, as Go's blockControl does.
  std::unique_ptr<Node> BlockControl() {
    constexpr std::string_view kContext = "block clause";
    Item token = NextNonSpace();
    if (token.type != ItemType::kString && token.type != ItemType::kRawString)
      Unexpected(token, kContext);
    auto n = NewNode(NodeType::kTemplate, token.pos);
    if (!Unquote(token.val, n->text)) Errorf("invalid syntax");
    n->pipe = Pipeline(kContext, ItemType::kRightDelim);
    std::vector<std::string> saved_vars = std::exchange(vars_, {"$"});
    const int saved_range_depth = std::exchange(range_depth_, 0);
    auto [list, end] = ItemList();
    if (end->type != NodeType::kEnd)
      Errorf(fmt::format("unexpected {} in {}", end->String(), kContext));
    vars_ = std::move(saved_vars);
    range_depth_ = saved_range_depth;
    Add(n->text, std::move(list));
    return n;
  }

  std::unique_ptr<Node> TemplateControl() {
    constexpr std::string_view kContext = "template clause";
    Item token = NextNonSpace();
    if (token.type != ItemType::kString && token.type != ItemType::kRawString)
      Unexpected(token, kContext);
    auto n = NewNode(NodeType::kTemplate, token.pos);
    if (!Unquote(token.val, n->text)) Errorf("invalid syntax");
    if (NextNonSpace().type != ItemType::kRightDelim) {
      Backup();
      n->pipe = Pipeline(kContext, ItemType::kRightDelim);
    }
    return n;
  }

  std::unique_ptr<Node> Pipeline(std::string_view context, ItemType end) {
    Item token = PeekNonSpace();
    auto pipe = NewNode(NodeType::kPipe, token.pos);
    while (true) {
      Item v = PeekNonSpace();
      if (v.type != ItemType::kVariable) break;
      Next();
      Item after_var = Peek();
      Item next = PeekNonSpace();
      if (next.type == ItemType::kAssign || next.type == ItemType::kDeclare) {
        pipe->is_assign = next.type == ItemType::kAssign;
        NextNonSpace();
        pipe->decl.push_back(NewVariable(v.pos, v.val));
        vars_.push_back(v.val);
        break;
      }
      if (next.type == ItemType::kChar && next.val == ",") {
        NextNonSpace();
        pipe->decl.push_back(NewVariable(v.pos, v.val));
        vars_.push_back(v.val);
        if (context == "range" && pipe->decl.size() < 2) {
          ItemType t = PeekNonSpace().type;
          if (t == ItemType::kVariable || t == ItemType::kRightDelim || t == ItemType::kRightParen)
            continue;
          Errorf("range can only initialize variables");
        }
        Errorf(fmt::format("too many declarations in {}", context));
      }
      if (after_var.type == ItemType::kSpace) {
        Backup3(v, after_var);
      } else {
        Backup2(v);
      }
      break;
    }
    while (true) {
      Item t = NextNonSpace();
      if (t.type == end) {
        if (pipe->nodes.empty()) Errorf(fmt::format("missing value for {}", context));
        for (size_t i = 1; i < pipe->nodes.size(); ++i) {
          NodeType first = pipe->nodes[i]->nodes[0]->type;
          if (first == NodeType::kBool || first == NodeType::kDot || first == NodeType::kNil ||
              first == NodeType::kNumber || first == NodeType::kString) {
            Errorf(fmt::format("non executable command in pipeline stage {}", i + 1));
          }
        }
        return pipe;
      }
      switch (t.type) {
        case ItemType::kBool:
        case ItemType::kCharConstant:
        case ItemType::kComplex:
        case ItemType::kDot:
        case ItemType::kField:
        case ItemType::kIdentifier:
        case ItemType::kNumber:
        case ItemType::kNil:
        case ItemType::kRawString:
        case ItemType::kString:
        case ItemType::kVariable:
        case ItemType::kLeftParen:
          Backup();
          pipe->nodes.push_back(Command());
          break;
        default:
          Unexpected(t, context);
      }
    }
  }

  std::unique_ptr<Node> Command() {
    auto cmd = NewNode(NodeType::kCommand, PeekNonSpace().pos);
    while (true) {
      PeekNonSpace();
      auto operand = Operand();
      if (operand) cmd->nodes.push_back(std::move(operand));
      Item token = Next();
      if (token.type == ItemType::kSpace) continue;
      if (token.type == ItemType::kRightDelim || token.type == ItemType::kRightParen) {
        Backup();
      } else if (token.type != ItemType::kPipe) {
        Unexpected(token, "operand");
      }
      break;
    }
    if (cmd->nodes.empty()) Errorf("empty command");
    return cmd;
  }

  std::unique_ptr<Node> Operand() {
    auto node = Term();
    if (!node) return nullptr;
    if (Peek().type == ItemType::kField) {
      auto chain = NewNode(NodeType::kChain, Peek().pos);
      while (Peek().type == ItemType::kField) {
        std::string field = Next().val;
        // Split ".a.b" into "a", "b" as Go's ChainNode.Add.
        size_t start = 1;
        while (true) {
          size_t dot = field.find('.', start);
          chain->idents.push_back(
              field.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
          if (dot == std::string::npos) break;
          start = dot + 1;
        }
      }
      switch (node->type) {
        case NodeType::kField:
        case NodeType::kVariable: {
          auto merged = NewNode(node->type, chain->pos);
          merged->idents = node->idents;
          merged->idents.insert(merged->idents.end(), chain->idents.begin(), chain->idents.end());
          return merged;
        }
        case NodeType::kBool:
        case NodeType::kString:
        case NodeType::kNumber:
        case NodeType::kNil:
        case NodeType::kDot:
          Errorf(fmt::format("unexpected . after term {}", Quote(node->String())));
        default:
          chain->base = std::move(node);
          return chain;
      }
    }
    return node;
  }

  std::unique_ptr<Node> NewVariable(int64_t pos, const std::string& ident) {
    auto n = NewNode(NodeType::kVariable, pos);
    size_t start = 0;
    while (true) {
      size_t dot = ident.find('.', start);
      n->idents.push_back(
          ident.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    return n;
  }

  std::unique_ptr<Node> Term() {
    Item token = NextNonSpace();
    switch (token.type) {
      case ItemType::kIdentifier: {
        if (!has_function_(token.val))
          Errorf(fmt::format("function {} not defined", Quote(token.val)));
        auto n = NewNode(NodeType::kIdentifier, token.pos);
        n->text = token.val;
        return n;
      }
      case ItemType::kDot:
        return NewNode(NodeType::kDot, token.pos);
      case ItemType::kNil:
        return NewNode(NodeType::kNil, token.pos);
      case ItemType::kVariable: {
        auto v = NewVariable(token.pos, token.val);
        if (std::find(vars_.begin(), vars_.end(), v->idents[0]) == vars_.end()) {
          Errorf(fmt::format("undefined variable {}", Quote(v->idents[0])));
        }
        return v;
      }
      case ItemType::kField: {
        auto n = NewNode(NodeType::kField, token.pos);
        n->idents = NewVariable(token.pos, token.val.substr(1))->idents;
        return n;
      }
      case ItemType::kBool: {
        auto n = NewNode(NodeType::kBool, token.pos);
        n->bool_value = token.val == "true";
        return n;
      }
      case ItemType::kCharConstant:
      case ItemType::kComplex:
      case ItemType::kNumber:
        return NewNumber(token);
      case ItemType::kLeftParen: {
        DepthGuard guard(*this);
        return Pipeline("parenthesized pipeline", ItemType::kRightParen);
      }
      case ItemType::kString:
      case ItemType::kRawString: {
        auto n = NewNode(NodeType::kString, token.pos);
        n->text = token.val;
        if (!Unquote(token.val, n->str)) Errorf("invalid syntax");
        return n;
      }
      default:
        break;
    }
    Backup();
    return nullptr;
  }

  std::unique_ptr<Node> NewNumber(const Item& token) {
    auto n = NewNode(NodeType::kNumber, token.pos);
    n->text = token.val;
    const std::string& text = token.val;
    if (token.type == ItemType::kComplex || (!text.empty() && text.back() == 'i')) {
      Errorf(fmt::format("complex constants are not supported: {}", text));
    }
    if (token.type == ItemType::kCharConstant) {
      std::string s;
      if (!Unquote(text, s)) Errorf(fmt::format("malformed character constant: {}", text));
      // Decode the single rune.
      auto c = static_cast<unsigned char>(s[0]);
      int64_t r = c;
      if (c >= 0x80) {
        size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        r = c & (0x7F >> len);
        for (size_t k = 1; k < len && k < s.size(); ++k)
          r = (r << 6) | (static_cast<unsigned char>(s[k]) & 0x3F);
      }
      n->is_int = n->is_float = true;
      n->int_value = r;
      n->float_value = static_cast<double>(r);
      return n;
    }
    bool neg = false;
    uint64_t u = 0;
    if (ParseGoInt(text, neg, u)) {
      if (!neg && u <= static_cast<uint64_t>(INT64_MAX)) {
        n->is_int = true;
        n->int_value = static_cast<int64_t>(u);
      } else if (neg && u <= static_cast<uint64_t>(INT64_MAX) + 1) {
        n->is_int = true;
        n->int_value = static_cast<int64_t>(~u + 1);
      }
      n->is_float = true;
      n->float_value = neg ? -static_cast<double>(u) : static_cast<double>(u);
      if (!n->is_int && neg) Errorf(fmt::format("illegal number syntax: {}", Quote(text)));
      return n;
    }
    std::string_view body = text;
    bool negative = false;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
      negative = body[0] == '-';
      body.remove_prefix(1);
    }
    double f = 0;
    auto res =
        std::from_chars(body.data(), body.data() + body.size(), f, std::chars_format::general);
    if (res.ec == std::errc() && res.ptr == body.data() + body.size() && !body.empty() &&
        (std::isdigit(static_cast<unsigned char>(body[0])) || body[0] == '.')) {
      if (body.find_first_of(".eEpP") == std::string_view::npos) {
        Errorf(fmt::format("integer overflow: {}", Quote(text)));
      }
      if (negative) f = -f;
      n->is_float = true;
      n->float_value = f;
      if (f >= -9.2233720368547758e18 && f < 9.2233720368547758e18 && std::trunc(f) == f) {
        n->is_int = true;
        n->int_value = static_cast<int64_t>(f);
      }
      return n;
    }
    Errorf(fmt::format("illegal number syntax: {}", Quote(text)));
  }

  std::string name_;
  std::vector<Item> items_;
  size_t lex_pos_ = 0;
  bool (*has_function_)(std::string_view);
  bool else_with_;  // `{{else with}}` (Go >= 1.23, so Prometheus 3.x only)
  TreeSet& set_;
  std::vector<int64_t> newlines_;
  Item token_[3];
  int peek_count_ = 0;
  std::vector<std::string> vars_;
  int action_line_ = 0;
  int range_depth_ = 0;
  int depth_ = 0;
};

void AppendPipe(const Node& pipe, std::string& out);

void AppendArg(const Node& arg, std::string& out) {
  if (arg.type == NodeType::kPipe) {
    out += '(';
    AppendPipe(arg, out);
    out += ')';
  } else {
    out += arg.String();
  }
}

void AppendPipe(const Node& pipe, std::string& out) {
  for (size_t i = 0; i < pipe.decl.size(); ++i) {
    if (i > 0) out += ", ";
    out += pipe.decl[i]->String();
  }
  if (!pipe.decl.empty()) out += " := ";  // Go prints ":=" for assignments too
  for (size_t i = 0; i < pipe.nodes.size(); ++i) {
    if (i > 0) out += " | ";
    out += pipe.nodes[i]->String();
  }
}

std::string JoinIdents(const std::vector<std::string>& idents, std::string_view prefix) {
  std::string out;
  for (const auto& id : idents) {
    out += prefix;
    out += id;
    prefix = ".";
  }
  return out;
}

}  // namespace

std::string Node::String() const {
  std::string out;
  switch (type) {
    case NodeType::kText:
      return text;
    case NodeType::kAction:
      out = "{{";
      AppendPipe(*pipe, out);
      return out + "}}";
    case NodeType::kBool:
      return bool_value ? "true" : "false";
    case NodeType::kBreak:
      return "{{break}}";
    case NodeType::kContinue:
      return "{{continue}}";
    case NodeType::kChain:
      AppendArg(*base, out);
      for (const auto& f : idents) out += "." + f;
      return out;
    case NodeType::kCommand:
      for (size_t i = 0; i < nodes.size(); ++i) {
        if (i > 0) out += ' ';
        AppendArg(*nodes[i], out);
      }
      return out;
    case NodeType::kDot:
      return ".";
    case NodeType::kField:
      return JoinIdents(idents, ".");
    case NodeType::kVariable:
      return JoinIdents(idents, "");
    case NodeType::kIdentifier:
      return text;
    case NodeType::kList:
      for (const auto& n : nodes) out += n->String();
      return out;
    case NodeType::kNil:
      return "nil";
    case NodeType::kNumber:
    case NodeType::kString:
      return text;
    case NodeType::kPipe:
      AppendPipe(*this, out);
      return out;
    case NodeType::kIf:
    case NodeType::kRange:
    case NodeType::kWith: {
      std::string_view name = type == NodeType::kIf      ? "if"
                              : type == NodeType::kRange ? "range"
                                                         : "with";
      out = fmt::format("{{{{{} ", name);
      AppendPipe(*pipe, out);
      out += "}}" + list->String();
      if (else_list) out += "{{else}}" + else_list->String();
      return out + "{{end}}";
    }
    case NodeType::kTemplate:
      out = "{{template " + Quote(text);
      if (pipe) {
        out += ' ';
        AppendPipe(*pipe, out);
      }
      return out + "}}";
    case NodeType::kElse:
      return "{{else}}";
    case NodeType::kEnd:
      return "{{end}}";
  }
  return out;
}

util::Result<std::shared_ptr<const TreeSet>> Parse(std::string_view name, std::string_view text,
                                                   bool (*has_function)(std::string_view),
                                                   Dialect dialect) {
  auto set = std::make_shared<TreeSet>();
  set->text = std::string(text);
  try {
    Parser parser(std::string(name), set->text, Lexer(set->text).Run(), has_function, dialect,
                  *set);
    parser.ParseAll();
  } catch (const ParseError& e) {
    return util::Fail("{}", e.message);
  }
  return set;
}

}  // namespace vigil::tmpl::detail
