#include "daemon/template/detail/value.h"

#include "daemon/util/utf8.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

namespace vigil::tmpl::detail {
namespace {

constexpr std::string_view kAlertDataType =
    "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; "
    "Value interface {} }";
constexpr std::string_view kAlertDataType2 =
    "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; "
    "Value float64 }";

// Decodes one UTF-8 rune at s[i]; returns the rune and its width, or
// (0xFFFD, 1) for an invalid byte, as Go's utf8.DecodeRuneInString.
std::pair<uint32_t, size_t> DecodeRune(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return {c, 1};
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return {0xFFFD, 1};
  uint32_t r = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return {0xFFFD, 1};
    r = (r << 6) | (cc & 0x3F);
  }
  if ((n == 3 && (r < 0x800 || (r >= 0xD800 && r <= 0xDFFF))) ||
      (n == 4 && (r < 0x10000 || r > 0x10FFFF))) {
    return {0xFFFD, 1};
  }
  return {r, n};
}

// An approximation of Go's strconv.IsPrint for runes beyond ASCII: the
// invisible format and separator characters are not printable.
bool IsPrintRune(uint32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r < 0x7F) return true;
  if (r < 0xA1 || r == 0xAD) return false;
  if ((r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F) ||
      (r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB) ||
      (r >= 0xE000 && r <= 0xF8FF) || r >= 0xF0000) {
    return false;
  }
  return true;
}

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += DecodeRune(s, i).second) ++n;
  return n;
}

// Shortest round-trip decimal digits of |v| (v finite, non-zero or zero) and
// the decimal point position: |v| = 0.digits * 10^dp.
void ShortestDigits(double v, std::string& digits, int& dp) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), std::fabs(v), std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  size_t e = sci.find('e');
  digits.clear();
  for (size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  int exp = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp);
  dp = exp + 1;
  if (digits == "0") dp = 1;
}

std::string ExpDigits(int exp) {
  std::string out = exp < 0 ? "-" : "+";
  int a = exp < 0 ? -exp : exp;
  if (a < 10) out += '0';
  out += std::to_string(a);
  return out;
}

std::string FormatE(bool neg, const std::string& digits, int dp, int prec, char e) {
  std::string out = neg ? "-" : "";
  out += digits[0];
  if (prec > 0) {
    out += '.';
    for (int i = 1; i <= prec; ++i) out += i < static_cast<int>(digits.size()) ? digits[i] : '0';
  }
  out += e;
  int exp = digits == "0" ? 0 : dp - 1;
  out += ExpDigits(exp);
  return out;
}

std::string FormatF(bool neg, const std::string& digits, int dp, int prec) {
  std::string out = neg ? "-" : "";
  if (dp > 0) {
    for (int i = 0; i < dp; ++i) out += i < static_cast<int>(digits.size()) ? digits[i] : '0';
  } else {
    out += '0';
  }
  if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) {
      int j = dp + i;
      out += j >= 0 && j < static_cast<int>(digits.size()) ? digits[j] : '0';
    }
  }
  return out;
}

// Go's fmt state for one verb.
struct Flags {
  bool plus = false, minus = false, sharp = false, space = false, zero = false;
  bool plus_v = false, sharp_v = false;
  bool wid_present = false, prec_present = false;
  int wid = 0, prec = 0;
};

class Printer {
 public:
  std::string buf;
  Flags f;

  void WritePadding(int n) {
    if (n <= 0) return;
    buf.append(static_cast<size_t>(n), f.zero && !f.minus ? '0' : ' ');
  }
  void Pad(std::string_view s) {
    if (!f.wid_present || f.wid == 0) {
      buf += s;
      return;
    }
    int width = f.wid - static_cast<int>(RuneCount(s));
    if (!f.minus) {
      WritePadding(width);
      buf += s;
    } else {
      buf += s;
      WritePadding(width);
    }
  }

  void BadVerb(char32_t verb, const Value& v) {
    buf += "%!";
    util::AppendUtf8(buf, verb);
    buf += '(';
    if (!v.valid()) {
      buf += "<nil>";
    } else {
      buf += TypeName(v);
      buf += '=';
      Flags saved = f;
      f = Flags{};
      PrintValue(v, 'v', 0);
      f = saved;
    }
    buf += ')';
  }

  void FmtInteger(uint64_t u, int base, bool is_signed, char32_t verb, bool upper) {
    const char* digits = upper ? "0123456789ABCDEFX" : "0123456789abcdefx";
    bool negative = is_signed && static_cast<int64_t>(u) < 0;
    if (negative) u = ~u + 1;
    int prec = 0;
    if (f.prec_present) {
      prec = f.prec;
      if (prec == 0 && u == 0) {
        bool old = f.zero;
        f.zero = false;
        WritePadding(f.wid);
        f.zero = old;
        return;
      }
    } else if (f.zero && !f.minus && f.wid_present) {
      prec = f.wid;
      if (negative || f.plus || f.space) --prec;
    }
    std::string rev;
    do {
      rev += digits[u % static_cast<uint64_t>(base)];
      u /= static_cast<uint64_t>(base);
    } while (u > 0);
    while (static_cast<int>(rev.size()) < prec) rev += '0';
    if (f.sharp) {
      if (base == 2) {
        rev += "b0";
      } else if (base == 8 && rev.back() != '0') {
        rev += '0';
      } else if (base == 16) {
        rev += digits[16];
        rev += '0';
      }
    }
    if (verb == 'O') rev += "o0";
    if (negative) {
      rev += '-';
    } else if (f.plus) {
      rev += '+';
    } else if (f.space) {
      rev += ' ';
    }
    std::string s(rev.rbegin(), rev.rend());
    bool old = f.zero;
    f.zero = false;
    Pad(s);
    f.zero = old;
  }

  void FmtFloat(double v, char verb, int prec) {
    if (f.prec_present) prec = f.prec;
    std::string num = FormatFloat(v, verb, prec);
    if (num[0] != '-' && num[0] != '+') num.insert(num.begin(), '+');
    if (f.space && num[0] == '+' && !f.plus) num[0] = ' ';
    if (num[1] == 'I' || num[1] == 'N') {
      bool old = f.zero;
      f.zero = false;
      if (num[1] == 'N' && !f.space && !f.plus) num.erase(0, 1);
      Pad(num);
      f.zero = old;
      return;
    }
    if (f.plus || num[0] != '+') {
      if (f.zero && !f.minus && f.wid_present && f.wid > static_cast<int>(num.size())) {
        buf += num[0];
        WritePadding(f.wid - static_cast<int>(num.size()));
        buf.append(num, 1);
        return;
      }
      Pad(num);
      return;
    }
    Pad(std::string_view(num).substr(1));
  }

  void FmtString(const std::string& s, char32_t verb, const Value& v) {
    switch (verb) {
      case 'v':
      case 's': {
        if (f.prec_present) {
          size_t i = 0;
          for (int n = 0; i < s.size() && n < f.prec; ++n) i += DecodeRune(s, i).second;
          Pad(std::string_view(s).substr(0, i));
        } else {
          Pad(s);
        }
        return;
      }
      case 'q':
        Pad(Quote(s));
        return;
      case 'x':
      case 'X': {
        const char* hex = verb == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
        std::string out;
        if (f.sharp && !s.empty()) out += verb == 'x' ? "0x" : "0X";
        for (char c : s) {
          auto u = static_cast<unsigned char>(c);
          out += hex[u >> 4];
          out += hex[u & 15];
        }
        Pad(out);
        return;
      }
      default:
        BadVerb(verb, v);
    }
  }

  void PrintMap(const Value& v, char32_t verb, int depth) {
    buf += "map[";
    bool first = true;
    if (v.kind == Value::Kind::kStringMap) {
      for (const auto& [k, val] : *v.string_map) {
        if (!first) buf += ' ';
        first = false;
        PrintValue(Value::String(k), verb, depth + 1);
        buf += ':';
        PrintValue(Value::String(val), verb, depth + 1);
      }
    } else {
      for (const auto& [k, val] : *v.any_map) {
        if (!first) buf += ' ';
        first = false;
        PrintValue(Value::String(k), verb, depth + 1);
        buf += ':';
        if (val.valid()) {
          PrintValue(val, verb, depth + 1);
        } else {
          Pad("<nil>");
        }
      }
    }
    buf += ']';
  }

  void PrintSample(const SampleValue& s, char32_t verb, int depth) {
    buf += '{';
    if (f.plus_v) buf += "Labels:";
    PrintValue(Value::MapOf(s.labels), verb, depth + 1);
    buf += ' ';
    if (f.plus_v) buf += "Value:";
    PrintValue(Value::Float(s.value), verb, depth + 1);
    buf += '}';
  }

  void PrintValue(const Value& v, char32_t verb, int depth) {
    using K = Value::Kind;
    switch (v.kind) {
      case K::kInvalid:
        if (verb == 'v') {
          Pad("<nil>");
        } else {
          BadVerb(verb, v);
        }
        return;
      case K::kBool:
        if (verb == 't' || verb == 'v') {
          Pad(v.b ? "true" : "false");
        } else {
          BadVerb(verb, v);
        }
        return;
      case K::kInt:
        switch (verb) {
          case 'v':
          case 'd':
            FmtInteger(static_cast<uint64_t>(v.i), 10, true, verb, false);
            return;
          case 'b':
            FmtInteger(static_cast<uint64_t>(v.i), 2, true, verb, false);
            return;
          case 'o':
          case 'O':
            FmtInteger(static_cast<uint64_t>(v.i), 8, true, verb, false);
            return;
          case 'x':
            FmtInteger(static_cast<uint64_t>(v.i), 16, true, verb, false);
            return;
          case 'X':
            FmtInteger(static_cast<uint64_t>(v.i), 16, true, verb, true);
            return;
          case 'c': {
            std::string s;
            util::AppendUtf8(s, v.i < 0 || v.i > 0x10FFFF ? 0xFFFD : static_cast<uint32_t>(v.i));
            Pad(s);
            return;
          }
          case 'q': {
            std::string s;
            util::AppendUtf8(s, v.i < 0 || v.i > 0x10FFFF ? 0xFFFD : static_cast<uint32_t>(v.i));
            std::string q = Quote(s);
            if (s == "'") {
              q = "'\\''";
            } else {
              q = "'" + (s == "\"" ? std::string("\"") : q.substr(1, q.size() - 2)) + "'";
            }
            Pad(q);
            return;
          }
          case 'U': {
            std::string s = fmt::format("U+{:04X}", static_cast<uint64_t>(v.i));
            Pad(s);
            return;
          }
          default:
            BadVerb(verb, v);
            return;
        }
      case K::kFloat:
        switch (verb) {
          case 'v':
            FmtFloat(v.f, 'g', -1);
            return;
          case 'g':
          case 'G':
            FmtFloat(v.f, static_cast<char>(verb), -1);
            return;
          case 'f':
          case 'F':
            FmtFloat(v.f, 'f', 6);
            return;
          case 'e':
          case 'E':
            FmtFloat(v.f, static_cast<char>(verb), 6);
            return;
          case 'x':
          case 'X':
            FmtFloat(v.f, static_cast<char>(verb), -1);
            return;
          default:
            BadVerb(verb, v);
            return;
        }
      case K::kString:
        FmtString(v.s, verb, v);
        return;
      case K::kStringMap:
      case K::kAnyMap:
        PrintMap(v, verb, depth);
        return;
      case K::kSample:
        if (!v.sample) {
          Pad("<nil>");
          return;
        }
        buf += '&';
        PrintSample(*v.sample, verb, depth);
        return;
      case K::kVector: {
        buf += '[';
        bool first = true;
        for (const auto& s : *v.vector) {
          if (!first) buf += ' ';
          first = false;
          PrintValue(Value::Sample(s), verb, depth + 1);
        }
        buf += ']';
        return;
      }
      case K::kAlertData: {
        const AlertDataValue& d = *v.data;
        buf += '{';
        if (f.plus_v) buf += "Labels:";
        PrintValue(Value::MapOf(d.labels), verb, depth + 1);
        buf += ' ';
        if (f.plus_v) buf += "ExternalLabels:";
        PrintValue(Value::MapOf(d.external_labels), verb, depth + 1);
        buf += ' ';
        if (f.plus_v) buf += "ExternalURL:";
        PrintValue(Value::String(d.external_url), verb, depth + 1);
        buf += ' ';
        if (f.plus_v) buf += "Value:";
        PrintValue(Value::Float(d.value), verb, depth + 1);
        buf += '}';
        return;
      }
      case K::kTime:
        if (verb == 'v' || verb == 's' || verb == 'q' || verb == 'x' || verb == 'X') {
          FmtString(FormatTime(v.i), verb, v);
        } else {
          BadVerb(verb, v);
        }
        return;
    }
  }
};

bool ParseNum(std::string_view s, size_t& i, int& num) {
  size_t start = i;
  num = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    if (num > 1000000) return false;
    num = num * 10 + (s[i] - '0');
    ++i;
  }
  return i > start;
}

}  // namespace

std::string TypeName(const Value& v) {
  using K = Value::Kind;
  switch (v.kind) {
    case K::kInvalid:
      return "<nil>";
    case K::kBool:
      return "bool";
    case K::kInt:
      return "int";
    case K::kFloat:
      return "float64";
    case K::kString:
      return "string";
    case K::kStringMap:
      return "map[string]string";
    case K::kAnyMap:
      return "map[string]interface {}";
    case K::kSample:
      return "*template.sample";
    case K::kVector:
      return "template.queryResult";
    case K::kAlertData:
      return std::string(v.data && v.data->value_is_float64 ? kAlertDataType2 : kAlertDataType);
    case K::kTime:
      return "*time.Time";
  }
  return "<nil>";
}

bool IsTrue(const Value& v) {
  using K = Value::Kind;
  switch (v.kind) {
    case K::kInvalid:
      return false;
    case K::kBool:
      return v.b;
    case K::kInt:
      return v.i != 0;
    case K::kFloat:
      return v.f != 0;
    case K::kString:
      return !v.s.empty();
    case K::kStringMap:
      return !v.string_map->empty();
    case K::kAnyMap:
      return !v.any_map->empty();
    case K::kSample:
      return v.sample != nullptr;
    case K::kVector:
      return !v.vector->empty();
    case K::kAlertData:
    case K::kTime:
      return true;
  }
  return false;
}

namespace {

// strconv's 'x'/'X' format (Go's fmtX): "-0x1.8p+01"; prec < 0 is the
// shortest form, else prec hex digits rounded half to even.
std::string FormatHexFloat(double v, char fmt, int prec) {
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  const bool neg = (bits >> 63) != 0;
  int exp = static_cast<int>((bits >> 52) & 0x7FF);
  uint64_t mant = bits & ((uint64_t{1} << 52) - 1);
  if (exp == 0) {
    ++exp;  // denormal
  } else {
    mant |= uint64_t{1} << 52;
  }
  exp -= 1023;
  if (mant == 0) exp = 0;
  // The leading 1 (if any) at bit 60.
  mant <<= 60 - 52;
  while (mant != 0 && (mant & (uint64_t{1} << 60)) == 0) {
    mant <<= 1;
    --exp;
  }
  if (prec >= 0 && prec < 15) {
    const auto shift = static_cast<unsigned>(prec * 4);
    const uint64_t extra = (mant << shift) & ((uint64_t{1} << 60) - 1);
    mant >>= 60 - shift;
    if ((extra | (mant & 1)) > (uint64_t{1} << 59)) ++mant;
    mant <<= 60 - shift;
    if ((mant & (uint64_t{1} << 61)) != 0) {  // rounded up to 2
      mant >>= 1;
      ++exp;
    }
  }
  const char* hex = fmt == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out = neg ? "-0" : "0";
  out += fmt;
  out += static_cast<char>('0' + ((mant >> 60) & 1));
  mant <<= 4;
  if ((prec < 0 && mant != 0) || prec > 0) {
    out += '.';
    for (int i = 0; prec < 0 ? mant != 0 : i < prec; ++i) {
      out += hex[(mant >> 60) & 15];
      mant <<= 4;
    }
  }
  out += fmt == 'X' ? 'P' : 'p';
  out += exp < 0 ? '-' : '+';
  out += fmt::format("{:02d}", exp < 0 ? -exp : exp);
  return out;
}

}  // namespace

std::string FormatFloat(double v, char fmt, int prec) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (fmt == 'x' || fmt == 'X') return FormatHexFloat(v, fmt, prec);
  bool neg = std::signbit(v);
  if (prec >= 0) {
    char spec[8] = {'%', '.', '*', fmt, 0};
    if (fmt == 'F') spec[3] = 'f';
    char buf[512];
    int n = std::snprintf(buf, sizeof(buf), spec, prec, v);
    if (n >= 0 && static_cast<size_t>(n) < sizeof(buf))
      return std::string(buf, static_cast<size_t>(n));
    std::string big(static_cast<size_t>(n) + 1, '\0');
    std::snprintf(big.data(), big.size(), spec, prec, v);
    big.resize(static_cast<size_t>(n));
    return big;
  }
  std::string digits;
  int dp = 0;
  ShortestDigits(v, digits, dp);
  int nd = static_cast<int>(digits.size());
  switch (fmt) {
    case 'e':
    case 'E':
      return FormatE(neg, digits, dp, nd - 1, fmt);
    case 'f':
    case 'F':
      return FormatF(neg, digits, dp, std::max(nd - dp, 0));
    default: {
      int exp = dp - 1;
      if (digits == "0") exp = 0;
      if (exp < -4 || exp >= 6) return FormatE(neg, digits, dp, nd - 1, fmt == 'G' ? 'E' : 'e');
      return FormatF(neg, digits, dp, std::max(nd - dp, 0));
    }
  }
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    auto [r, w] = DecodeRune(s, i);
    if (r == 0xFFFD && w == 1 && static_cast<unsigned char>(s[i]) >= 0x80) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
      i += 1;
      continue;
    }
    i += w;
    switch (r) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\v':
        out += "\\v";
        continue;
      default:
        break;
    }
    if (IsPrintRune(r)) {
      util::AppendUtf8(out, r);
    } else if (r < 0x20 || r == 0x7F) {
      out += fmt::format("\\x{:02x}", r);
    } else if (r < 0x10000) {
      out += fmt::format("\\u{:04x}", r);
    } else {
      out += fmt::format("\\U{:08x}", r);
    }
  }
  out += '"';
  return out;
}

std::string FormatTime(int64_t millis) {
  using std::chrono::days;
  using std::chrono::floor;
  using std::chrono::milliseconds;
  std::chrono::sys_time<milliseconds> tp{milliseconds(millis)};
  auto day = floor<days>(tp);
  std::chrono::year_month_day ymd{day};
  int64_t ms_of_day = (tp - day).count();
  int64_t secs = ms_of_day / 1000;
  int64_t frac = ms_of_day % 1000;
  std::string out =
      fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), secs / 3600,
                  (secs / 60) % 60, secs % 60);
  if (frac != 0) {
    std::string f = fmt::format("{:03d}", frac);
    while (f.back() == '0') f.pop_back();
    out += "." + f;
  }
  out += " +0000 UTC";
  return out;
}

std::string Sprint(const std::vector<Value>& args) {
  Printer p;
  bool prev_string = false;
  for (size_t i = 0; i < args.size(); ++i) {
    bool is_string = args[i].kind == Value::Kind::kString;
    if (i > 0 && !is_string && !prev_string) p.buf += ' ';
    p.f = Flags{};
    p.PrintValue(args[i], 'v', 0);
    prev_string = is_string;
  }
  return p.buf;
}

std::string Sprintln(const std::vector<Value>& args) {
  Printer p;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) p.buf += ' ';
    p.f = Flags{};
    p.PrintValue(args[i], 'v', 0);
  }
  p.buf += '\n';
  return p.buf;
}

std::string Sprintf(std::string_view format, const std::vector<Value>& args) {
  Printer p;
  size_t arg_num = 0;
  bool reordered = false;
  size_t end = format.size();
  // Go's argNumber: an optional [n] selecting the next argument.
  auto arg_number = [&](size_t i, bool& good, bool& after_index) {
    after_index = false;
    if (i >= end || format[i] != '[') return i;
    reordered = true;
    size_t close = format.find(']', i);
    if (close == std::string_view::npos) {
      good = false;
      return end;
    }
    int n = 0;
    size_t j = i + 1;
    if (!ParseNum(format, j, n) || j != close || n < 1 || static_cast<size_t>(n) > args.size()) {
      good = false;
      return close + 1;
    }
    arg_num = static_cast<size_t>(n - 1);
    after_index = true;
    return close + 1;
  };
  auto int_from_arg = [&](int& out) {
    if (arg_num >= args.size()) return false;
    const Value& a = args[arg_num++];
    if (a.kind != Value::Kind::kInt || a.i > 1000000 || a.i < -1000000) return false;
    out = static_cast<int>(a.i);
    return true;
  };
  for (size_t i = 0; i < end;) {
    bool good = true;
    size_t last = i;
    while (i < end && format[i] != '%') ++i;
    if (i > last) p.buf.append(format.substr(last, i - last));
    if (i >= end) break;
    ++i;
    p.f = Flags{};
    for (; i < end; ++i) {
      char c = format[i];
      if (c == '#') {
        p.f.sharp = true;
      } else if (c == '0') {
        p.f.zero = !p.f.minus;
      } else if (c == '+') {
        p.f.plus = true;
      } else if (c == '-') {
        p.f.minus = true;
        p.f.zero = false;
      } else if (c == ' ') {
        p.f.space = true;
      } else {
        break;
      }
    }
    bool after_index = false;
    i = arg_number(i, good, after_index);
    if (i < end && format[i] == '*') {
      ++i;
      p.f.wid_present = int_from_arg(p.f.wid);
      if (!p.f.wid_present) p.buf += "%!(BADWIDTH)";
      if (p.f.wid < 0) {
        p.f.wid = -p.f.wid;
        p.f.minus = true;
        p.f.zero = false;
      }
      after_index = false;
    } else {
      p.f.wid_present = ParseNum(format, i, p.f.wid);
      if (after_index && p.f.wid_present) good = false;
    }
    if (i + 1 < end && format[i] == '.') {
      ++i;
      if (after_index) good = false;
      i = arg_number(i, good, after_index);
      if (i < end && format[i] == '*') {
        ++i;
        p.f.prec_present = int_from_arg(p.f.prec);
        if (p.f.prec < 0) {
          p.f.prec = 0;
          p.f.prec_present = false;
        }
        if (!p.f.prec_present) p.buf += "%!(BADPREC)";
        after_index = false;
      } else {
        p.f.prec_present = ParseNum(format, i, p.f.prec);
        if (!p.f.prec_present) {
          p.f.prec = 0;
          p.f.prec_present = true;
        }
      }
    }
    if (!after_index) i = arg_number(i, good, after_index);
    if (i >= end) {
      p.buf += "%!(NOVERB)";
      break;
    }
    auto [verb, size] = DecodeRune(format, i);
    i += size;
    if (verb == '%') {
      p.buf += '%';
    } else if (!good) {
      p.buf += "%!";
      util::AppendUtf8(p.buf, verb);
      p.buf += "(BADINDEX)";
    } else if (arg_num >= args.size()) {
      p.buf += "%!";
      util::AppendUtf8(p.buf, verb);
      p.buf += "(MISSING)";
    } else {
      if (verb == 'v') {
        p.f.sharp_v = p.f.sharp;
        p.f.sharp = false;
        p.f.plus_v = p.f.plus;
        p.f.plus = false;
      }
      if (verb == 'T') {
        p.Pad(TypeName(args[arg_num]));
      } else {
        p.PrintValue(args[arg_num], verb, 0);
      }
      ++arg_num;
    }
  }
  if (!reordered && arg_num < args.size()) {
    p.f = Flags{};
    p.buf += "%!(EXTRA ";
    for (size_t k = arg_num; k < args.size(); ++k) {
      if (k > arg_num) p.buf += ", ";
      if (!args[k].valid()) {
        p.buf += "<nil>";
      } else {
        p.buf += TypeName(args[k]);
        p.buf += '=';
        p.PrintValue(args[k], 'v', 0);
      }
    }
    p.buf += ')';
  }
  return p.buf;
}

}  // namespace vigil::tmpl::detail
