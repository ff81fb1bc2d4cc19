#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "daemon/promql/detail/evaluator.h"
#include "daemon/promql/detail/functions.h"
#include "daemon/promql/detail/hash_set.h"

// Function calls of the evaluator: instant-vector, range-vector, label and
// histogram functions.
namespace vigil::promql::detail {
namespace {

// Civil date from days since the epoch (Howard Hinnant's algorithm).
struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};
Civil CivilFromDays(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned d = doy - (153 * mp + 2) / 5 + 1;
  unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Civil{y + (m <= 2), m, d};
}
bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

double DatePart(Func f, double seconds) {
  // Beyond ±2^62 s there is no calendar date; answer NaN instead of casting.
  if (!(std::fabs(seconds) < 4.6e18)) return kNaN;
  int64_t secs = static_cast<int64_t>(seconds);
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t sod = secs - days * 86400;
  Civil c = CivilFromDays(days);
  static constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  switch (f) {
    case Func::kDayOfMonth:
      return c.day;
    case Func::kDayOfWeek: {
      int64_t w = (days + 4) % 7;  // 1970-01-01 was a Thursday
      return static_cast<double>(w < 0 ? w + 7 : w);
    }
    case Func::kDayOfYear: {
      int yday = 0;
      for (unsigned m = 1; m < c.month; ++m) yday += kDaysIn[m - 1];
      if (c.month > 2 && IsLeap(c.year)) ++yday;
      return yday + c.day;
    }
    case Func::kDaysInMonth:
      return c.month == 2 && IsLeap(c.year) ? 29 : kDaysIn[c.month - 1];
    case Func::kHour:
      return static_cast<double>(sod / 3600);
    case Func::kMinute:
      return static_cast<double>(sod % 3600 / 60);
    case Func::kMonth:
      return c.month;
    case Func::kYear:
      return static_cast<double>(c.year);
    default:
      return kNaN;
  }
}

double MathFunc(Func f, double v) {
  constexpr double kPi = 3.14159265358979323846;
  switch (f) {
    case Func::kAbs:
      return std::fabs(v);
    case Func::kCeil:
      return std::ceil(v);
    case Func::kFloor:
      return std::floor(v);
    case Func::kExp:
      return std::exp(v);
    case Func::kSqrt:
      return std::sqrt(v);
    case Func::kLn:
      return std::log(v);
    case Func::kLog2:
      return std::log2(v);
    case Func::kLog10:
      return std::log10(v);
    case Func::kSgn:
      return v < 0 ? -1 : v > 0 ? 1 : v;
    case Func::kSin:
      return std::sin(v);
    case Func::kCos:
      return std::cos(v);
    case Func::kTan:
      return std::tan(v);
    case Func::kAsin:
      return std::asin(v);
    case Func::kAcos:
      return std::acos(v);
    case Func::kAtan:
      return std::atan(v);
    case Func::kSinh:
      return std::sinh(v);
    case Func::kCosh:
      return std::cosh(v);
    case Func::kTanh:
      return std::tanh(v);
    case Func::kAsinh:
      return std::asinh(v);
    case Func::kAcosh:
      return std::acosh(v);
    case Func::kAtanh:
      return std::atanh(v);
    case Func::kDeg:
      return v * 180 / kPi;
    case Func::kRad:
      return v * kPi / 180;
    default:
      return kNaN;
  }
}

// Go's math.Max / math.Min: NaN wins.
double GoMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  return std::max(a, b);
}
double GoMin(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  return std::min(a, b);
}

// The functions RangeValue computes from one series' window alone (plus
// scalar parameters), which StreamAggregate evaluates while streaming.
// Holt-Winters is left out: it validates its factors before the first series.
bool IsStreamableRangeFunction(Func id) {
  switch (id) {
    case Func::kRate:
    case Func::kIncrease:
    case Func::kDelta:
    case Func::kIrate:
    case Func::kIdelta:
    case Func::kDeriv:
    case Func::kPredictLinear:
    case Func::kChanges:
    case Func::kResets:
    case Func::kAvgOverTime:
    case Func::kSumOverTime:
    case Func::kCountOverTime:
    case Func::kMaxOverTime:
    case Func::kMinOverTime:
    case Func::kLastOverTime:
    case Func::kFirstOverTime:
    case Func::kPresentOverTime:
    case Func::kStddevOverTime:
    case Func::kStdvarOverTime:
    case Func::kQuantileOverTime:
    case Func::kMadOverTime:
      return true;
    default:
      return false;
  }
}

// A 64-bit hash of the labels of `labels` that `keep(name)` accepts, for
// StreamAggregate's group keys and duplicate check, which compare only such
// hashes with each other: each string hashed 8 bytes at a time
// (std::hash), combined with the splitmix64 finaliser.
template <typename Keep>
uint64_t HashView(const model::LabelsView& labels, const Keep& keep) {
  auto mix = [](uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  };
  const std::hash<std::string_view> hash;
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!keep(labels.name(i))) continue;
    h = mix(h + hash(labels.name(i)));
    h = mix(h + hash(labels.value(i)));
  }
  return h;
}

// The labels of `labels` that `keep(name)` accepts.
template <typename Keep>
model::Labels KeepView(const model::LabelsView& labels, const Keep& keep) {
  std::vector<model::Label> kept;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (keep(labels.name(i))) {
      kept.push_back(model::Label{std::string(labels.name(i)), std::string(labels.value(i))});
    }
  }
  return model::Labels::FromSorted(std::move(kept));
}

// Natural-order string comparison (digit runs compare as numbers).
int NaturalCompare(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    bool da = std::isdigit(static_cast<unsigned char>(a[i]));
    bool db = std::isdigit(static_cast<unsigned char>(b[j]));
    if (da && db) {
      size_t si = i, sj = j;
      while (i < a.size() && std::isdigit(static_cast<unsigned char>(a[i]))) ++i;
      while (j < b.size() && std::isdigit(static_cast<unsigned char>(b[j]))) ++j;
      std::string_view na = a.substr(si, i - si), nb = b.substr(sj, j - sj);
      while (na.size() > 1 && na[0] == '0') na.remove_prefix(1);
      while (nb.size() > 1 && nb[0] == '0') nb.remove_prefix(1);
      if (na.size() != nb.size()) return na.size() < nb.size() ? -1 : 1;
      if (int c = na.compare(nb); c != 0) return c < 0 ? -1 : 1;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j] ? -1 : 1;
    ++i;
    ++j;
  }
  if (a.size() - i == b.size() - j) return 0;
  return a.size() - i < b.size() - j ? -1 : 1;
}

// Go's regexp.Expand template syntax: $1, ${1}, $name, ${name}, $$.
std::string ExpandTemplate(const re2::RE2& re, std::string_view tmpl,
                           const std::vector<re2::StringPiece>& groups) {
  std::string out;
  const auto& named = re.NamedCapturingGroups();
  size_t i = 0;
  while (i < tmpl.size()) {
    char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size()) {
      out += c;
      ++i;
      continue;
    }
    ++i;
    if (tmpl[i] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name;
    bool braced = tmpl[i] == '{';
    size_t j = braced ? i + 1 : i;
    size_t start = j;
    while (j < tmpl.size() &&
           (std::isalnum(static_cast<unsigned char>(tmpl[j])) || tmpl[j] == '_')) {
      ++j;
    }
    name = std::string(tmpl.substr(start, j - start));
    if (name.empty() || (braced && (j >= tmpl.size() || tmpl[j] != '}'))) {
      out += '$';  // not a valid reference: emit literally
      continue;
    }
    i = braced ? j + 1 : j;
    int index = -1;
    if (std::all_of(name.begin(), name.end(),
                    [](char ch) { return std::isdigit(static_cast<unsigned char>(ch)); })) {
      if (name.size() < 10) index = std::stoi(name);
    } else if (auto it = named.find(name); it != named.end()) {
      index = it->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < groups.size() &&
        groups[static_cast<size_t>(index)].data() != nullptr) {
      out.append(groups[static_cast<size_t>(index)].data(),
                 groups[static_cast<size_t>(index)].size());
    }
  }
  return out;
}

model::Labels AbsentLabels(const Expr& arg) {
  const VectorSelector* vs = nullptr;
  if (arg.kind == ExprKind::kVectorSelector) {
    vs = static_cast<const VectorSelector*>(&arg);
  } else if (arg.kind == ExprKind::kMatrixSelector) {
    vs = static_cast<const MatrixSelector&>(arg).selector.get();
  }
  if (vs == nullptr) return {};
  model::LabelsBuilder lb;
  std::unordered_set<std::string> has;
  for (const auto& m : vs->matchers) {
    if (m.name() == model::kMetricName) continue;
    if (m.type() == model::MatchType::kEqual && !has.contains(m.name())) {
      lb.Set(m.name(), m.value());
      has.insert(m.name());
    } else {
      lb.Del(m.name());
    }
  }
  return lb.Build();
}

}  // namespace

StepValue Evaluator::EvalCall(const Call& c, int64_t t) {
  const Func id = c.func->id;
  const auto& args = c.args;
  switch (id) {
    case Func::kTime:
      return static_cast<double>(t) / 1000;
    case Func::kStart:
      return static_cast<double>(start_) / 1000;
    case Func::kEnd:
      return static_cast<double>(end_) / 1000;
    case Func::kPi:
      return 3.14159265358979323846;
    case Func::kVector: {
      double v = EvalScalar(*args[0], t);
      return Vector{Sample{model::Labels{}, v, t}};
    }
    case Func::kScalar: {
      Vector v = EvalVector(*args[0], t);
      return v.size() == 1 ? v[0].v : kNaN;
    }
    case Func::kTimestamp: {
      const Expr& arg = UnwrapParens(*args[0]);
      bool raw = arg.kind == ExprKind::kVectorSelector;
      Vector v = EvalVector(arg, t);
      for (auto& s : v) {
        s.v = static_cast<double>(raw ? s.t : t) / 1000;
        MarkNameDropped(s);
      }
      CheckIntermediate(v);
      return v;
    }
    case Func::kAbsent: {
      Vector v = EvalVector(*args[0], t);
      if (!v.empty()) return Vector{};
      return Vector{Sample{AbsentLabels(*args[0]), 1, t}};
    }
    case Func::kAbsentOverTime: {
      Matrix owned;
      auto ranges = RangeOf(*args[0], t, owned);
      if (!ranges.empty()) return Vector{};
      return Vector{Sample{AbsentLabels(*args[0]), 1, t}};
    }
    case Func::kLabelReplace:
      return LabelReplace(c, t);
    case Func::kLabelJoin:
      return LabelJoin(c, t);
    case Func::kSort:
    case Func::kSortDesc: {
      WarnIneffectiveSort(c);
      Vector v = EvalVector(*args[0], t);
      bool desc = id == Func::kSortDesc;
      std::stable_sort(v.begin(), v.end(), [desc](const Sample& x, const Sample& y) {
        if (std::isnan(y.v)) return !std::isnan(x.v);
        return desc ? x.v > y.v : x.v < y.v;
      });
      return v;
    }
    case Func::kSortByLabel:
    case Func::kSortByLabelDesc: {
      WarnIneffectiveSort(c);
      Vector v = EvalVector(*args[0], t);
      std::vector<std::string> names;
      for (size_t i = 1; i < args.size(); ++i)
        names.push_back(std::get<std::string>(Eval(*args[i], t)));
      bool desc = id == Func::kSortByLabelDesc;
      std::stable_sort(v.begin(), v.end(), [&](const Sample& x, const Sample& y) {
        for (const auto& n : names) {
          int cmp = NaturalCompare(x.labels.Get(n), y.labels.Get(n));
          if (cmp != 0) return desc ? cmp > 0 : cmp < 0;
        }
        return desc ? y.labels < x.labels : x.labels < y.labels;
      });
      return v;
    }
    case Func::kHistogramQuantile:
      return HistogramQuantile(c, t);
    default:
      break;
  }
  if (c.func->arg_types.size() > 0 && c.func->arg_types[0] == ValueType::kVector) {
    return VectorFunction(c, t);
  }
  return RangeFunction(c, t);
}

Vector Evaluator::LabelReplace(const Call& c, int64_t t) {
  Vector v = EvalVector(*c.args[0], t);
  std::string dst = std::get<std::string>(Eval(*c.args[1], t));
  std::string repl = std::get<std::string>(Eval(*c.args[2], t));
  std::string src = std::get<std::string>(Eval(*c.args[3], t));
  std::string regex = std::get<std::string>(Eval(*c.args[4], t));
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_dot_nl(options_.semantics.dot_matches_newline);
  re2::RE2 re("^(?:" + regex + ")$", opts);
  if (!re.ok()) Throw("invalid regular expression in label_replace(): {}", regex);
  if (!ValidLabelName(dst, options_.semantics.utf8_names)) {
    Throw("invalid destination label name in label_replace(): {}", dst);
  }
  std::vector<re2::StringPiece> groups(static_cast<size_t>(re.NumberOfCapturingGroups()) + 1);
  for (auto& s : v) {
    std::string_view value = s.labels.Get(src);
    if (!re.Match(re2::StringPiece(value.data(), value.size()), 0, value.size(),
                  re2::RE2::ANCHOR_BOTH, groups.data(), static_cast<int>(groups.size()))) {
      continue;
    }
    std::string res = ExpandTemplate(re, repl, groups);
    model::LabelsBuilder lb(s.labels);
    lb.Set(dst, res);
    s.labels = lb.Build();
    if (dst == model::kMetricName) s.drop_name = false;
  }
  CheckDuplicates(v);
  return v;
}

Vector Evaluator::LabelJoin(const Call& c, int64_t t) {
  Vector v = EvalVector(*c.args[0], t);
  std::string dst = std::get<std::string>(Eval(*c.args[1], t));
  std::string sep = std::get<std::string>(Eval(*c.args[2], t));
  std::vector<std::string> srcs;
  for (size_t i = 3; i < c.args.size(); ++i) {
    std::string name = std::get<std::string>(Eval(*c.args[i], t));
    if (!ValidLabelName(name, options_.semantics.utf8_names)) {
      Throw("invalid source label name in label_join(): {}", name);
    }
    srcs.push_back(std::move(name));
  }
  if (!ValidLabelName(dst, options_.semantics.utf8_names)) {
    Throw("invalid destination label name in label_join(): {}", dst);
  }
  for (auto& s : v) {
    std::string joined;
    for (size_t i = 0; i < srcs.size(); ++i) {
      if (i > 0) joined += sep;
      joined += s.labels.Get(srcs[i]);
    }
    model::LabelsBuilder lb(s.labels);
    lb.Set(dst, joined);
    s.labels = lb.Build();
    if (dst == model::kMetricName) s.drop_name = false;
  }
  CheckDuplicates(v);
  return v;
}

Vector Evaluator::HistogramQuantile(const Call& c, int64_t t) {
  double q = EvalScalar(*c.args[0], t);
  Vector v = EvalVector(*c.args[1], t);
  static const std::vector<std::string> kLe{"le"};
  static const std::vector<std::string> kLeAndName{"__name__", "le"};
  struct HistGroup {
    model::Labels labels;
    std::vector<detail::Bucket> buckets;
    std::string name;
  };
  std::unordered_map<uint64_t, size_t> index;
  std::vector<HistGroup> groups;
  for (const auto& s : v) {
    std::string le(s.labels.Get("le"));
    char* end = nullptr;
    double bound = std::strtod(le.c_str(), &end);
    if (le.empty() || end != le.c_str() + le.size()) {
      Annotate(Annotation::Severity::kWarning,
               fmt::format("bucket label \"le\" is missing or has a malformed value of \"{}\" "
                           "for metric name \"{}\"",
                           le, s.labels.MetricName()),
               c.args[1]->pos);
      continue;
    }
    // Grouped by every label but `le` (the name included): two histograms that
    // differ only by name collide after the name is dropped, an error.
    auto [it, inserted] = index.try_emplace(s.labels.Drop(kLe).Hash(), groups.size());
    if (inserted) {
      bool delayed = options_.semantics.delayed_name_removal;
      groups.push_back(HistGroup{
          s.labels.Drop(delayed ? kLe : kLeAndName), {}, std::string(s.labels.MetricName())});
    }
    groups[it->second].buckets.push_back(detail::Bucket{bound, s.v});
  }
  Vector out;
  out.reserve(groups.size());
  if (!groups.empty() || !(q >= 0 && q <= 1)) CheckQuantile(q, *c.args[0]);
  for (auto& g : groups) {
    bool forced = false;
    double value = detail::BucketQuantile(q, g.buckets, forced);
    if (forced) {
      Annotate(Annotation::Severity::kInfo,
               fmt::format("input to histogram_quantile needed to be fixed for monotonicity (see "
                           "https://prometheus.io/docs/prometheus/latest/querying/functions/"
                           "#histogram_quantile) for metric name \"{}\"",
                           g.name),
               c.args[1]->pos);
    }
    out.push_back(Sample{std::move(g.labels), value, t, true});
  }
  CheckIntermediate(out);
  return out;
}

Vector Evaluator::VectorFunction(const Call& c, int64_t t) {
  const Func id = c.func->id;
  bool date = id == Func::kDayOfMonth || id == Func::kDayOfWeek || id == Func::kDayOfYear ||
              id == Func::kDaysInMonth || id == Func::kHour || id == Func::kMinute ||
              id == Func::kMonth || id == Func::kYear;
  if (date && c.args.empty()) {
    return Vector{Sample{model::Labels{}, DatePart(id, static_cast<double>(t) / 1000), t}};
  }
  Vector v = EvalVector(*c.args[0], t);
  std::vector<double> params;
  for (size_t i = 1; i < c.args.size(); ++i) params.push_back(EvalScalar(*c.args[i], t));
  if (id == Func::kClamp && params[1] < params[0]) return {};
  for (auto& s : v) {
    double x = s.v;
    switch (id) {
      case Func::kClamp:
        s.v = GoMax(params[0], GoMin(params[1], x));
        break;
      case Func::kClampMax:
        s.v = GoMin(params[0], x);
        break;
      case Func::kClampMin:
        s.v = GoMax(params[0], x);
        break;
      case Func::kRound: {
        double to_nearest = params.empty() ? 1 : params[0];
        double inverse = 1.0 / to_nearest;
        s.v = std::floor(x * inverse + 0.5) / inverse;
        break;
      }
      default:
        s.v = date ? (std::isnan(x) || std::isinf(x) ? x : DatePart(id, x)) : MathFunc(id, x);
    }
    MarkNameDropped(s);
    s.t = t;
  }
  CheckIntermediate(v);
  return v;
}

Vector Evaluator::RangeFunction(const Call& c, int64_t t) {
  const Func id = c.func->id;
  size_t range_arg = id == Func::kQuantileOverTime ? 1 : 0;
  std::vector<double> params;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i != range_arg) params.push_back(EvalScalar(*c.args[i], t));
  }
  const Expr& arg = UnwrapParens(*c.args[range_arg]);
  detail::Window w = WindowOf(arg, t);
  bool keep_name = id == Func::kLastOverTime || id == Func::kFirstOverTime;
  Vector out;
  std::vector<double> scratch;
  // make_labels() gives the result's labels, built only when there is one.
  auto emit = [&](const auto& make_labels, std::span<const model::Sample> points, bool drop_name) {
    std::optional<double> r = RangeValue(c, points, w, params, t, scratch);
    if (!r) return;
    Sample res{make_labels(), *r, t, drop_name};
    if (!keep_name) MarkNameDropped(res);
    out.push_back(std::move(res));
  };
  // A matrix selector read once is streamed: no copy of its series. Holt-Winters
  // validates its factors before the first series, so it loads them first.
  if (arg.kind == ExprKind::kMatrixSelector && id != Func::kHoltWinters) {
    const VectorSelector& vs = *static_cast<const MatrixSelector&>(arg).selector;
    if (Streamable(vs)) {
      StreamSelector(vs,
                     [&](const model::LabelsView& labels, std::span<const model::Sample> samples) {
                       std::span<const model::Sample> points = InRange(samples, w);
                       if (!points.empty()) emit([&] { return labels.ToLabels(); }, points, false);
                     });
      CheckIntermediate(out);
      return out;
    }
  }
  Matrix owned;
  std::vector<RangeSeries> ranges = RangeOf(arg, t, owned);
  // Prometheus validates the factors per input series: no series, no error.
  if (id == Func::kHoltWinters && !ranges.empty()) {
    if (params[0] <= 0 || params[0] >= 1) {
      Throw("invalid smoothing factor. Expected: 0 < sf < 1, got: {:f}", params[0]);
    }
    if (params[1] <= 0 || params[1] >= 1) {
      Throw("invalid trend factor. Expected: 0 < tf < 1, got: {:f}", params[1]);
    }
  }
  out.reserve(ranges.size());
  for (const RangeSeries& rs : ranges) {
    emit([&] { return *rs.labels; }, rs.points, rs.drop_name);
  }
  CheckIntermediate(out);
  return out;
}

std::optional<Vector> Evaluator::StreamAggregate(const AggregateExpr& a, int64_t t) {
  switch (a.op) {
    case AggOp::kSum:
    case AggOp::kAvg:
    case AggOp::kCount:
    case AggOp::kMin:
    case AggOp::kMax:
    case AggOp::kGroup:
    case AggOp::kStddev:
    case AggOp::kStdvar:
      break;
    default:
      return std::nullopt;  // parameters, or per-member state
  }
  std::vector<std::string> grouping = a.grouping;
  std::sort(grouping.begin(), grouping.end());
  // by (__name__) would depend on when the function's name removal happens.
  if (!a.without && std::binary_search(grouping.begin(), grouping.end(), model::kMetricName)) {
    return std::nullopt;
  }
  const Expr& inner = UnwrapParens(*a.expr);
  if (inner.kind != ExprKind::kCall) return std::nullopt;
  const Call& c = static_cast<const Call&>(inner);
  const Func id = c.func->id;
  if (!IsStreamableRangeFunction(id)) return std::nullopt;
  const size_t range_arg = id == Func::kQuantileOverTime ? 1 : 0;
  const Expr& arg = UnwrapParens(*c.args[range_arg]);
  if (arg.kind != ExprKind::kMatrixSelector) return std::nullopt;
  const VectorSelector& vs = *static_cast<const MatrixSelector&>(arg).selector;
  if (!Streamable(vs)) return std::nullopt;

  // As RangeFunction then EvalAggregate: the function's result per series
  // carries the series' labels, without __name__ (at once in 2.x, marked for
  // later removal in 3.x) unless the function keeps it; the grouping ignores
  // __name__ either way.
  std::vector<double> params;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i != range_arg) params.push_back(EvalScalar(*c.args[i], t));
  }
  const detail::Window w = WindowOf(arg, t);
  const bool keep_name = id == Func::kLastOverTime || id == Func::kFirstOverTime;
  const bool delayed = options_.semantics.delayed_name_removal;
  const bool member_drop_name = !keep_name && delayed;
  auto grouped = [&grouping](std::string_view name) {
    return std::find(grouping.begin(), grouping.end(), name) != grouping.end();
  };
  auto by = [&grouped](std::string_view name) { return grouped(name); };
  auto without = [&grouped](std::string_view name) {
    return name != model::kMetricName && !grouped(name);
  };
  // 2.x checks the function's results for equal label sets (CheckIntermediate).
  auto result_label = [keep_name](std::string_view name) {
    return keep_name || name != model::kMetricName;
  };
  std::vector<uint64_t> results;  // hashes of the function's result labels
  std::unordered_map<uint64_t, size_t> index;
  std::vector<Group> groups;
  std::vector<double> scratch;
  StreamSelector(vs, [&](const model::LabelsView& labels, std::span<const model::Sample> samples) {
    const std::span<const model::Sample> points = InRange(samples, w);
    if (points.empty()) return;
    const std::optional<double> r = RangeValue(c, points, w, params, t, scratch);
    if (!r) return;
    if (!delayed) results.push_back(HashView(labels, result_label));
    const uint64_t key = a.without ? HashView(labels, without) : HashView(labels, by);
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) {
      Group g;
      g.labels = a.without ? KeepView(labels, without) : KeepView(labels, by);
      g.value = *r;
      g.mean = *r;
      groups.push_back(std::move(g));
    }
    Group& g = groups[it->second];
    g.drop_name = g.drop_name || member_drop_name;
    Accumulate(a.op, g, *r, 0);
  });
  if (HasDuplicate(results)) Throw("vector cannot contain metrics with the same labelset");
  Vector out;
  out.reserve(groups.size());
  for (Group& g : groups) {
    const double v = GroupValue(a, 0, g);
    out.push_back(Sample{std::move(g.labels), v, t, g.drop_name});
  }
  return out;
}

std::optional<double> Evaluator::RangeValue(const Call& c, std::span<const model::Sample> p,
                                            const detail::Window& w,
                                            const std::vector<double>& params, int64_t t,
                                            std::vector<double>& scratch) {
  const bool clamp_first = options_.semantics.clamp_before_threshold;
  switch (c.func->id) {
    case Func::kRate:
      return detail::ExtrapolatedRate(p, w, true, true, clamp_first);
    case Func::kIncrease:
      return detail::ExtrapolatedRate(p, w, true, false, clamp_first);
    case Func::kDelta:
      return detail::ExtrapolatedRate(p, w, false, false, clamp_first);
    case Func::kIrate:
      return detail::InstantValue(p, true);
    case Func::kIdelta:
      return detail::InstantValue(p, false);
    case Func::kDeriv:
      if (p.size() < 2) return std::nullopt;
      return detail::LinearRegression(p, p[0].t).first;
    case Func::kPredictLinear: {
      if (p.size() < 2) return std::nullopt;
      auto [slope, intercept] = detail::LinearRegression(p, t);
      return slope * params[0] + intercept;
    }
    case Func::kHoltWinters:
      return detail::DoubleExponentialSmoothing(p, params[0], params[1]);
    case Func::kChanges: {
      double n = 0;
      for (size_t i = 1; i < p.size(); ++i) {
        double cur = p[i].v, prev = p[i - 1].v;
        if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) n += 1;
      }
      return n;
    }
    case Func::kResets: {
      double n = 0;
      for (size_t i = 1; i < p.size(); ++i) {
        if (p[i].v < p[i - 1].v) n += 1;
      }
      return n;
    }
    case Func::kAvgOverTime: {
      detail::MeanAccumulator m;
      for (const auto& x : p) m.Add(x.v);
      return m.Value();
    }
    case Func::kSumOverTime: {
      detail::KahanSum k;
      for (const auto& x : p) k.Add(x.v);
      return k.Value();
    }
    case Func::kCountOverTime:
      return static_cast<double>(p.size());
    case Func::kMaxOverTime: {
      double m = p[0].v;
      for (const auto& x : p) {
        if (x.v > m || std::isnan(m)) m = x.v;
      }
      return m;
    }
    case Func::kMinOverTime: {
      double m = p[0].v;
      for (const auto& x : p) {
        if (x.v < m || std::isnan(m)) m = x.v;
      }
      return m;
    }
    case Func::kLastOverTime:
      return p.back().v;
    case Func::kFirstOverTime:
      return p.front().v;
    case Func::kPresentOverTime:
      return 1;
    case Func::kStddevOverTime:
    case Func::kStdvarOverTime: {
      double count = 0;
      detail::KahanSum mean, aux;
      for (const auto& x : p) {
        count += 1;
        double delta = x.v - mean.Value();
        mean.Add(delta / count);
        aux.Add(delta * (x.v - mean.Value()));
      }
      double variance = aux.Value() / count;
      return c.func->id == Func::kStddevOverTime ? std::sqrt(variance) : variance;
    }
    case Func::kQuantileOverTime: {
      scratch.clear();
      for (const auto& x : p) scratch.push_back(x.v);
      CheckQuantile(params[0], *c.args[0]);
      return detail::Quantile(params[0], scratch);
    }
    case Func::kMadOverTime: {
      scratch.clear();
      for (const auto& x : p) scratch.push_back(x.v);
      if (std::any_of(scratch.begin(), scratch.end(), [](double x) { return std::isnan(x); })) {
        return kNaN;
      }
      double median = detail::Quantile(0.5, scratch);
      for (double& x : scratch) x = std::fabs(x - median);
      return detail::Quantile(0.5, scratch);
    }
    default:
      Throw("function {} is not implemented", c.func->name);
  }
}

}  // namespace vigil::promql::detail
