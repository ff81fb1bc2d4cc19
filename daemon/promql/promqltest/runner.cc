#include "daemon/promql/promqltest/runner.h"

#include "daemon/promql/promqltest/series_values.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <variant>

#include "daemon/model/labels.h"
#include "daemon/model/sample.h"
#include "daemon/promql/engine.h"
#include "daemon/promql/parser.h"
#include "daemon/promql/value.h"
#include "daemon/store/store.h"
#include "daemon/util/duration.h"

namespace vigil::promqltest {
namespace {

using promql::Matrix;
using promql::Value;
using promql::Vector;

constexpr double kEpsilon = 1e-6;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Go's almost.Equal with the harness's tolerance; NaN equals NaN, a stale
// marker equals only a stale marker.
bool ValuesEqual(double want, double got) {
  if (model::IsStaleNaN(want) || model::IsStaleNaN(got)) {
    return model::IsStaleNaN(want) && model::IsStaleNaN(got);
  }
  if (std::isnan(want) && std::isnan(got)) return true;
  if (want == got) return true;
  double abs_sum = std::fabs(want) + std::fabs(got);
  double diff = std::fabs(want - got);
  constexpr double kMinNormal = 2.2250738585072014e-308;
  if (want == 0 || got == 0 || abs_sum < kMinNormal) return diff < kEpsilon * kMinNormal;
  return diff / std::min(abs_sum, std::numeric_limits<double>::max()) < kEpsilon;
}

std::string FormatValue(double v) {
  if (model::IsStaleNaN(v)) return "stale";
  return promql::FormatNumber(v);
}

// A duration, or a bare number of seconds.
std::optional<int64_t> ParseTime(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool numeric = std::all_of(s.begin(), s.end(),
                             [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == '-'; });
  if (numeric) {
    std::string str(s);
    char* end = nullptr;
    double v = std::strtod(str.c_str(), &end);
    if (end != str.c_str() + str.size()) return std::nullopt;
    return static_cast<int64_t>(std::llround(v * 1000));
  }
  auto d = util::ParseDuration(s);
  if (!d) return std::nullopt;
  return d->count();
}

// Splits a series line into its selector text and the remaining tokens.
util::Result<std::pair<std::string, std::vector<std::string>>> SplitSeriesLine(
    std::string_view line) {
  size_t end = 0;
  size_t brace = line.find('{');
  size_t space = line.find_first_of(" \t");
  if (brace != std::string_view::npos && (space == std::string_view::npos || brace < space)) {
    char quote = 0;
    for (size_t i = brace; i < line.size(); ++i) {
      char c = line[i];
      if (quote != 0) {
        if (c == '\\') {
          ++i;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'' || c == '`') {
        quote = c;
      } else if (c == '}') {
        end = i + 1;
        break;
      }
    }
    if (end == 0) return util::Fail("unterminated series selector: {}", line);
  } else {
    end = space == std::string_view::npos ? line.size() : space;
  }
  std::string selector(line.substr(0, end));
  std::vector<std::string> tokens;
  std::istringstream rest{std::string(line.substr(end))};
  std::string tok;
  while (rest >> tok) tokens.push_back(tok);
  return std::make_pair(selector, tokens);
}

struct ExpectedSeries {
  model::Labels labels;
  std::vector<SeriesPoint> points;  // one for instant evals
};

struct Expectation {
  std::string message;  // empty: any
  bool regex = false;
};

struct EvalCmd {
  int line = 0;
  std::string expr;
  bool range = false;
  int64_t at = 0;  // instant time, or range start
  int64_t end = 0;
  int64_t step = 0;
  bool fail = false;
  std::optional<Expectation> fail_match;
  bool ordered = false;
  std::optional<double> scalar;
  std::optional<std::string> string_result;
  bool range_vector = false;
  int64_t rv_start = 0, rv_end = 0, rv_step = 0;
  std::vector<ExpectedSeries> series;
  std::string skip_reason;
};

// Reasons a case cannot apply to this engine, found in the query text.
std::string UnsupportedSyntax(const std::string& expr) {
  struct Pattern {
    const char* re;
    const char* reason;
  };
  static const Pattern kPatterns[] = {
      {R"(\bhistogram_(count|sum|avg|fraction|stddev|stdvar|quantiles)\s*\()",
       "native histogram function"},
      {R"(\binfo\s*\()", "experimental function info()"},
      {R"(\b(limitk|limit_ratio)\b)", "experimental aggregation limitk/limit_ratio"},
      {R"((?i)\b(step|range)\s*\(\s*\))", "duration expression (promql-duration-expr)"},
      {R"(\b(min_of|max_of)\s*\()", "duration expression (promql-duration-expr)"},
      {R"(\[[^\]:]*[*+/()^%][^\]]*\])", "duration expression (promql-duration-expr)"},
      {R"(\[[^\]]*:[^\]]*[*+/()^%-][^\]]*\])", "duration expression (promql-duration-expr)"},
      {R"(\boffset\s*-?\s*\()", "duration expression (promql-duration-expr)"},
      {R"(\boffset\s+-?\d+[a-z]*\s*[*+/^%])", "duration expression (promql-duration-expr)"},
      {R"(\b(anchored|smoothed)\b)", "extended range selectors (anchored/smoothed)"},
      {R"(\b(fill|fill_left|fill_right)\s*\()", "binop fill modifiers"},
      {R"(__type__|__unit__)", "type-and-unit labels"},
      {R"(\bts_of_(first|last|min|max)_over_time\b)", "experimental function ts_of_*"},
      {R"(\bstart_timestamp\b)", "start timestamps"},
  };
  for (const auto& p : kPatterns) {
    static thread_local std::map<const char*, std::unique_ptr<re2::RE2>> cache;
    auto& re = cache[p.re];
    if (!re) re = std::make_unique<re2::RE2>(p.re);
    if (re2::RE2::PartialMatch(expr, *re)) return p.reason;
  }
  return "";
}

class TestFile {
 public:
  TestFile(std::string path, const promql::Semantics& semantics)
      : semantics_(semantics), engine_(MakeOptions(semantics)) {
    report_.path = std::move(path);
  }

  FileReport Run() {
    std::ifstream in(report_.path);
    if (!in) {
      report_.error = fmt::format("cannot open {}", report_.path);
      return std::move(report_);
    }
    std::string raw;
    while (std::getline(in, raw)) lines_.push_back(raw);
    size_t i = 0;
    while (i < lines_.size()) {
      std::string_view line = Trim(lines_[i]);
      if (line.empty() || line.front() == '#') {
        ++i;
        continue;
      }
      std::string word = Lower(line.substr(0, line.find_first_of(" \t")));
      if (word == "clear") {
        Clear();
        ++i;
      } else if (word == "load" || word == "load_with_nhcb") {
        i = Load(i, word == "load_with_nhcb");
      } else if (word.starts_with("eval")) {
        i = Eval(i);
      } else {
        report_.error = fmt::format("line {}: unknown command \"{}\"", i + 1, line);
        return std::move(report_);
      }
    }
    return std::move(report_);
  }

 private:
  static promql::EngineOptions MakeOptions(const promql::Semantics& semantics) {
    promql::EngineOptions options;
    options.semantics = semantics;
    return options;
  }

  void Clear() {
    store_ = std::make_unique<store::Store>();
    nh_series_.clear();
    data_skip_reason_.clear();
  }

  // Block lines after a command: until a blank line or a comment (Prometheus
  // blanks comment lines before parsing, so a comment ends a block too).
  std::vector<std::pair<int, std::string_view>> Block(size_t& i) {
    std::vector<std::pair<int, std::string_view>> out;
    for (; i < lines_.size(); ++i) {
      std::string_view l = Trim(lines_[i]);
      if (l.empty() || l.front() == '#') break;
      out.emplace_back(static_cast<int>(i + 1), l);
    }
    return out;
  }

  size_t Load(size_t i, bool nhcb) {
    std::string_view header = Trim(lines_[i]);
    auto step = ParseTime(Trim(header.substr(header.find_first_of(" \t") + 1)));
    ++i;
    auto block = Block(i);
    if (!step) {
      report_.error = fmt::format("line {}: invalid load step", i);
      return lines_.size();
    }
    std::map<uint64_t, std::pair<model::Labels, std::map<int64_t, double>>> pending;
    for (const auto& [lineno, l] : block) {
      auto split = SplitSeriesLine(l);
      if (!split) continue;
      std::string selector = split->first;
      if (selector.ends_with("@st") ||
          (!split->second.empty() && split->second.front().starts_with("@st"))) {
        data_skip_reason_ = "start timestamps (@st)";
        continue;
      }
      auto labels = promql::ParseSeriesLabels(selector);
      if (!labels) {
        report_.error = fmt::format("line {}: {}", lineno, labels.error().message);
        continue;
      }
      if (labels->Has("__type__") || labels->Has("__unit__")) {
        data_skip_reason_ = "type-and-unit labels";
      }
      std::string joined;
      for (const auto& t : split->second) joined += t + " ";
      if (joined.find("{{") != std::string::npos) {
        nh_series_.push_back(*labels);
        continue;
      }
      if (nhcb) AddNhcbSeries(*labels);
      // A later line for the same series overrides earlier samples at the
      // same timestamps, as with Prometheus's test storage.
      auto& series = pending[labels->Hash()];
      series.first = *labels;
      int64_t t = 0;
      for (const auto& tok : split->second) {
        auto pts = ExpandSeriesToken(tok);
        if (!pts) {
          report_.error = fmt::format("line {}: {}", lineno, pts.error().message);
          break;
        }
        for (const SeriesPoint& p : *pts) {
          if (!p.omitted) series.second[t] = p.value;
          t += *step;
        }
      }
    }
    for (const auto& [hash, series] : pending) {
      for (const auto& [t, v] : series.second) {
        auto appended = store_->Append(series.first, t, v);
        if (!appended) {
          report_.error =
              fmt::format("loading {}: {}", series.first.ToString(), appended.error().message);
        }
      }
    }
    return i;
  }

  // load_with_nhcb also creates a native histogram named after the classic
  // series' base name; queries on that name need native histograms.
  void AddNhcbSeries(const model::Labels& labels) {
    std::string_view name = labels.MetricName();
    for (std::string_view suffix : {"_bucket", "_count", "_sum"}) {
      if (name.ends_with(suffix)) {
        model::LabelsBuilder lb(labels);
        lb.Set(model::kMetricName, name.substr(0, name.size() - suffix.size()));
        lb.Del("le");
        nh_series_.push_back(lb.Build());
        return;
      }
    }
  }

  bool TouchesNativeHistograms(const promql::Expr& e) const {
    switch (e.kind) {
      case promql::ExprKind::kVectorSelector: {
        const auto& vs = static_cast<const promql::VectorSelector&>(e);
        for (const auto& series : nh_series_) {
          bool all =
              std::all_of(vs.matchers.begin(), vs.matchers.end(),
                          [&](const model::Matcher& m) { return m.Matches(series.Get(m.name())); });
          if (all) return true;
        }
        return false;
      }
      case promql::ExprKind::kMatrixSelector:
        return TouchesNativeHistograms(*static_cast<const promql::MatrixSelector&>(e).selector);
      case promql::ExprKind::kParen:
        return TouchesNativeHistograms(*static_cast<const promql::ParenExpr&>(e).expr);
      case promql::ExprKind::kUnary:
        return TouchesNativeHistograms(*static_cast<const promql::UnaryExpr&>(e).expr);
      case promql::ExprKind::kSubquery:
        return TouchesNativeHistograms(*static_cast<const promql::SubqueryExpr&>(e).expr);
      case promql::ExprKind::kBinary: {
        const auto& b = static_cast<const promql::BinaryExpr&>(e);
        return TouchesNativeHistograms(*b.lhs) || TouchesNativeHistograms(*b.rhs);
      }
      case promql::ExprKind::kAggregate: {
        const auto& a = static_cast<const promql::AggregateExpr&>(e);
        return TouchesNativeHistograms(*a.expr) || (a.param && TouchesNativeHistograms(*a.param));
      }
      case promql::ExprKind::kCall: {
        for (const auto& arg : static_cast<const promql::Call&>(e).args) {
          if (TouchesNativeHistograms(*arg)) return true;
        }
        return false;
      }
      default:
        return false;
    }
  }

  // Parses "eval ..." and its block into an EvalCmd; returns the next line.
  size_t Eval(size_t i) {
    EvalCmd cmd;
    cmd.line = static_cast<int>(i + 1);
    std::string_view header = Trim(lines_[i]);
    size_t sp = header.find_first_of(" \t");
    std::string word = Lower(header.substr(0, sp));
    std::string_view rest = Trim(header.substr(sp == std::string_view::npos ? header.size() : sp));
    if (word == "eval_fail") cmd.fail = true;
    if (word == "eval_ordered") cmd.ordered = true;
    bool expect_annotation = word == "eval_warn" || word == "eval_info";
    ++i;
    auto block = Block(i);
    auto take_word = [&rest]() {
      size_t s = rest.find_first_of(" \t");
      std::string w(rest.substr(0, s));
      rest = Trim(rest.substr(s == std::string_view::npos ? rest.size() : s));
      return w;
    };
    std::string mode = Lower(take_word());
    bool ok = true;
    if (mode == "instant") {
      ok = Lower(take_word()) == "at";
      auto t = ParseTime(take_word());
      ok = ok && t.has_value();
      cmd.at = t.value_or(0);
    } else if (mode == "range") {
      cmd.range = true;
      ok = Lower(take_word()) == "from";
      auto s = ParseTime(take_word());
      ok = ok && Lower(take_word()) == "to";
      auto e = ParseTime(take_word());
      ok = ok && Lower(take_word()) == "step";
      auto st = ParseTime(take_word());
      ok = ok && s && e && st;
      cmd.at = s.value_or(0);
      cmd.end = e.value_or(0);
      cmd.step = st.value_or(0);
    } else {
      ok = false;
    }
    cmd.expr = std::string(rest);
    if (!ok) {
      Record(cmd, Outcome::kFailed, "cannot parse eval command");
      return i;
    }
    std::vector<Expectation> warns, infos;
    bool expect_warn = false, expect_info = false, no_warn = false, no_info = false;
    for (const auto& [lineno, l] : block) {
      std::string lw = Lower(l);
      if (lw.starts_with("expect ")) {
        std::string_view what = Trim(l.substr(7));
        std::string kind = Lower(what.substr(0, what.find_first_of(" \t")));
        std::string_view arg = Trim(what.substr(kind.size()));
        auto parse_match = [&](std::string_view a) -> std::optional<Expectation> {
          if (a.starts_with("msg:")) return Expectation{std::string(Trim(a.substr(4))), false};
          if (a.starts_with("regex:")) return Expectation{std::string(Trim(a.substr(6))), true};
          return std::nullopt;
        };
        if (kind == "fail") {
          cmd.fail = true;
          cmd.fail_match = parse_match(arg);
        } else if (kind == "ordered") {
          cmd.ordered = true;
        } else if (kind == "warn" || kind == "info") {
          auto m = parse_match(arg);
          (kind == "warn" ? expect_warn : expect_info) = true;
          if (m) (kind == "warn" ? warns : infos).push_back(*m);
        } else if (kind == "no_warn") {
          no_warn = true;
        } else if (kind == "no_info") {
          no_info = true;
        } else if (kind == "string") {
          auto parsed = promql::ParseExpr(arg);
          if (parsed && (*parsed)->kind == promql::ExprKind::kString) {
            cmd.string_result = static_cast<const promql::StringLiteral&>(**parsed).value;
          } else {
            ok = false;
          }
        } else if (kind == "range") {
          // expect range vector from <s> to <e> step <d>
          std::istringstream ws{std::string(arg)};
          std::string vec, from, s, to, e, stp, d;
          ws >> vec >> from >> s >> to >> e >> stp >> d;
          auto ps = ParseTime(s), pe = ParseTime(e), pd = ParseTime(d);
          if (!ps || !pe || !pd) {
            ok = false;
          } else {
            cmd.range_vector = true;
            cmd.rv_start = *ps;
            cmd.rv_end = *pe;
            cmd.rv_step = *pd;
          }
        } else {
          ok = false;
        }
        continue;
      }
      if (lw.starts_with("expected_fail_message")) {
        cmd.fail = true;
        cmd.fail_match = Expectation{std::string(Trim(l.substr(21))), false};
        continue;
      }
      if (lw.starts_with("expected_fail_regexp")) {
        cmd.fail = true;
        cmd.fail_match = Expectation{std::string(Trim(l.substr(20))), true};
        continue;
      }
      if (l.find("{{") != std::string_view::npos) {
        cmd.skip_reason = "native histogram in expected result";
        continue;
      }
      auto split = SplitSeriesLine(l);
      if (!split) {
        ok = false;
        continue;
      }
      if (split->second.empty()) {
        auto v = ParseSeriesValue(split->first);
        if (v && !cmd.range) {
          cmd.scalar = *v;
          continue;
        }
      }
      auto labels = promql::ParseSeriesLabels(split->first);
      if (!labels) {
        ok = false;
        continue;
      }
      ExpectedSeries es{*labels, {}};
      for (const auto& tok : split->second) {
        auto pts = ExpandSeriesToken(tok);
        if (!pts) {
          ok = false;
          break;
        }
        es.points.insert(es.points.end(), pts->begin(), pts->end());
      }
      cmd.series.push_back(std::move(es));
    }
    if (!ok && !cmd.skip_reason.empty()) {
      Record(cmd, Outcome::kSkipped, cmd.skip_reason);
      return i;
    }
    if (!ok) {
      Record(cmd, Outcome::kFailed, "cannot parse the expected results");
      return i;
    }
    annotations_ = Annotations{expect_warn || (expect_annotation && word == "eval_warn"),
                               expect_info || (expect_annotation && word == "eval_info"),
                               no_warn,
                               no_info,
                               warns,
                               infos};
    RunEval(cmd);
    return i;
  }

  struct Annotations {
    bool expect_warn = false;
    bool expect_info = false;
    bool no_warn = false;
    bool no_info = false;
    std::vector<Expectation> warns;
    std::vector<Expectation> infos;
  };

  void Record(const EvalCmd& cmd, Outcome outcome, std::string reason) {
    report_.cases.push_back(CaseResult{cmd.line, cmd.expr, outcome, std::move(reason)});
  }

  std::string SkipReason(const EvalCmd& cmd, const promql::Expr* expr) const {
    if (!cmd.skip_reason.empty()) return cmd.skip_reason;
    if (std::string r = UnsupportedSyntax(cmd.expr); !r.empty()) return r;
    if (!data_skip_reason_.empty()) return data_skip_reason_;
    if (expr != nullptr && TouchesNativeHistograms(*expr)) return "native histograms";
    return "";
  }

  bool MatchesExpectation(const Expectation& e, const std::string& msg) const {
    if (!e.regex) return msg == e.message;
    re2::RE2 re(e.message);
    return re.ok() && re2::RE2::PartialMatch(msg, re);
  }

  void RunEval(const EvalCmd& cmd) {
    promql::ParseOptions popts{semantics_};
    auto parsed = promql::ParseExpr(cmd.expr, popts);
    std::string skip = SkipReason(cmd, parsed ? parsed->get() : nullptr);
    if (!skip.empty()) {
      Record(cmd, Outcome::kSkipped, skip);
      return;
    }
    std::string failure = cmd.range ? RunRange(cmd, parsed) : RunInstant(cmd, parsed);
    if (failure.empty()) {
      Record(cmd, Outcome::kPassed, "");
    } else {
      Record(cmd, Outcome::kFailed, failure);
    }
  }

  // `expect warn|info [msg:|regex:]` and `expect no_warn|no_info`.
  std::string CheckAnnotations(const std::string& query,
                               const std::vector<promql::Annotation>& got) const {
    using Severity = promql::Annotation::Severity;
    for (Severity sev : {Severity::kWarning, Severity::kInfo}) {
      bool is_warn = sev == Severity::kWarning;
      const char* kind = is_warn ? "warn" : "info";
      bool expect = is_warn ? annotations_.expect_warn : annotations_.expect_info;
      bool none = is_warn ? annotations_.no_warn : annotations_.no_info;
      const auto& wanted = is_warn ? annotations_.warns : annotations_.infos;
      std::vector<std::string> messages;
      for (const auto& a : got) {
        if (a.severity == sev) messages.push_back(promql::FormatAnnotation(a, query));
      }
      if (none && !messages.empty()) {
        return fmt::format("expected no {} annotation, got \"{}\"", kind, messages[0]);
      }
      if (!expect) continue;
      if (messages.empty()) return fmt::format("expected a {} annotation, got none", kind);
      if (wanted.empty()) continue;
      for (const auto& m : messages) {
        bool matched = std::any_of(wanted.begin(), wanted.end(),
                                   [&](const Expectation& e) { return MatchesExpectation(e, m); });
        if (!matched) return fmt::format("unexpected {} annotation \"{}\"", kind, m);
      }
    }
    return "";
  }

  // Checks an error against `expect fail`; "" when it is the expected one.
  std::string CheckFailure(const EvalCmd& cmd, const std::string& error) const {
    if (!cmd.fail) return fmt::format("unexpected error: {}", error);
    if (cmd.fail_match && !MatchesExpectation(*cmd.fail_match, error)) {
      return fmt::format("error \"{}\" does not match expected {} \"{}\"", error,
                         cmd.fail_match->regex ? "regex" : "message", cmd.fail_match->message);
    }
    return "";
  }

  std::string RunRange(const EvalCmd& cmd, const util::Result<promql::ExprPtr>& parsed) {
    if (!parsed) return CheckFailure(cmd, parsed.error().message);
    std::vector<promql::Annotation> annotations;
    auto res = engine_.RangeQuery(*store_, **parsed, cmd.at, cmd.end, cmd.step, &annotations);
    if (!res) return CheckFailure(cmd, res.error().message);
    if (cmd.fail) return "expected an error, got none";
    if (std::string f = CheckAnnotations(cmd.expr, annotations); !f.empty()) return f;
    return CompareMatrix(cmd, *res, cmd.at, cmd.step);
  }

  std::string CompareMatrix(const EvalCmd& cmd, const Matrix& got, int64_t start, int64_t step) {
    std::unordered_map<uint64_t, const promql::Series*> by_labels;
    for (const auto& s : got) by_labels[s.labels.Hash()] = &s;
    size_t expected_series = 0;
    for (const auto& es : cmd.series) {
      std::vector<model::Sample> want;
      for (size_t k = 0; k < es.points.size(); ++k) {
        if (!es.points[k].omitted) {
          want.push_back(model::Sample{start + static_cast<int64_t>(k) * step, es.points[k].value});
        }
      }
      if (want.empty()) continue;
      ++expected_series;
      auto it = by_labels.find(es.labels.Hash());
      if (it == by_labels.end()) {
        return fmt::format("expected series {} not found in result {}", es.labels.ToString(),
                           MatrixString(got));
      }
      const auto& pts = it->second->points;
      bool same = pts.size() == want.size();
      for (size_t k = 0; same && k < pts.size(); ++k) {
        same = pts[k].t == want[k].t && ValuesEqual(want[k].v, pts[k].v);
      }
      if (!same) {
        return fmt::format("series {}: want {}, got {}", es.labels.ToString(), PointsString(want),
                           PointsString(pts));
      }
    }
    if (got.size() != expected_series) {
      return fmt::format("expected {} series, got {}: {}", expected_series, got.size(),
                         MatrixString(got));
    }
    return "";
  }

  static std::string PointsString(const std::vector<model::Sample>& pts) {
    std::string out;
    for (const auto& p : pts) out += fmt::format(" {}@{}", FormatValue(p.v), p.t / 1000.0);
    return "[" + std::string(Trim(out)) + "]";
  }

  static std::string MatrixString(const Matrix& m) {
    std::string out;
    for (const auto& s : m)
      out += fmt::format("{} {}; ", s.labels.ToString(), PointsString(s.points));
    return out.empty() ? "(empty)" : out;
  }

  static std::string VectorString(const Vector& v) {
    std::string out;
    for (const auto& s : v) out += fmt::format("{} => {}; ", s.labels.ToString(), FormatValue(s.v));
    return out.empty() ? "(empty)" : out;
  }

  std::string CompareVector(const EvalCmd& cmd, const Vector& got, bool check_order) {
    if (got.size() != cmd.series.size()) {
      return fmt::format("expected {} samples, got {}: {}", cmd.series.size(), got.size(),
                         VectorString(got));
    }
    std::unordered_map<uint64_t, size_t> index;
    for (size_t k = 0; k < got.size(); ++k) index[got[k].labels.Hash()] = k;
    for (size_t k = 0; k < cmd.series.size(); ++k) {
      const auto& es = cmd.series[k];
      auto it = index.find(es.labels.Hash());
      if (it == index.end()) {
        return fmt::format("expected {} not found; got {}", es.labels.ToString(),
                           VectorString(got));
      }
      if (check_order && it->second != k) {
        return fmt::format("{}: expected at position {}, got position {}", es.labels.ToString(), k,
                           it->second);
      }
      if (es.points.size() != 1 || es.points[0].omitted) return "bad expected sample";
      double v = got[it->second].v;
      if (!ValuesEqual(es.points[0].value, v)) {
        return fmt::format("{}: want {}, got {}", es.labels.ToString(),
                           FormatValue(es.points[0].value), FormatValue(v));
      }
    }
    return "";
  }

  std::string CompareValue(const EvalCmd& cmd, const Value& got, bool check_order) {
    if (const auto* s = std::get_if<promql::Scalar>(&got)) {
      if (!cmd.scalar) return fmt::format("got scalar {}, want a vector", FormatValue(s->v));
      if (!ValuesEqual(*cmd.scalar, s->v)) {
        return fmt::format("scalar: want {}, got {}", FormatValue(*cmd.scalar), FormatValue(s->v));
      }
      return "";
    }
    if (const auto* s = std::get_if<promql::String>(&got)) {
      if (!cmd.string_result) return fmt::format("got string \"{}\"", s->v);
      if (*cmd.string_result != s->v) {
        return fmt::format("string: want \"{}\", got \"{}\"", *cmd.string_result, s->v);
      }
      return "";
    }
    if (cmd.scalar) return "want a scalar, got a vector";
    if (cmd.string_result) return "want a string";
    if (const auto* m = std::get_if<Matrix>(&got)) {
      if (!cmd.range_vector) return "got a range vector without `expect range vector`";
      return CompareMatrix(cmd, *m, cmd.rv_start, cmd.rv_step);
    }
    if (cmd.range_vector) return "want a range vector, got an instant vector";
    return CompareVector(cmd, std::get<Vector>(got), check_order);
  }

  std::string RunInstant(const EvalCmd& cmd, const util::Result<promql::ExprPtr>& parsed) {
    if (!parsed) return CheckFailure(cmd, parsed.error().message);
    std::vector<std::pair<std::string, int64_t>> runs{{cmd.expr, cmd.at}};
    AddAtModifierRuns(**parsed, cmd.at, runs);
    for (const auto& [text, t] : runs) {
      auto expr = promql::ParseExpr(text, promql::ParseOptions{semantics_});
      if (!expr) {
        return fmt::format("re-parsing \"{}\" failed: {}", text, expr.error().message);
      }
      std::string where = text == cmd.expr && t == cmd.at
                              ? std::string()
                              : fmt::format(" [{} at {}s]", text, t / 1000.0);
      std::vector<promql::Annotation> annotations;
      auto res = engine_.InstantQuery(*store_, **expr, t, &annotations);
      if (!res) {
        std::string f = CheckFailure(cmd, res.error().message);
        if (!f.empty()) return f + where;
        continue;
      }
      if (cmd.fail) return "expected an error, got none" + where;
      if (where.empty()) {
        if (std::string f = CheckAnnotations(text, annotations); !f.empty()) return f;
      }
      if (std::string f = CompareValue(cmd, *res, cmd.ordered); !f.empty()) return f + where;
      // Range mode cannot reproduce an order, nor the query bounds of an
      // instant query.
      if (cmd.ordered || UsesQueryBounds(**expr)) continue;
      bool is_scalar = std::holds_alternative<promql::Scalar>(*res);
      if (!is_scalar && !std::holds_alternative<Vector>(*res)) continue;
      auto range = engine_.RangeQuery(*store_, **expr, t - 60000, t + 60000, 60000);
      if (!range) return fmt::format("range mode: error {}{}", range.error().message, where);
      Vector mid;
      for (const auto& s : *range) {
        for (const auto& p : s.points) {
          if (p.t == t) mid.push_back(promql::Sample{s.labels, p.v, p.t});
        }
      }
      Value as_value =
          is_scalar ? Value(promql::Scalar{t, mid.empty() ? 0 : mid[0].v}) : Value(std::move(mid));
      if (is_scalar && range->size() != 1) return "range mode: scalar missing" + where;
      if (std::string f = CompareValue(cmd, as_value, false); !f.empty()) {
        return "range mode: " + f + where;
      }
    }
    return "";
  }

  // Prometheus's atModifierTestCases: pin every top-level selector and
  // subquery with `@ t` and evaluate at other times; skipped when a function
  // depends on the evaluation time.
  void AddAtModifierRuns(const promql::Expr& original, int64_t t,
                         std::vector<std::pair<std::string, int64_t>>& runs) const {
    auto copy = promql::ParseExpr(original.String(), promql::ParseOptions{semantics_});
    if (!copy) return;
    bool unsafe = false;
    PinAt(**copy, t, unsafe);
    if (unsafe) return;
    std::string text = (*copy)->String();
    std::vector<int64_t> times = {-10 * t, 0, t / 5, t, 10 * t};
    if (t == 0) times = {-1000000, 1000000};
    for (int64_t at : times) runs.emplace_back(text, at);
  }

  static void PinAt(promql::Expr& e, int64_t t, bool& unsafe) {
    using promql::ExprKind;
    switch (e.kind) {
      case ExprKind::kVectorSelector: {
        auto& vs = static_cast<promql::VectorSelector&>(e);
        if (vs.at == promql::AtModifier::kNone) {
          vs.at = promql::AtModifier::kTimestamp;
          vs.at_ms = t;
        }
        return;
      }
      case ExprKind::kMatrixSelector:
        return PinAt(*static_cast<promql::MatrixSelector&>(e).selector, t, unsafe);
      case ExprKind::kSubquery: {
        auto& sq = static_cast<promql::SubqueryExpr&>(e);
        if (sq.at == promql::AtModifier::kNone) {
          sq.at = promql::AtModifier::kTimestamp;
          sq.at_ms = t;
        }
        // Selectors inside a pinned subquery keep their times, but an unsafe
        // function anywhere still disqualifies the expression.
        VisitCalls(*sq.expr, [&unsafe](promql::Func f) { unsafe = unsafe || IsAtUnsafe(f); });
        return;
      }
      case ExprKind::kParen:
        return PinAt(*static_cast<promql::ParenExpr&>(e).expr, t, unsafe);
      case ExprKind::kUnary:
        return PinAt(*static_cast<promql::UnaryExpr&>(e).expr, t, unsafe);
      case ExprKind::kBinary: {
        auto& b = static_cast<promql::BinaryExpr&>(e);
        PinAt(*b.lhs, t, unsafe);
        PinAt(*b.rhs, t, unsafe);
        return;
      }
      case ExprKind::kAggregate: {
        auto& a = static_cast<promql::AggregateExpr&>(e);
        if (a.param) PinAt(*a.param, t, unsafe);
        PinAt(*a.expr, t, unsafe);
        return;
      }
      case ExprKind::kCall: {
        auto& c = static_cast<promql::Call&>(e);
        if (IsAtUnsafe(c.func->id)) unsafe = true;
        for (auto& arg : c.args) PinAt(*arg, t, unsafe);
        return;
      }
      default:
        return;
    }
  }

  static bool UsesQueryBounds(const promql::Expr& e) {
    bool found = false;
    VisitCalls(e, [&found](promql::Func f) {
      found = found || f == promql::Func::kStart || f == promql::Func::kEnd;
    });
    return found;
  }

  template <typename Fn>
  static void VisitCalls(const promql::Expr& e, const Fn& fn) {
    using promql::ExprKind;
    switch (e.kind) {
      case ExprKind::kParen:
        return VisitCalls(*static_cast<const promql::ParenExpr&>(e).expr, fn);
      case ExprKind::kUnary:
        return VisitCalls(*static_cast<const promql::UnaryExpr&>(e).expr, fn);
      case ExprKind::kSubquery:
        return VisitCalls(*static_cast<const promql::SubqueryExpr&>(e).expr, fn);
      case ExprKind::kBinary: {
        const auto& b = static_cast<const promql::BinaryExpr&>(e);
        VisitCalls(*b.lhs, fn);
        VisitCalls(*b.rhs, fn);
        return;
      }
      case ExprKind::kAggregate: {
        const auto& a = static_cast<const promql::AggregateExpr&>(e);
        if (a.param) VisitCalls(*a.param, fn);
        VisitCalls(*a.expr, fn);
        return;
      }
      case ExprKind::kCall: {
        const auto& c = static_cast<const promql::Call&>(e);
        fn(c.func->id);
        for (const auto& arg : c.args) VisitCalls(*arg, fn);
        return;
      }
      default:
        return;
    }
  }

  static bool IsAtUnsafe(promql::Func f) {
    using promql::Func;
    switch (f) {
      case Func::kDaysInMonth:
      case Func::kDayOfMonth:
      case Func::kDayOfWeek:
      case Func::kDayOfYear:
      case Func::kHour:
      case Func::kMinute:
      case Func::kMonth:
      case Func::kYear:
      case Func::kPredictLinear:
      case Func::kTime:
      case Func::kTimestamp:
      case Func::kStart:
      case Func::kEnd:
        return true;
      default:
        return false;
    }
  }

  promql::Semantics semantics_;
  promql::Engine engine_;
  std::unique_ptr<store::Store> store_ = std::make_unique<store::Store>();
  std::vector<std::string> lines_;
  std::vector<model::Labels> nh_series_;
  std::string data_skip_reason_;
  Annotations annotations_;
  FileReport report_;
};

}  // namespace

int FileReport::Count(Outcome outcome) const {
  return static_cast<int>(std::count_if(cases.begin(), cases.end(),
                                        [&](const CaseResult& c) { return c.outcome == outcome; }));
}

FileReport RunTestFile(const std::string& path, const promql::Semantics& semantics) {
  return TestFile(path, semantics).Run();
}

void PrintReport(std::ostream& out, std::span<const FileReport> reports, bool verbose) {
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& r : reports) {
    int p = r.Count(Outcome::kPassed), f = r.Count(Outcome::kFailed),
        s = r.Count(Outcome::kSkipped);
    passed += p;
    failed += f;
    skipped += s;
    out << fmt::format("{}: {} passed, {} failed, {} skipped\n", r.path, p, f, s);
    if (!r.error.empty()) out << fmt::format("  error: {}\n", r.error);
    for (const auto& c : r.cases) {
      if (c.outcome == Outcome::kFailed || (verbose && c.outcome == Outcome::kSkipped)) {
        out << fmt::format("  {}:{}: {} {}: {}\n", r.path, c.line,
                           c.outcome == Outcome::kFailed ? "FAILED" : "skipped", c.expr, c.reason);
      }
    }
  }
  out << fmt::format("{} passed, {} failed, {} skipped\n", passed, failed, skipped);
}

}  // namespace vigil::promqltest
