#include "daemon/promql/detail/evaluator.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <optional>

#include "daemon/promql/detail/hash_set.h"

namespace vigil::promql::detail {
namespace {

const std::vector<std::string>& NameOnly() {
  static const std::vector<std::string> kName{std::string(model::kMetricName)};
  return kName;
}

// Names a selection: the matchers, sorted, and whether it is a range
// selector's (stale markers removed).
std::string SelectionKey(const std::vector<model::Matcher>& matchers, bool range) {
  std::vector<std::string> parts;
  parts.reserve(matchers.size());
  for (const model::Matcher& m : matchers) parts.push_back(m.ToString());
  std::sort(parts.begin(), parts.end());
  std::string key = range ? "range" : "instant";
  for (const std::string& part : parts) {
    key += '\0';
    key += part;
  }
  return key;
}

[[noreturn]] void ThrowTooManySamples() {
  Throw("query processing would load too many samples into memory in query execution");
}

std::string FormatFloatPlain(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[512];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

double ArithOp(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kAdd:
      return l + r;
    case BinaryOp::kSub:
      return l - r;
    case BinaryOp::kMul:
      return l * r;
    case BinaryOp::kDiv:
      return l / r;
    case BinaryOp::kPow:
      return std::pow(l, r);
    case BinaryOp::kMod:
      return std::fmod(l, r);
    case BinaryOp::kAtan2:
      return std::atan2(l, r);
    default:
      return kNaN;
  }
}

// Returns the value and whether the element is kept (comparisons filter).
std::pair<double, bool> ElemBinop(BinaryOp op, double l, double r) {
  switch (op) {
    case BinaryOp::kEql:
      return {l, l == r};
    case BinaryOp::kNeq:
      return {l, l != r};
    case BinaryOp::kGtr:
      return {l, l > r};
    case BinaryOp::kLss:
      return {l, l < r};
    case BinaryOp::kGte:
      return {l, l >= r};
    case BinaryOp::kLte:
      return {l, l <= r};
    default:
      return {ArithOp(op, l, r), true};
  }
}

}  // namespace

model::Labels DropName(const model::Labels& l) {
  if (!l.Has(model::kMetricName)) return l;
  return l.Drop(NameOnly());
}

std::string LabelsString(const model::Labels& l) {
  std::string out = "{";
  bool first = true;
  for (const auto& label : l) {
    if (!first) out += ", ";
    first = false;
    out += label.name;
    out += "=\"";
    for (char c : label.value) {
      if (c == '"' || c == '\\') out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

bool ValidLabelName(std::string_view name, bool utf8) {
  if (name.empty()) return false;
  if (utf8) {
    // Valid UTF-8 is enough in 3.x.
    size_t i = 0;
    while (i < name.size()) {
      unsigned char c = static_cast<unsigned char>(name[i]);
      size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
      if (len == 0 || i + len > name.size()) return false;
      for (size_t k = 1; k < len; ++k) {
        if ((static_cast<unsigned char>(name[i + k]) >> 6) != 2) return false;
      }
      i += len;
    }
    return true;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void CheckDuplicates(const Vector& v) {
  if (v.size() < 2) return;
  std::vector<uint64_t> hashes;
  hashes.reserve(v.size());
  for (const auto& s : v) hashes.push_back(s.labels.Hash());
  if (HasDuplicate(hashes)) Throw("vector cannot contain metrics with the same labelset");
}

const Expr& UnwrapParens(const Expr& e) {
  const Expr* p = &e;
  while (p->kind == ExprKind::kParen) p = static_cast<const ParenExpr*>(p)->expr.get();
  return *p;
}

// Removes names marked for delayed removal; series that end up with the same
// labels merge when their timestamps do not overlap (else the error
// Prometheus gives). The result is sorted by labels.
Matrix FinishMatrix(Matrix m) {
  std::unordered_map<uint64_t, size_t> index;
  Matrix out;
  out.reserve(m.size());
  for (auto& s : m) {
    if (s.drop_name) s.labels = DropName(s.labels);
    s.drop_name = false;
    auto [it, inserted] = index.try_emplace(s.labels.Hash(), out.size());
    if (inserted) {
      out.push_back(std::move(s));
      continue;
    }
    auto& into = out[it->second].points;
    for (const auto& p : s.points) {
      auto pos = std::lower_bound(into.begin(), into.end(), p.t,
                                  [](const model::Sample& x, int64_t t) { return x.t < t; });
      if (pos != into.end() && pos->t == p.t) {
        Throw("vector cannot contain metrics with the same labelset");
      }
      into.insert(pos, p);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Series& a, const Series& b) { return a.labels < b.labels; });
  return out;
}

StepValue Evaluator::Eval(const Expr& e, int64_t t) {
  switch (e.kind) {
    case ExprKind::kNumber:
      return static_cast<const NumberLiteral&>(e).value;
    case ExprKind::kString:
      return static_cast<const StringLiteral&>(e).value;
    case ExprKind::kParen:
      return Eval(*static_cast<const ParenExpr&>(e).expr, t);
    case ExprKind::kUnary:
      return EvalUnary(static_cast<const UnaryExpr&>(e), t);
    case ExprKind::kBinary:
      return EvalBinary(static_cast<const BinaryExpr&>(e), t);
    case ExprKind::kVectorSelector:
      return EvalVectorSelector(static_cast<const VectorSelector&>(e), t);
    case ExprKind::kMatrixSelector: {
      Matrix out;
      Matrix unused;
      for (const RangeSeries& rs : RangeOf(e, t, unused)) {
        out.push_back(Series{*rs.labels, {rs.points.begin(), rs.points.end()}, rs.drop_name});
      }
      return out;
    }
    case ExprKind::kSubquery:
      return EvalSubquery(static_cast<const SubqueryExpr&>(e), t);
    case ExprKind::kAggregate:
      return EvalAggregate(static_cast<const AggregateExpr&>(e), t);
    case ExprKind::kCall:
      return EvalCall(static_cast<const Call&>(e), t);
  }
  Throw("unknown expression");
}

int64_t Evaluator::AtTime(AtModifier at, int64_t at_ms, int64_t t) const {
  switch (at) {
    case AtModifier::kNone:
      return t;
    case AtModifier::kTimestamp:
      return at_ms;
    case AtModifier::kStart:
      return start_;
    case AtModifier::kEnd:
      return end_;
  }
  return t;
}

void Evaluator::Need(const VectorSelector& vs, int64_t lo, int64_t hi, int64_t back, bool strip) {
  int64_t ref_lo = vs.at == AtModifier::kNone ? lo : AtTime(vs.at, vs.at_ms, lo);
  int64_t ref_hi = vs.at == AtModifier::kNone ? hi : AtTime(vs.at, vs.at_ms, hi);
  Fetched*& slot = fetched_[&vs];
  if (slot == nullptr) slot = &selections_[SelectionKey(vs.matchers, strip)];
  Fetched& f = *slot;
  f.mint = std::min(f.mint, ref_lo - vs.offset_ms - back);
  f.maxt = std::max(f.maxt, ref_hi - vs.offset_ms);
  f.strip_stale = strip;
  f.uses += start_ == end_ && subquery_depth_ == 0 ? 1 : 2;
}

void Evaluator::Walk(const Expr& e, int64_t lo, int64_t hi) {
  switch (e.kind) {
    case ExprKind::kNumber:
    case ExprKind::kString:
      return;
    case ExprKind::kParen:
      return Walk(*static_cast<const ParenExpr&>(e).expr, lo, hi);
    case ExprKind::kUnary:
      return Walk(*static_cast<const UnaryExpr&>(e).expr, lo, hi);
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      Walk(*b.lhs, lo, hi);
      Walk(*b.rhs, lo, hi);
      return;
    }
    case ExprKind::kVectorSelector:
      return Need(static_cast<const VectorSelector&>(e), lo, hi, lookback_, false);
    case ExprKind::kMatrixSelector: {
      const auto& ms = static_cast<const MatrixSelector&>(e);
      return Need(*ms.selector, lo, hi, ms.range_ms, true);
    }
    case ExprKind::kSubquery: {
      const auto& sq = static_cast<const SubqueryExpr&>(e);
      int64_t ref_lo = AtTime(sq.at, sq.at_ms, lo) - sq.offset_ms;
      int64_t ref_hi = AtTime(sq.at, sq.at_ms, hi) - sq.offset_ms;
      ++subquery_depth_;
      Walk(*sq.expr, ref_lo - sq.range_ms, ref_hi);
      --subquery_depth_;
      return;
    }
    case ExprKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      if (a.param) Walk(*a.param, lo, hi);
      return Walk(*a.expr, lo, hi);
    }
    case ExprKind::kCall:
      for (const auto& arg : static_cast<const Call&>(e).args) Walk(*arg, lo, hi);
      return;
  }
}

Evaluator::Fetched& Evaluator::Load(const VectorSelector& vs) {
  Fetched& f = *fetched_.at(&vs);
  if (f.loaded) return f;
  f.loaded = true;
  f.series = querier_.Select(vs.matchers, f.mint, f.maxt);
  for (auto& s : f.series) {
    if (f.strip_stale) {
      std::erase_if(s.samples, [](const model::Sample& x) { return model::IsStaleNaN(x.v); });
    }
    samples_ += s.samples.size();
  }
  if (samples_ > options_.max_samples) ThrowTooManySamples();
  return f;
}

bool Evaluator::Streamable(const VectorSelector& vs) const {
  const Fetched& f = *fetched_.at(&vs);
  return f.uses == 1 && !f.loaded;
}

void Evaluator::StreamSelector(const VectorSelector& vs, const SeriesFn& fn) {
  // Errors raised for one series stop the selection and are rethrown here, so
  // no exception unwinds through the querier.
  class Visitor final : public model::SeriesVisitor {
   public:
    Visitor(Evaluator& ev, bool strip, const SeriesFn& fn) : ev_(ev), strip_(strip), fn_(fn) {}
    bool Visit(const model::LabelsView& labels, std::span<const model::Sample> samples) override {
      try {
        if (strip_ && std::any_of(samples.begin(), samples.end(),
                                  [](const model::Sample& x) { return model::IsStaleNaN(x.v); })) {
          kept_.clear();
          std::copy_if(samples.begin(), samples.end(), std::back_inserter(kept_),
                       [](const model::Sample& x) { return !model::IsStaleNaN(x.v); });
          samples = kept_;
        }
        ev_.samples_ += samples.size();
        if (ev_.samples_ > ev_.options_.max_samples) ThrowTooManySamples();
        fn_(labels, samples);
        return true;
      } catch (EvalError& e) {
        error = std::move(e);
        return false;
      }
    }
    std::optional<EvalError> error;

   private:
    Evaluator& ev_;
    const bool strip_;
    const SeriesFn& fn_;
    std::vector<model::Sample> kept_;
  };
  const Fetched& f = *fetched_.at(&vs);
  Visitor visitor(*this, f.strip_stale, fn);
  querier_.SelectEach(vs.matchers, f.mint, f.maxt, visitor);
  if (visitor.error) throw std::move(*visitor.error);
}

bool Evaluator::InWindow(int64_t ts, int64_t lower) const {
  return options_.semantics.left_open_windows ? ts > lower : ts >= lower;
}

Vector Evaluator::EvalVectorSelector(const VectorSelector& vs, int64_t t) {
  int64_t ref = AtTime(vs.at, vs.at_ms, t) - vs.offset_ms;
  // The newest sample at or before ref, if inside the lookback and not stale.
  auto latest = [&](std::span<const model::Sample> samples) -> const model::Sample* {
    auto it = std::upper_bound(samples.begin(), samples.end(), ref,
                               [](int64_t v, const model::Sample& x) { return v < x.t; });
    if (it == samples.begin()) return nullptr;
    --it;
    if (!InWindow(it->t, ref - lookback_) || model::IsStaleNaN(it->v)) return nullptr;
    return &*it;
  };
  Vector out;
  if (Streamable(vs)) {
    StreamSelector(vs,
                   [&](const model::LabelsView& labels, std::span<const model::Sample> samples) {
                     if (const model::Sample* x = latest(samples)) {
                       out.push_back(Sample{labels.ToLabels(), x->v, x->t});
                     }
                   });
    return out;
  }
  Fetched& f = Load(vs);
  out.reserve(f.series.size());
  for (const auto& s : f.series) {
    if (const model::Sample* x = latest(s.samples)) out.push_back(Sample{s.labels, x->v, x->t});
  }
  return out;
}

detail::Window Evaluator::WindowOf(const Expr& arg, int64_t t) const {
  const Expr& e = UnwrapParens(arg);
  if (e.kind == ExprKind::kMatrixSelector) {
    const auto& ms = static_cast<const MatrixSelector&>(e);
    int64_t ref = AtTime(ms.selector->at, ms.selector->at_ms, t) - ms.selector->offset_ms;
    return detail::Window{ref - ms.range_ms, ref, ms.range_ms};
  }
  const auto& sq = static_cast<const SubqueryExpr&>(e);
  int64_t ref = AtTime(sq.at, sq.at_ms, t) - sq.offset_ms;
  return detail::Window{ref - sq.range_ms, ref, sq.range_ms};
}

std::span<const model::Sample> Evaluator::InRange(std::span<const model::Sample> samples,
                                                  const detail::Window& w) const {
  auto cmp_lo = [&](const model::Sample& x) { return !InWindow(x.t, w.start); };
  auto first = std::partition_point(samples.begin(), samples.end(), cmp_lo);
  auto last = std::upper_bound(first, samples.end(), w.end,
                               [](int64_t v, const model::Sample& x) { return v < x.t; });
  return {first, last};
}

std::vector<RangeSeries> Evaluator::RangeOf(const Expr& arg, int64_t t, Matrix& owned) {
  const Expr& e = UnwrapParens(arg);
  std::vector<RangeSeries> out;
  if (e.kind == ExprKind::kMatrixSelector) {
    const auto& ms = static_cast<const MatrixSelector&>(e);
    Fetched& f = Load(*ms.selector);
    detail::Window w = WindowOf(e, t);
    out.reserve(f.series.size());
    for (const auto& s : f.series) {
      std::span<const model::Sample> points = InRange(s.samples, w);
      if (points.empty()) continue;
      out.push_back(RangeSeries{&s.labels, points});
    }
    return out;
  }
  owned = std::get<Matrix>(Eval(e, t));
  for (const auto& s : owned) {
    if (!s.points.empty()) out.push_back(RangeSeries{&s.labels, s.points, s.drop_name});
  }
  return out;
}

Matrix Evaluator::EvalSubquery(const SubqueryExpr& sq, int64_t t) {
  int64_t step = sq.step_ms > 0 ? sq.step_ms : options_.default_subquery_step.count();
  int64_t ref = AtTime(sq.at, sq.at_ms, t) - sq.offset_ms;
  int64_t lower = ref - sq.range_ms;
  int64_t first = step * (lower / step);
  if (options_.semantics.left_open_windows ? first <= lower : first < lower) first += step;
  SeriesCollector collector;
  for (int64_t ti = first; ti <= ref; ti += step) {
    StepValue v = Eval(*sq.expr, ti);
    if (auto* vec = std::get_if<Vector>(&v)) {
      for (const auto& s : *vec) collector.Add(s.labels, ti, s.v, s.drop_name);
    } else if (auto* d = std::get_if<double>(&v)) {
      collector.Add(model::Labels{}, ti, *d);
    }
  }
  Matrix out = collector.Take();
  for (const auto& s : out) samples_ += s.points.size();
  if (samples_ > options_.max_samples) ThrowTooManySamples();
  return out;
}

StepValue Evaluator::EvalUnary(const UnaryExpr& u, int64_t t) {
  StepValue v = Eval(*u.expr, t);
  if (u.op == BinaryOp::kAdd) return v;
  if (auto* d = std::get_if<double>(&v)) return -*d;
  Vector vec = std::get<Vector>(std::move(v));
  for (auto& s : vec) {
    s.v = -s.v;
    MarkNameDropped(s);
  }
  CheckIntermediate(vec);
  return vec;
}

StepValue Evaluator::EvalBinary(const BinaryExpr& b, int64_t t) {
  // `or` and the like need both sides; evaluate left first like Prometheus.
  StepValue lv = Eval(*b.lhs, t);
  StepValue rv = Eval(*b.rhs, t);
  auto* ld = std::get_if<double>(&lv);
  auto* rd = std::get_if<double>(&rv);
  if (ld != nullptr && rd != nullptr) {
    auto [value, keep] = ElemBinop(b.op, *ld, *rd);
    if (b.return_bool) value = keep ? 1 : 0;
    return value;
  }
  if (ld != nullptr || rd != nullptr) {
    bool swap = ld != nullptr;
    Vector vec = std::get<Vector>(std::move(swap ? rv : lv));
    double scalar = swap ? *ld : *rd;
    Vector out;
    out.reserve(vec.size());
    for (auto& s : vec) {
      double l = swap ? scalar : s.v;
      double r = swap ? s.v : scalar;
      auto [value, keep] = ElemBinop(b.op, l, r);
      if (IsComparison(b.op) && swap) value = r;
      if (b.return_bool) {
        value = keep ? 1 : 0;
        keep = true;
      }
      if (!keep) continue;
      s.v = value;
      if (DropsName(b.op) || b.return_bool) MarkNameDropped(s);
      out.push_back(std::move(s));
    }
    CheckIntermediate(out);
    return out;
  }
  Vector lhs = std::get<Vector>(std::move(lv));
  Vector rhs = std::get<Vector>(std::move(rv));
  const VectorMatching& m = *b.matching;
  switch (b.op) {
    case BinaryOp::kAnd:
      return SetAnd(std::move(lhs), rhs, m);
    case BinaryOp::kOr:
      return SetOr(std::move(lhs), std::move(rhs), m);
    case BinaryOp::kUnless:
      return SetUnless(std::move(lhs), rhs, m);
    default:
      break;
  }
  Vector out = VectorBinop(b, std::move(lhs), std::move(rhs), m, t);
  CheckIntermediate(out);
  return out;
}

void Evaluator::MarkNameDropped(Sample& s) const {
  if (options_.semantics.delayed_name_removal) {
    s.drop_name = true;
  } else {
    s.labels = DropName(s.labels);
  }
}

void Evaluator::CheckIntermediate(const Vector& v) const {
  if (!options_.semantics.delayed_name_removal) CheckDuplicates(v);
}

bool Evaluator::DropsName(BinaryOp op) const {
  if (op == BinaryOp::kAtan2) return !options_.semantics.atan2_keeps_name;
  return op < BinaryOp::kAtan2;
}

uint64_t Evaluator::Signature(const model::Labels& l, const VectorMatching& m) {
  return m.on ? l.HashForLabels(m.matching_labels) : l.HashWithoutLabels(m.matching_labels);
}

model::Labels Evaluator::MatchLabels(const model::Labels& l, const VectorMatching& m) {
  if (m.on) return l.Keep(m.matching_labels);
  std::vector<std::string> drop = m.matching_labels;
  drop.emplace_back(model::kMetricName);
  return l.Drop(drop);
}

Vector Evaluator::SetAnd(Vector lhs, const Vector& rhs, const VectorMatching& m) {
  HashSet sigs(rhs.size());
  for (const auto& s : rhs) sigs.Insert(Signature(s.labels, m));
  std::erase_if(lhs, [&](const Sample& s) { return !sigs.Contains(Signature(s.labels, m)); });
  return lhs;
}

Vector Evaluator::SetOr(Vector lhs, Vector rhs, const VectorMatching& m) {
  HashSet sigs(lhs.size());
  for (const auto& s : lhs) sigs.Insert(Signature(s.labels, m));
  for (auto& s : rhs) {
    if (!sigs.Contains(Signature(s.labels, m))) lhs.push_back(std::move(s));
  }
  return lhs;
}

Vector Evaluator::SetUnless(Vector lhs, const Vector& rhs, const VectorMatching& m) {
  HashSet sigs(rhs.size());
  for (const auto& s : rhs) sigs.Insert(Signature(s.labels, m));
  std::erase_if(lhs, [&](const Sample& s) { return sigs.Contains(Signature(s.labels, m)); });
  return lhs;
}

model::Labels Evaluator::ResultLabels(model::Labels lhs, const model::Labels& rhs,
                                      const VectorMatching& m) {
  if (m.card == Cardinality::kOneToOne) {
    if (m.on) return lhs.Keep(m.matching_labels);
    return lhs.Drop(m.matching_labels);
  }
  if (m.include.empty()) return lhs;
  model::LabelsBuilder lb(lhs);
  for (const auto& name : m.include) lb.Set(name, rhs.Get(name));
  return lb.Build();
}

Vector Evaluator::VectorBinop(const BinaryExpr& b, Vector lhs, Vector rhs, const VectorMatching& m,
                              int64_t t) {
  if (lhs.empty() || rhs.empty()) return {};
  bool swapped = m.card == Cardinality::kOneToMany;
  if (swapped) std::swap(lhs, rhs);
  std::unordered_map<uint64_t, size_t> right;
  right.reserve(rhs.size());
  for (size_t i = 0; i < rhs.size(); ++i) {
    auto [it, inserted] = right.try_emplace(Signature(rhs[i].labels, m), i);
    if (!inserted) {
      std::string a = LabelsString(rhs[it->second].labels);
      std::string c = LabelsString(rhs[i].labels);
      if (c < a) std::swap(a, c);
      Throw(
          "found duplicate series for the match group {} on the {} hand-side of the "
          "operation: [{}, {}];many-to-many matching not allowed: matching labels must be "
          "unique on one side",
          LabelsString(MatchLabels(rhs[i].labels, m)), swapped ? "left" : "right", a, c);
    }
  }
  // Signatures (one-to-one) or result label hashes (one-to-many) of the
  // matches, checked for duplicates once all are known.
  std::vector<uint64_t> matched;
  matched.reserve(lhs.size());
  bool early_check = options_.semantics.match_errors_before_filter;
  Vector out;
  out.reserve(lhs.size());
  for (auto& ls : lhs) {
    uint64_t sig = Signature(ls.labels, m);
    auto it = right.find(sig);
    if (it == right.end()) continue;
    const Sample& rs = rhs[it->second];
    double l = swapped ? rs.v : ls.v;
    double r = swapped ? ls.v : rs.v;
    auto [value, keep] = ElemBinop(b.op, l, r);
    bool one_to_one = m.card == Cardinality::kOneToOne;
    if (one_to_one && early_check) matched.push_back(sig);
    if (b.return_bool) {
      value = keep ? 1 : 0;
    } else if (!keep) {
      continue;
    }
    // Each lhs sample is read once: its labels move into the result.
    Sample res{ResultLabels(std::move(ls.labels), rs.labels, m), value, t, ls.drop_name};
    if (DropsName(b.op) || b.return_bool) {
      MarkNameDropped(res);
    }
    if (one_to_one) {
      if (!early_check) matched.push_back(sig);
    } else {
      matched.push_back(res.labels.Hash());
    }
    out.push_back(std::move(res));
  }
  if (HasDuplicate(matched)) {
    if (m.card == Cardinality::kOneToOne) ThrowManyToOne();
    Throw("multiple matches for labels: grouping labels must ensure unique matches");
  }
  return out;
}

void Evaluator::ThrowManyToOne() {
  Throw(
      "multiple matches for labels: many-to-one matching must be explicit "
      "(group_left/group_right)");
}

StepValue Evaluator::EvalAggregate(const AggregateExpr& a, int64_t t) {
  if (std::optional<Vector> streamed = StreamAggregate(a, t)) return std::move(*streamed);
  double param = 0;
  std::string label_param;
  if (a.param) {
    StepValue pv = Eval(*a.param, t);
    if (auto* d = std::get_if<double>(&pv)) {
      param = *d;
    } else {
      label_param = std::get<std::string>(pv);
    }
  }
  Vector input = EvalVector(*a.expr, t);
  std::vector<std::string> grouping = a.grouping;
  std::sort(grouping.begin(), grouping.end());
  if (a.op == AggOp::kCountValues) {
    if (!ValidLabelName(label_param, options_.semantics.utf8_names)) {
      Throw("invalid label name {}", Quote(label_param));
    }
    for (auto& s : input) {
      model::LabelsBuilder lb(s.labels);
      lb.Set(label_param, FormatFloatPlain(s.v));
      s.labels = lb.Build();
    }
    if (a.without) {
      std::erase(grouping, label_param);
    } else if (!std::binary_search(grouping.begin(), grouping.end(), label_param)) {
      grouping.push_back(label_param);
      std::sort(grouping.begin(), grouping.end());
    }
  }
  bool select_k = a.op == AggOp::kTopk || a.op == AggOp::kBottomk;
  if (select_k && std::isnan(param)) Throw("Parameter value is NaN");

  std::vector<std::string> without_names;
  if (a.without) {
    without_names = grouping;
    without_names.emplace_back(model::kMetricName);
  }
  std::unordered_map<uint64_t, size_t> index;
  std::vector<Group> groups;
  for (size_t i = 0; i < input.size(); ++i) {
    const Sample& s = input[i];
    uint64_t key =
        a.without ? s.labels.HashWithoutLabels(grouping) : s.labels.HashForLabels(grouping);
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) {
      Group g;
      if (!select_k) {
        g.labels = a.without ? s.labels.Drop(without_names) : s.labels.Keep(grouping);
      }
      g.value = s.v;
      g.mean = s.v;
      groups.push_back(std::move(g));
    }
    Group& g = groups[it->second];
    g.drop_name = g.drop_name || s.drop_name;
    Accumulate(a.op, g, s.v, i);
  }
  Vector out;
  if (select_k) return SelectK(a, param, input, groups);
  out.reserve(groups.size());
  for (auto& g : groups) {
    double v = GroupValue(a, param, g);
    out.push_back(Sample{std::move(g.labels), v, t, g.drop_name});
  }
  return out;
}

void Evaluator::Accumulate(AggOp op, Group& g, double v, size_t index) {
  switch (op) {
    case AggOp::kSum:
      g.sum.Add(v);
      break;
    case AggOp::kAvg:
      g.avg.Add(v);
      break;
    case AggOp::kCount:
    case AggOp::kCountValues:
    case AggOp::kGroup:
      g.count += 1;
      break;
    case AggOp::kMin:
      if (g.value > v || std::isnan(g.value)) g.value = v;
      break;
    case AggOp::kMax:
      if (g.value < v || std::isnan(g.value)) g.value = v;
      break;
    case AggOp::kStddev:
    case AggOp::kStdvar: {
      g.count += 1;
      if (g.count == 1) {
        g.mean = v;
        g.value = std::isnan(v) || std::isinf(v) ? kNaN : 0;
      } else {
        double delta = v - g.mean;
        g.mean += delta / g.count;
        g.value += delta * (v - g.mean);
      }
      break;
    }
    case AggOp::kQuantile:
      g.values.push_back(v);
      break;
    case AggOp::kTopk:
    case AggOp::kBottomk:
      g.members.push_back(index);
      break;
  }
}

double Evaluator::GroupValue(const AggregateExpr& a, double param, Group& g) {
  double v = 0;
  switch (a.op) {
    case AggOp::kSum:
      v = g.sum.Value();
      break;
    case AggOp::kAvg:
      v = g.avg.Value();
      break;
    case AggOp::kCount:
    case AggOp::kCountValues:
      v = g.count;
      break;
    case AggOp::kGroup:
      v = 1;
      break;
    case AggOp::kMin:
    case AggOp::kMax:
      v = g.value;
      break;
    case AggOp::kStddev:
      v = std::sqrt(g.value / g.count);
      break;
    case AggOp::kStdvar:
      v = g.value / g.count;
      break;
    case AggOp::kQuantile:
      CheckQuantile(param, *a.param);
      v = detail::Quantile(param, g.values);
      break;
    default:
      break;
  }
  return v;
}

Vector Evaluator::SelectK(const AggregateExpr& a, double param, Vector& input,
                          std::vector<Group>& groups) {
  Vector out;
  double kf = param;
  if (kf < 1) return out;
  size_t k = kf >= 9.2e18 ? std::numeric_limits<size_t>::max() : static_cast<size_t>(kf);
  for (auto& g : groups) {
    std::vector<size_t>& m = g.members;
    if (a.op == AggOp::kTopk) {
      std::stable_sort(m.begin(), m.end(), [&](size_t x, size_t y) {
        double vx = input[x].v, vy = input[y].v;
        if (std::isnan(vy)) return !std::isnan(vx);
        return vx > vy;
      });
    } else {
      std::stable_sort(m.begin(), m.end(), [&](size_t x, size_t y) {
        double vx = input[x].v, vy = input[y].v;
        if (std::isnan(vy)) return !std::isnan(vx);
        return vx < vy;
      });
    }
    for (size_t j = 0; j < m.size() && j < k; ++j) out.push_back(std::move(input[m[j]]));
  }
  return out;
}

void Evaluator::Annotate(Annotation::Severity severity, std::string message, PosRange pos) {
  Annotation a{severity, std::move(message), pos};
  if (std::find(annotations_.begin(), annotations_.end(), a) == annotations_.end()) {
    annotations_.push_back(std::move(a));
  }
}

void Evaluator::WarnIneffectiveSort(const Call& c) {
  if (start_ == end_) return;
  Annotate(Annotation::Severity::kWarning,
           "sort is ineffective for range queries since results are always ordered by labels",
           c.pos);
}

void Evaluator::CheckQuantile(double q, const Expr& param) {
  if (q >= 0 && q <= 1) return;
  Annotate(Annotation::Severity::kWarning,
           fmt::format("quantile value should be between 0 and 1, got {}", FormatNumber(q)),
           param.pos);
}

}  // namespace vigil::promql::detail
