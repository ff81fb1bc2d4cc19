#include "daemon/promql/ast.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "daemon/model/labels.h"
#include "daemon/util/duration.h"

namespace vigil::promql {
namespace {

using enum ValueType;

const std::vector<FunctionInfo>& FunctionTable() {
  static const std::vector<FunctionInfo> kFunctions = {
      {"abs", Func::kAbs, {kVector}},
      {"absent", Func::kAbsent, {kVector}},
      {"absent_over_time", Func::kAbsentOverTime, {kMatrix}},
      {"acos", Func::kAcos, {kVector}},
      {"acosh", Func::kAcosh, {kVector}},
      {"asin", Func::kAsin, {kVector}},
      {"asinh", Func::kAsinh, {kVector}},
      {"atan", Func::kAtan, {kVector}},
      {"atanh", Func::kAtanh, {kVector}},
      {"avg_over_time", Func::kAvgOverTime, {kMatrix}},
      {"ceil", Func::kCeil, {kVector}},
      {"changes", Func::kChanges, {kMatrix}},
      {"clamp", Func::kClamp, {kVector, kScalar, kScalar}},
      {"clamp_max", Func::kClampMax, {kVector, kScalar}},
      {"clamp_min", Func::kClampMin, {kVector, kScalar}},
      {"cos", Func::kCos, {kVector}},
      {"cosh", Func::kCosh, {kVector}},
      {"count_over_time", Func::kCountOverTime, {kMatrix}},
      {"day_of_month", Func::kDayOfMonth, {kVector}, 1},
      {"day_of_week", Func::kDayOfWeek, {kVector}, 1},
      {"day_of_year", Func::kDayOfYear, {kVector}, 1},
      {"days_in_month", Func::kDaysInMonth, {kVector}, 1},
      {"deg", Func::kDeg, {kVector}},
      {"delta", Func::kDelta, {kMatrix}},
      {"deriv", Func::kDeriv, {kMatrix}},
      {"double_exponential_smoothing",
       Func::kHoltWinters,
       {kMatrix, kScalar, kScalar},
       0,
       kVector,
       true},
      {"exp", Func::kExp, {kVector}},
      {"first_over_time", Func::kFirstOverTime, {kMatrix}},
      {"floor", Func::kFloor, {kVector}},
      {"histogram_quantile", Func::kHistogramQuantile, {kScalar, kVector}},
      {"holt_winters", Func::kHoltWinters, {kMatrix, kScalar, kScalar}},
      {"hour", Func::kHour, {kVector}, 1},
      {"idelta", Func::kIdelta, {kMatrix}},
      {"increase", Func::kIncrease, {kMatrix}},
      {"irate", Func::kIrate, {kMatrix}},
      {"label_join", Func::kLabelJoin, {kVector, kString, kString, kString}, -1},
      {"label_replace", Func::kLabelReplace, {kVector, kString, kString, kString, kString}},
      {"last_over_time", Func::kLastOverTime, {kMatrix}},
      {"ln", Func::kLn, {kVector}},
      {"log10", Func::kLog10, {kVector}},
      {"log2", Func::kLog2, {kVector}},
      {"mad_over_time", Func::kMadOverTime, {kMatrix}, 0, kVector, true},
      {"max_over_time", Func::kMaxOverTime, {kMatrix}},
      {"min_over_time", Func::kMinOverTime, {kMatrix}},
      {"minute", Func::kMinute, {kVector}, 1},
      {"month", Func::kMonth, {kVector}, 1},
      {"pi", Func::kPi, {}, 0, kScalar},
      {"predict_linear", Func::kPredictLinear, {kMatrix, kScalar}},
      {"present_over_time", Func::kPresentOverTime, {kMatrix}},
      {"quantile_over_time", Func::kQuantileOverTime, {kScalar, kMatrix}},
      {"rad", Func::kRad, {kVector}},
      {"rate", Func::kRate, {kMatrix}},
      {"resets", Func::kResets, {kMatrix}},
      {"round", Func::kRound, {kVector, kScalar}, 1},
      {"scalar", Func::kScalar, {kVector}, 0, kScalar},
      {"sgn", Func::kSgn, {kVector}},
      {"sin", Func::kSin, {kVector}},
      {"sinh", Func::kSinh, {kVector}},
      {"sort", Func::kSort, {kVector}},
      {"sort_by_label", Func::kSortByLabel, {kVector, kString}, -1, kVector, true},
      {"sort_by_label_desc", Func::kSortByLabelDesc, {kVector, kString}, -1, kVector, true},
      {"sort_desc", Func::kSortDesc, {kVector}},
      {"sqrt", Func::kSqrt, {kVector}},
      {"stddev_over_time", Func::kStddevOverTime, {kMatrix}},
      {"stdvar_over_time", Func::kStdvarOverTime, {kMatrix}},
      {"sum_over_time", Func::kSumOverTime, {kMatrix}},
      {"tan", Func::kTan, {kVector}},
      {"tanh", Func::kTanh, {kVector}},
      {"time", Func::kTime, {}, 0, kScalar},
      {"timestamp", Func::kTimestamp, {kVector}},
      {"vector", Func::kVector, {kScalar}},
      {"year", Func::kYear, {kVector}, 1},
      {"start", Func::kStart, {}, 0, kScalar, true},
      {"end", Func::kEnd, {}, 0, kScalar, true},
  };
  return kFunctions;
}

// Length of the valid UTF-8 sequence starting at s[i] (2..4), or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return 0;
  }
  return len;
}

}  // namespace

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
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
      case '\a':
        out += "\\a";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      case '\v':
        out += "\\v";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (size_t len = Utf8SequenceLength(s, i); len > 0) {
      out.append(s.substr(i, len));
      i += len - 1;
    } else {
      out += fmt::format("\\x{:02x}", c);  // invalid UTF-8, as Go escapes it
    }
  }
  out += '"';
  return out;
}

namespace {

bool IsLegacyName(std::string_view name, bool colons) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (colons && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string JoinLabels(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (const auto& n : names) out.push_back(IsLegacyName(n, false) ? n : Quote(n));
  return fmt::format("{}", fmt::join(out, ", "));
}

std::string ModifiersString(AtModifier at, int64_t at_ms, int64_t offset_ms) {
  std::string out;
  switch (at) {
    case AtModifier::kNone:
      break;
    case AtModifier::kTimestamp:
      out += fmt::format(" @ {:.3f}", static_cast<double>(at_ms) / 1000.0);
      break;
    case AtModifier::kStart:
      out += " @ start()";
      break;
    case AtModifier::kEnd:
      out += " @ end()";
      break;
  }
  if (offset_ms > 0) {
    out += " offset " + util::FormatDuration(util::Duration(offset_ms));
  } else if (offset_ms < 0) {
    out += " offset -" + util::FormatDuration(util::Duration(-offset_ms));
  }
  return out;
}

// Words the parser reads as keywords, aggregations or number literals, so a
// metric of that name must be printed in the quoted form `{"and"}`.
bool IsReservedWord(std::string_view name) {
  static constexpr std::string_view kWords[] = {
      "and",      "or",         "unless",      "atan2",        "by",      "without", "on",
      "ignoring", "group_left", "group_right", "bool",         "offset",  "inf",     "nan",
      "sum",      "avg",        "count",       "min",          "max",     "group",   "stddev",
      "stdvar",   "topk",       "bottomk",     "count_values", "quantile"};
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::find(std::begin(kWords), std::end(kWords), lower) != std::end(kWords);
}

std::string MatcherString(const model::Matcher& m) {
  static constexpr std::string_view kOps[] = {"=", "!=", "=~", "!~"};
  std::string name = IsLegacyName(m.name(), false) ? m.name() : Quote(m.name());
  return name + std::string(kOps[static_cast<int>(m.type())]) + Quote(m.value());
}

// Prometheus's VectorSelector.String() without modifiers: the name outside
// the braces when it is a legacy name, quoted first inside them otherwise.
std::string SelectorBody(const VectorSelector& vs) {
  std::vector<std::string> parts;
  for (const auto& m : vs.matchers) {
    if (m.name() == model::kMetricName && m.type() == model::MatchType::kEqual &&
        m.value() == vs.name && !m.value().empty()) {
      continue;
    }
    parts.push_back(MatcherString(m));
  }
  std::sort(parts.begin(), parts.end());
  if (!vs.name.empty() && (!IsLegacyName(vs.name, true) || IsReservedWord(vs.name))) {
    parts.insert(parts.begin(), Quote(vs.name));
    return fmt::format("{{{}}}", fmt::join(parts, ", "));
  }
  if (parts.empty()) return vs.name;
  return fmt::format("{}{{{}}}", vs.name, fmt::join(parts, ","));
}

}  // namespace

std::string_view ValueTypeName(ValueType type) {
  switch (type) {
    case kNone:
      return "none";
    case kScalar:
      return "scalar";
    case kVector:
      return "instant vector";
    case kMatrix:
      return "range vector";
    case kString:
      return "string";
  }
  return "none";
}

std::string_view BinaryOpName(BinaryOp op) {
  static constexpr std::string_view kNames[] = {"+",     "-",   "*",  "/",     "%", "^",
                                                "atan2", "==",  "!=", ">",     "<", ">=",
                                                "<=",    "and", "or", "unless"};
  return kNames[static_cast<int>(op)];
}

bool IsComparison(BinaryOp op) { return op >= BinaryOp::kEql && op <= BinaryOp::kLte; }
bool IsSetOperator(BinaryOp op) { return op >= BinaryOp::kAnd; }

std::string_view AggOpName(AggOp op) {
  static constexpr std::string_view kNames[] = {"sum",  "avg",     "count",        "min",
                                                "max",  "group",   "stddev",       "stdvar",
                                                "topk", "bottomk", "count_values", "quantile"};
  return kNames[static_cast<int>(op)];
}

const FunctionInfo* LookupFunction(std::string_view name, bool holt_winters_name,
                                   bool experimental) {
  if (name == "holt_winters" && !holt_winters_name) return nullptr;
  if (name == "double_exponential_smoothing" && holt_winters_name) return nullptr;
  for (const auto& f : FunctionTable()) {
    if (f.name != name) continue;
    if (f.experimental && !experimental) return nullptr;
    return &f;
  }
  return nullptr;
}

ValueType Expr::Type() const {
  switch (kind) {
    case ExprKind::kNumber:
      return kScalar;
    case ExprKind::kString:
      return kString;
    case ExprKind::kParen:
      return static_cast<const ParenExpr*>(this)->expr->Type();
    case ExprKind::kUnary:
      return static_cast<const UnaryExpr*>(this)->expr->Type();
    case ExprKind::kBinary: {
      const auto* b = static_cast<const BinaryExpr*>(this);
      return b->lhs->Type() == kScalar && b->rhs->Type() == kScalar ? kScalar : kVector;
    }
    case ExprKind::kVectorSelector:
      return kVector;
    case ExprKind::kMatrixSelector:
      return kMatrix;
    case ExprKind::kSubquery:
      return kMatrix;
    case ExprKind::kAggregate:
      return kVector;
    case ExprKind::kCall:
      return static_cast<const Call*>(this)->func->return_type;
  }
  return kNone;
}

std::string Expr::String() const {
  switch (kind) {
    case ExprKind::kNumber:
      return FormatNumber(static_cast<const NumberLiteral*>(this)->value);
    case ExprKind::kString:
      return Quote(static_cast<const StringLiteral*>(this)->value);
    case ExprKind::kParen:
      return "(" + static_cast<const ParenExpr*>(this)->expr->String() + ")";
    case ExprKind::kUnary: {
      const auto* u = static_cast<const UnaryExpr*>(this);
      return std::string(BinaryOpName(u->op)) + u->expr->String();
    }
    case ExprKind::kBinary: {
      const auto* b = static_cast<const BinaryExpr*>(this);
      std::string matching;
      if (b->matching && (!b->matching->matching_labels.empty() || b->matching->on)) {
        matching = fmt::format(" {} ({})", b->matching->on ? "on" : "ignoring",
                               JoinLabels(b->matching->matching_labels));
        if (b->matching->card == Cardinality::kManyToOne ||
            b->matching->card == Cardinality::kOneToMany) {
          matching += fmt::format(" group_{} ({})",
                                  b->matching->card == Cardinality::kManyToOne ? "left" : "right",
                                  JoinLabels(b->matching->include));
        }
      }
      return fmt::format("{} {}{}{} {}", b->lhs->String(), BinaryOpName(b->op),
                         b->return_bool ? " bool" : "", matching, b->rhs->String());
    }
    case ExprKind::kVectorSelector: {
      const auto* vs = static_cast<const VectorSelector*>(this);
      return SelectorBody(*vs) + ModifiersString(vs->at, vs->at_ms, vs->offset_ms);
    }
    case ExprKind::kMatrixSelector: {
      const auto* ms = static_cast<const MatrixSelector*>(this);
      const VectorSelector& vs = *ms->selector;
      return fmt::format("{}[{}]{}", SelectorBody(vs),
                         util::FormatDuration(util::Duration(ms->range_ms)),
                         ModifiersString(vs.at, vs.at_ms, vs.offset_ms));
    }
    case ExprKind::kSubquery: {
      const auto* sq = static_cast<const SubqueryExpr*>(this);
      std::string step = sq->step_ms == 0 ? "" : util::FormatDuration(util::Duration(sq->step_ms));
      return fmt::format("{}[{}:{}]{}", sq->expr->String(),
                         util::FormatDuration(util::Duration(sq->range_ms)), step,
                         ModifiersString(sq->at, sq->at_ms, sq->offset_ms));
    }
    case ExprKind::kAggregate: {
      const auto* a = static_cast<const AggregateExpr*>(this);
      std::string out(AggOpName(a->op));
      if (a->without) {
        out += fmt::format(" without ({}) ", JoinLabels(a->grouping));
      } else if (!a->grouping.empty()) {
        out += fmt::format(" by ({}) ", JoinLabels(a->grouping));
      }
      out += "(";
      if (a->param) out += a->param->String() + ", ";
      return out + a->expr->String() + ")";
    }
    case ExprKind::kCall: {
      const auto* c = static_cast<const Call*>(this);
      std::vector<std::string> args;
      for (const auto& arg : c->args) args.push_back(arg->String());
      return fmt::format("{}({})", c->func->name, fmt::join(args, ", "));
    }
  }
  return "";
}

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  size_t e = sci.find('e');
  std::string_view mantissa = sci.substr(0, e);
  int exp = std::atoi(std::string(sci.substr(e + 1)).c_str());
  if (exp < -4 || exp >= 6) {
    int exp_abs = exp < 0 ? -exp : exp;
    return fmt::format("{}e{}{:02d}", mantissa, exp < 0 ? '-' : '+', exp_abs);
  }
  res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

}  // namespace vigil::promql
