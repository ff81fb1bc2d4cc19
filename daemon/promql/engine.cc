#include "daemon/promql/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <variant>

#include "daemon/promql/detail/evaluator.h"

namespace vigil::promql {
namespace {

using detail::CheckDuplicates;
using detail::DropName;
using detail::EvalError;
using detail::Evaluator;
using detail::FinishMatrix;
using detail::SeriesCollector;
using detail::StepValue;

int64_t MaxLookbackMs(const Expr& e, int64_t lookback) {
  switch (e.kind) {
    case ExprKind::kNumber:
    case ExprKind::kString:
      return 0;
    case ExprKind::kParen:
      return MaxLookbackMs(*static_cast<const ParenExpr&>(e).expr, lookback);
    case ExprKind::kUnary:
      return MaxLookbackMs(*static_cast<const UnaryExpr&>(e).expr, lookback);
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      return std::max(MaxLookbackMs(*b.lhs, lookback), MaxLookbackMs(*b.rhs, lookback));
    }
    case ExprKind::kVectorSelector:
      return std::max<int64_t>(0, static_cast<const VectorSelector&>(e).offset_ms + lookback);
    case ExprKind::kMatrixSelector: {
      const auto& ms = static_cast<const MatrixSelector&>(e);
      return std::max<int64_t>(0, ms.selector->offset_ms + ms.range_ms);
    }
    case ExprKind::kSubquery: {
      const auto& sq = static_cast<const SubqueryExpr&>(e);
      return std::max<int64_t>(0, sq.offset_ms + sq.range_ms + MaxLookbackMs(*sq.expr, lookback));
    }
    case ExprKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      int64_t p = a.param ? MaxLookbackMs(*a.param, lookback) : 0;
      return std::max(p, MaxLookbackMs(*a.expr, lookback));
    }
    case ExprKind::kCall: {
      int64_t m = 0;
      for (const auto& arg : static_cast<const Call&>(e).args) {
        m = std::max(m, MaxLookbackMs(*arg, lookback));
      }
      return m;
    }
  }
  return 0;
}

void AppendAnnotations(Evaluator& ev, std::vector<Annotation>& out) {
  for (auto& a : ev.TakeAnnotations()) out.push_back(std::move(a));
}

}  // namespace

std::string FormatAnnotation(const Annotation& annotation, std::string_view query) {
  int line = 1;
  int col = 1;
  for (int i = 0; i < annotation.pos.start && i < static_cast<int>(query.size()); ++i) {
    if (query[static_cast<size_t>(i)] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return fmt::format("PromQL {}: {} ({}:{})",
                     annotation.severity == Annotation::Severity::kWarning ? "warning" : "info",
                     annotation.message, line, col);
}

util::Result<Value> Engine::InstantQuery(const model::Querier& querier, const Expr& expr,
                                         int64_t t_ms, std::vector<Annotation>* annotations) const {
  try {
    Evaluator ev(querier, options_, t_ms, t_ms);
    ev.Prepare(expr);
    StepValue v = ev.Eval(expr, t_ms);
    if (annotations != nullptr) AppendAnnotations(ev, *annotations);
    util::Result<Value> out;
    if (auto* d = std::get_if<double>(&v)) {
      out->emplace<Scalar>(Scalar{t_ms, *d});
    } else if (auto* s = std::get_if<std::string>(&v)) {
      out->emplace<String>(String{t_ms, std::move(*s)});
    } else if (auto* vec = std::get_if<Vector>(&v)) {
      for (auto& sample : *vec) {
        sample.t = t_ms;
        if (sample.drop_name) sample.labels = DropName(sample.labels);
        sample.drop_name = false;
      }
      CheckDuplicates(*vec);
      out->emplace<Vector>(std::move(*vec));
    } else {
      out->emplace<Matrix>(FinishMatrix(std::get<Matrix>(std::move(v))));
    }
    return out;
  } catch (const EvalError& e) {
    return util::Fail("{}", e.message);
  }
}

util::Result<Matrix> Engine::RangeQuery(const model::Querier& querier, const Expr& expr,
                                        int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                        std::vector<Annotation>* annotations) const {
  ValueType type = expr.Type();
  if (type != ValueType::kScalar && type != ValueType::kVector) {
    return util::Fail(
        "invalid expression type \"{}\" for range query, must be Scalar or instant "
        "Vector",
        ValueTypeName(type));
  }
  if (step_ms <= 0)
    return util::Fail("zero or negative query resolution step widths are not accepted");
  if (end_ms < start_ms) return util::Fail("end timestamp must not be before start time");
  try {
    Evaluator ev(querier, options_, start_ms, end_ms);
    ev.Prepare(expr);
    SeriesCollector collector;
    for (int64_t t = start_ms; t <= end_ms; t += step_ms) {
      StepValue v = ev.Eval(expr, t);
      if (auto* d = std::get_if<double>(&v)) {
        collector.Add(model::Labels{}, t, *d);
        continue;
      }
      for (const auto& s : std::get<Vector>(v)) collector.Add(s.labels, t, s.v, s.drop_name);
    }
    Matrix out = FinishMatrix(collector.Take());
    if (annotations != nullptr) AppendAnnotations(ev, *annotations);
    return out;
  } catch (const EvalError& e) {
    return util::Fail("{}", e.message);
  }
}

util::Duration MaxLookback(const Expr& expr, util::Duration lookback_delta) {
  return util::Duration(MaxLookbackMs(expr, lookback_delta.count()));
}

}  // namespace vigil::promql
