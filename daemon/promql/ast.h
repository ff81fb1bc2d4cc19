#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/model/matcher.h"

namespace vigil::promql {

// The type an expression evaluates to, named as in Prometheus's messages.
enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };
std::string_view ValueTypeName(ValueType type);  // "scalar", "instant vector", ...

// Byte offsets [start, end) of a node in the query text.
struct PosRange {
  int start = 0;
  int end = 0;
};

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEql,
  kNeq,
  kGtr,
  kLss,
  kGte,
  kLte,
  kAnd,
  kOr,
  kUnless,
};
std::string_view BinaryOpName(BinaryOp op);  // "+", "==", "and", ...
bool IsComparison(BinaryOp op);
bool IsSetOperator(BinaryOp op);

enum class AggOp {
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
};
std::string_view AggOpName(AggOp op);  // "sum", "count_values", ...

// Every function the parser knows. Implementations live in functions.cc.
enum class Func {
  kAbs,
  kAbsent,
  kAbsentOverTime,
  kAcos,
  kAcosh,
  kAsin,
  kAsinh,
  kAtan,
  kAtanh,
  kAvgOverTime,
  kCeil,
  kChanges,
  kClamp,
  kClampMax,
  kClampMin,
  kCos,
  kCosh,
  kCountOverTime,
  kDayOfMonth,
  kDayOfWeek,
  kDayOfYear,
  kDaysInMonth,
  kDeg,
  kDelta,
  kDeriv,
  kExp,
  kFloor,
  kHistogramQuantile,
  kHoltWinters,
  kHour,
  kIdelta,
  kIncrease,
  kIrate,
  kLabelJoin,
  kLabelReplace,
  kLastOverTime,
  kFirstOverTime,
  kLn,
  kLog10,
  kLog2,
  kMadOverTime,
  kMaxOverTime,
  kMinOverTime,
  kMinute,
  kMonth,
  kPi,
  kPredictLinear,
  kPresentOverTime,
  kQuantileOverTime,
  kRad,
  kRate,
  kResets,
  kRound,
  kScalar,
  kSgn,
  kSin,
  kSinh,
  kSort,
  kSortDesc,
  kSortByLabel,
  kSortByLabelDesc,
  kSqrt,
  kStddevOverTime,
  kStdvarOverTime,
  kSumOverTime,
  kTan,
  kTanh,
  kTime,
  kTimestamp,
  kVector,
  kYear,
  kStart,
  kEnd,
};

// The signature of a function: argument types, how many trailing arguments
// are optional (-1: the last one repeats without limit), the result type.
struct FunctionInfo {
  std::string_view name;
  Func id;
  std::vector<ValueType> arg_types;
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
  bool experimental = false;
};

// Finds a function by name; `holt_winters_name` selects the 2.x spelling of
// the smoothing function, `experimental` admits experimental functions.
const FunctionInfo* LookupFunction(std::string_view name, bool holt_winters_name,
                                   bool experimental);

// `@ start()` / `@ end()` on a selector or subquery.
enum class AtModifier { kNone, kTimestamp, kStart, kEnd };

enum class ExprKind {
  kNumber,
  kString,
  kParen,
  kUnary,
  kBinary,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kAggregate,
  kCall,
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

// Expr is a node of a parsed PromQL expression. Trees are immutable after
// parsing and safe to evaluate from many threads at once. String() re-prints
// the expression canonically, as Prometheus's parser.Expr.String() does.
struct Expr {
  explicit Expr(ExprKind k) : kind(k) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  ValueType Type() const;
  std::string String() const;

  const ExprKind kind;
  PosRange pos;
};

struct NumberLiteral final : Expr {
  NumberLiteral() : Expr(ExprKind::kNumber) {}
  double value = 0;
};

struct StringLiteral final : Expr {
  StringLiteral() : Expr(ExprKind::kString) {}
  std::string value;
};

struct ParenExpr final : Expr {
  ParenExpr() : Expr(ExprKind::kParen) {}
  ExprPtr expr;
};

struct UnaryExpr final : Expr {
  UnaryExpr() : Expr(ExprKind::kUnary) {}
  BinaryOp op = BinaryOp::kSub;  // kAdd or kSub
  ExprPtr expr;
};

enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

// How the two sides of a vector/vector operation are matched.
struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  std::vector<std::string> matching_labels;  // sorted, for on()/ignoring()
  bool on = false;                           // on() rather than ignoring()
  std::vector<std::string> include;          // group_left/right(extra labels)
};

struct BinaryExpr final : Expr {
  BinaryExpr() : Expr(ExprKind::kBinary) {}
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs;
  ExprPtr rhs;
  bool return_bool = false;
  // Set when both sides are instant vectors.
  std::optional<VectorMatching> matching;
};

struct VectorSelector final : Expr {
  VectorSelector() : Expr(ExprKind::kVectorSelector) {}
  std::string name;                      // metric name, "" when only in braces
  std::vector<model::Matcher> matchers;  // includes __name__="name"
  int64_t offset_ms = 0;                 // `offset`, negative allowed
  AtModifier at = AtModifier::kNone;
  int64_t at_ms = 0;  // for AtModifier::kTimestamp
};

struct MatrixSelector final : Expr {
  MatrixSelector() : Expr(ExprKind::kMatrixSelector) {}
  std::unique_ptr<VectorSelector> selector;  // carries offset and @
  int64_t range_ms = 0;
};

struct SubqueryExpr final : Expr {
  SubqueryExpr() : Expr(ExprKind::kSubquery) {}
  ExprPtr expr;
  int64_t range_ms = 0;
  int64_t step_ms = 0;  // 0: the engine's default subquery step
  int64_t offset_ms = 0;
  AtModifier at = AtModifier::kNone;
  int64_t at_ms = 0;
};

struct AggregateExpr final : Expr {
  AggregateExpr() : Expr(ExprKind::kAggregate) {}
  AggOp op = AggOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // topk k, quantile φ, count_values label
  std::vector<std::string> grouping;
  bool without = false;
};

struct Call final : Expr {
  Call() : Expr(ExprKind::kCall) {}
  const FunctionInfo* func = nullptr;
  std::vector<ExprPtr> args;
};

// Formats a float as Go's %v / %g does: shortest round-trip digits, in
// exponent form ("1e+06") when the decimal exponent is < -4 or >= 6; "+Inf",
// "-Inf", "NaN". PromQL prints number literals this way.
std::string FormatNumber(double v);

// Go's strconv.Quote: double quotes, escapes for quotes, backslashes, control
// characters and invalid UTF-8 bytes (\xNN); valid UTF-8 is kept.
std::string Quote(std::string_view s);

}  // namespace vigil::promql
