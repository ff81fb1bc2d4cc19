#pragma once

// The evaluator behind Engine: one instance per query, one thread. Private to
// the promql module (see daemon/promql/README.md for the design).

#include <fmt/format.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "daemon/model/labels.h"
#include "daemon/model/storage.h"
#include "daemon/promql/ast.h"
#include "daemon/promql/detail/functions.h"
#include "daemon/promql/engine.h"
#include "daemon/promql/value.h"

namespace vigil::promql::detail {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// A zero lookback delta means the default, as in Prometheus.
constexpr int64_t kDefaultLookbackMs = 300000;

// Raised inside the evaluator and turned into util::Error by Engine.
struct EvalError {
  std::string message;
};

template <typename... Args>
[[noreturn]] void Throw(fmt::format_string<Args...> format, Args&&... args) {
  throw EvalError{fmt::format(format, std::forward<Args>(args)...)};
}

// One step's value of a node: scalar, string, instant vector or range vector.
using StepValue = std::variant<double, std::string, Vector, Matrix>;

// Labels without __name__ (a copy only when the name is present).
model::Labels DropName(const model::Labels& l);
// Prometheus's labels.String(): {a="b", c="d"} with Go quoting.
std::string LabelsString(const model::Labels& l);
// Legacy [a-zA-Z_][a-zA-Z0-9_]* names, or any valid UTF-8 when `utf8`.
bool ValidLabelName(std::string_view name, bool utf8);
// Fails with Prometheus's message when two samples share a label set.
void CheckDuplicates(const Vector& v);
const Expr& UnwrapParens(const Expr& e);
// Removes names marked for delayed removal; series that end up with the same
// labels merge when their timestamps do not overlap (else the error
// Prometheus gives). The result is sorted by labels.
Matrix FinishMatrix(Matrix m);

// Accumulates step results into series keyed by labels.
class SeriesCollector {
 public:
  void Add(const model::Labels& labels, int64_t t, double v, bool drop_name = false) {
    uint64_t h = labels.Hash();
    auto [it, inserted] = index_.try_emplace(h, series_.size());
    if (inserted) series_.push_back(Series{labels, {}, false});
    Series& s = series_[it->second];
    s.points.push_back(model::Sample{t, v});
    s.drop_name = s.drop_name || drop_name;
  }
  Matrix Take() { return std::move(series_); }

 private:
  std::unordered_map<uint64_t, size_t> index_;
  Matrix series_;
};

// A borrowed view of one series' samples inside a range window.
struct RangeSeries {
  const model::Labels* labels;
  std::span<const model::Sample> points;
  bool drop_name = false;
};

// Evaluator evaluates one query: Prepare() once, then Eval() per step.
class Evaluator {
 public:
  Evaluator(const model::Querier& querier, const EngineOptions& options, int64_t start, int64_t end)
      : querier_(querier),
        options_(options),
        start_(start),
        end_(end),
        lookback_(options.lookback_delta.count() > 0 ? options.lookback_delta.count()
                                                     : kDefaultLookbackMs) {}

  void Prepare(const Expr& root) { Walk(root, start_, end_); }

  std::vector<Annotation> TakeAnnotations() { return std::move(annotations_); }

  StepValue Eval(const Expr& e, int64_t t);

  double EvalScalar(const Expr& e, int64_t t) { return std::get<double>(Eval(e, t)); }
  Vector EvalVector(const Expr& e, int64_t t) { return std::get<Vector>(Eval(e, t)); }

 private:
  // The series of one selection (matchers and kind) over the widest range
  // any step reads. Selectors with equal matchers share one.
  struct Fetched {
    int64_t mint = std::numeric_limits<int64_t>::max();
    int64_t maxt = std::numeric_limits<int64_t>::min();
    bool loaded = false;
    bool strip_stale = false;
    // Evaluations that will read it: one selector node evaluated at a single
    // step (an instant query, outside subqueries) counts 1, anything else 2.
    int uses = 0;
    std::vector<model::Series> series;
  };
  using SeriesFn =
      std::function<void(const model::LabelsView& labels, std::span<const model::Sample>)>;

  int64_t AtTime(AtModifier at, int64_t at_ms, int64_t t) const;

  void Need(const VectorSelector& vs, int64_t lo, int64_t hi, int64_t back, bool strip);

  // Records for each selector the widest time range any step will read.
  void Walk(const Expr& e, int64_t lo, int64_t hi);

  Fetched& Load(const VectorSelector& vs);

  // Whether the selection of `vs` is read exactly once: then it is streamed
  // from the querier (StreamSelector) instead of loaded.
  bool Streamable(const VectorSelector& vs) const;

  // Hands each series of a Streamable selector to `fn` (stale markers removed
  // for range selectors, samples counted against max_samples as Load does).
  void StreamSelector(const VectorSelector& vs, const SeriesFn& fn);

  bool InWindow(int64_t ts, int64_t lower) const;

  Vector EvalVectorSelector(const VectorSelector& vs, int64_t t);

  // The window (start, end] of a range argument at step t.
  detail::Window WindowOf(const Expr& arg, int64_t t) const;

  // The samples of a matrix selector's series that lie in window w.
  std::span<const model::Sample> InRange(std::span<const model::Sample> samples,
                                         const detail::Window& w) const;

  // Range-vector argument at step t: views into the loaded series for a
  // matrix selector, or into `owned` for a subquery.
  std::vector<RangeSeries> RangeOf(const Expr& arg, int64_t t, Matrix& owned);

  Matrix EvalSubquery(const SubqueryExpr& sq, int64_t t);

  StepValue EvalUnary(const UnaryExpr& u, int64_t t);

  StepValue EvalBinary(const BinaryExpr& b, int64_t t);

  // Drops __name__ now (2.x) or marks it for removal at the end (3.x).
  void MarkNameDropped(Sample& s) const;

  // Prometheus checks every function and operator result for duplicate
  // label sets, unless names are removed late (then only the final result).
  void CheckIntermediate(const Vector& v) const;

  bool DropsName(BinaryOp op) const;

  static uint64_t Signature(const model::Labels& l, const VectorMatching& m);

  static model::Labels MatchLabels(const model::Labels& l, const VectorMatching& m);

  Vector SetAnd(Vector lhs, const Vector& rhs, const VectorMatching& m);

  Vector SetOr(Vector lhs, Vector rhs, const VectorMatching& m);

  Vector SetUnless(Vector lhs, const Vector& rhs, const VectorMatching& m);

  // The labels of a vector/vector result (Prometheus's resultMetric); the
  // name is removed by the caller via MarkNameDropped.
  static model::Labels ResultLabels(model::Labels lhs, const model::Labels& rhs,
                                    const VectorMatching& m);

  Vector VectorBinop(const BinaryExpr& b, Vector lhs, Vector rhs, const VectorMatching& m,
                     int64_t t);

  [[noreturn]] static void ThrowManyToOne();

  struct Group {
    bool drop_name = false;
    model::Labels labels;
    double value = 0;
    double mean = 0;
    double count = 0;
    detail::KahanSum sum;
    detail::MeanAccumulator avg;
    std::vector<double> values;
    std::vector<size_t> members;  // indexes into the input (topk/bottomk)
  };

  StepValue EvalAggregate(const AggregateExpr& a, int64_t t);
  // Adds input sample `index` with value v to its group.
  static void Accumulate(AggOp op, Group& g, double v, size_t index);
  // A group's result (not for topk/bottomk).
  double GroupValue(const AggregateExpr& a, double param, Group& g);
  // An aggregation of a range function over a Streamable matrix selector,
  // such as sum by (job) (rate(x[5m])), evaluated while the series stream
  // in: no instant vector of the function's results, no label sets but the
  // groups'. Nullopt (nothing evaluated) for any other shape. Same results,
  // order and errors as the general path.
  std::optional<Vector> StreamAggregate(const AggregateExpr& a, int64_t t);

  Vector SelectK(const AggregateExpr& a, double param, Vector& input, std::vector<Group>& groups);

  StepValue EvalCall(const Call& c, int64_t t);
  Vector LabelReplace(const Call& c, int64_t t);
  Vector LabelJoin(const Call& c, int64_t t);
  Vector HistogramQuantile(const Call& c, int64_t t);
  Vector VectorFunction(const Call& c, int64_t t);
  Vector RangeFunction(const Call& c, int64_t t);
  // A range function's value for one series' samples `p` in window w, or
  // nullopt for no output.
  std::optional<double> RangeValue(const Call& c, std::span<const model::Sample> p,
                                   const detail::Window& w, const std::vector<double>& params,
                                   int64_t t, std::vector<double>& scratch);

  void Annotate(Annotation::Severity severity, std::string message, PosRange pos);

  void WarnIneffectiveSort(const Call& c);

  void CheckQuantile(double q, const Expr& param);

  std::vector<Annotation> annotations_;
  const model::Querier& querier_;
  const EngineOptions& options_;
  int64_t start_;
  int64_t end_;
  int64_t lookback_;
  size_t samples_ = 0;
  int subquery_depth_ = 0;  // while Walk is inside a subquery
  // Selection key (matchers, kind) -> its series; node -> its selection.
  std::unordered_map<std::string, Fetched> selections_;
  std::unordered_map<const VectorSelector*, Fetched*> fetched_;
};

}  // namespace vigil::promql::detail
