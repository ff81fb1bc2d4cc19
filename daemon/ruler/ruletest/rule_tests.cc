#include "daemon/ruler/ruletest/rule_tests.h"

#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <variant>

#include "daemon/config/yaml_reader.h"
#include "daemon/model/labels.h"
#include "daemon/promql/engine.h"
#include "daemon/promql/parser.h"
#include "daemon/ruler/group.h"
#include "daemon/ruler/rule_file.h"
#include "daemon/promql/promqltest/series_values.h"
#include "daemon/store/store.h"
#include "daemon/util/duration.h"

namespace vigil::ruletest {
namespace {

using Annotations = std::map<std::string, std::string>;

// ---- Go formatting helpers (promtool prints with Go's fmt) ----

// strconv.Quote for ASCII/UTF-8 text.
std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += fmt::format("\\x{:02x}", c);
        } else {
          out.push_back(ch);
        }
    }
  }
  out += "\"";
  return out;
}

// Go's labels.Labels.String(): {a="b", c="d"} (the name as __name__).
std::string GoLabels(const model::Labels& labels) {
  std::string out = "{";
  bool first = true;
  for (const auto& l : labels) {
    if (!first) out += ", ";
    first = false;
    out += l.name + "=" + GoQuote(l.value);
  }
  return out + "}";
}

std::string GoMap(const Annotations& m) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out += ", ";
    first = false;
    out += k + "=" + GoQuote(v);
  }
  return out + "}";
}

// strconv.FormatFloat(v, 'E', -1, 64).
std::string GoFloatE(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string s(buf, res.ptr);
  for (auto& c : s) {
    if (c == 'e') c = 'E';
  }
  return s;
}

// time.Duration.String() for whole milliseconds.
std::string GoDuration(int64_t ms) {
  if (ms == 0) return "0s";
  std::string sign = ms < 0 ? "-" : "";
  uint64_t u = ms < 0 ? static_cast<uint64_t>(-ms) : static_cast<uint64_t>(ms);
  if (u < 1000) return fmt::format("{}{}ms", sign, u);
  uint64_t h = u / 3600000, m = (u / 60000) % 60, s = (u / 1000) % 60, frac = u % 1000;
  std::string secs = std::to_string(s);
  if (frac != 0) {
    std::string f = fmt::format("{:03}", frac);
    while (!f.empty() && f.back() == '0') f.pop_back();
    secs += "." + f;
  }
  if (h > 0) return fmt::format("{}{}h{}m{}s", sign, h, m, secs);
  if (m > 0) return fmt::format("{}{}m{}s", sign, m, secs);
  return fmt::format("{}{}s", sign, secs);
}

// ---- the test file ----

struct ExpAlert {
  model::Labels labels;
  Annotations annotations;
};

struct AlertTest {
  int64_t eval_time = 0;
  std::string alertname;
  std::vector<ExpAlert> exp_alerts;
};

struct ExpSample {
  std::string labels;
  double value = 0;
};

struct ExprTest {
  std::string expr;
  int64_t eval_time = 0;
  std::vector<ExpSample> exp_samples;
};

struct SeriesInput {
  std::string series;
  std::string values;
};

struct TestGroup {
  std::string name;
  int64_t interval = 0;  // 0: not set
  std::vector<SeriesInput> input_series;
  std::vector<AlertTest> alert_tests;
  std::vector<ExprTest> expr_tests;
  model::Labels external_labels;
  std::string external_url;
  int64_t start_ms = 0;
};

struct TestFile {
  std::vector<std::string> rule_files;
  int64_t evaluation_interval = 60000;
  std::vector<std::string> group_eval_order;
  // Newer promtool: sample values may differ by one unit in the last place.
  bool fuzzy_compare = false;
  std::vector<TestGroup> tests;
};

std::optional<double> ParseFloatNode(const YAML::Node& node, config::YamlErrorSink& errors) {
  auto s = config::ParseString(node, errors);
  if (!s) return std::nullopt;
  std::string v = *s;
  std::string lower = v;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == ".inf" || lower == "+.inf" || lower == "inf" || lower == "+inf") {
    return std::numeric_limits<double>::infinity();
  }
  if (lower == "-.inf" || lower == "-inf") return -std::numeric_limits<double>::infinity();
  if (lower == ".nan" || lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size()) {
    errors.Addf(node.Mark(), "cannot unmarshal {} into a float", config::DescribeNode(node));
    return std::nullopt;
  }
  return d;
}

// RFC 3339 ("2024-01-01T00:00:00Z", optional fraction and offset) or Unix seconds.
std::optional<int64_t> ParseStartTimestamp(const std::string& s) {
  char* end = nullptr;
  double secs = std::strtod(s.c_str(), &end);
  if (!s.empty() && end == s.c_str() + s.size())
    return static_cast<int64_t>(std::llround(secs * 1000));
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t ms = static_cast<int64_t>(timegm(&tm)) * 1000;
  std::string_view rest(s.c_str() + consumed);
  if (!rest.empty() && rest.front() == '.') {
    size_t i = 1;
    int64_t frac = 0, scale = 1000;
    while (i < rest.size() && std::isdigit(static_cast<unsigned char>(rest[i]))) {
      if (scale > 1) {
        scale /= 10;
        frac += (rest[i] - '0') * scale;
      }
      ++i;
    }
    ms += frac;
    rest.remove_prefix(i);
  }
  if (rest == "Z" || rest == "z") return ms;
  int oh = 0, om = 0;
  if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') &&
      std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) == 2) {
    int64_t off = (oh * 60 + om) * 60000LL;
    return rest[0] == '+' ? ms - off : ms + off;
  }
  return std::nullopt;
}

class TestFileParser {
 public:
  TestFileParser(const std::string& path, const TestRulesOptions& options)
      : options_(options), sink_(path, "") {}

  std::optional<TestFile> Parse(const std::string& text, std::vector<std::string>& errors) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      errors.push_back(
          fmt::format("{}:{}:{}: {}", sink_.file(), e.mark.line + 1, e.mark.column + 1, e.msg));
      return std::nullopt;
    }
    TestFile file;
    {
      config::MapReader map(root, "rule test file", sink_);
      map.Read("rule_files", file.rule_files);
      util::Duration d{0};
      if (map.Read("evaluation_interval", d) && d.count() != 0)
        file.evaluation_interval = d.count();
      map.Read("group_eval_order", file.group_eval_order);
      if (options_.semantics.durations_as_numbers) map.Read("fuzzy_compare", file.fuzzy_compare);
      if (auto tests = map.Get("tests")) {
        config::ForEachItem(*tests, sink_, [&](const YAML::Node& t) { ReadGroup(t, file); });
      }
    }
    for (const auto& e : sink_.SortedErrors()) {
      if (options_.ignore_unknown_fields && e.message.starts_with("unknown field")) continue;
      errors.push_back(e.ToString());
    }
    if (!errors.empty()) return std::nullopt;
    return file;
  }

 private:
  void ReadGroup(const YAML::Node& node, TestFile& file) {
    config::MapReader map(node, "test group", sink_);
    if (!map.is_map()) return;
    TestGroup g;
    map.Read("name", g.name);
    util::Duration d{0};
    if (map.Read("interval", d)) g.interval = d.count();
    map.Read("external_labels", g.external_labels);
    map.Read("external_url", g.external_url);
    if (options_.semantics.durations_as_numbers) {
      std::string start;
      if (map.Read("start_timestamp", start)) {
        if (auto ms = ParseStartTimestamp(start)) {
          g.start_ms = *ms;
        } else {
          sink_.Addf(*map.KeyMark("start_timestamp"), "invalid start_timestamp \"{}\"", start);
        }
      }
    }
    if (auto series = map.Get("input_series")) {
      config::ForEachItem(*series, sink_, [&](const YAML::Node& s) {
        config::MapReader sm(s, "input series", sink_);
        SeriesInput in;
        sm.Read("series", in.series);
        sm.Read("values", in.values);
        g.input_series.push_back(std::move(in));
      });
    }
    if (auto alerts = map.Get("alert_rule_test")) {
      config::ForEachItem(*alerts, sink_, [&](const YAML::Node& a) {
        config::MapReader am(a, "alert rule test", sink_);
        AlertTest t;
        if (am.Read("eval_time", d)) t.eval_time = d.count();
        am.Read("alertname", t.alertname);
        if (auto exp = am.Get("exp_alerts")) {
          config::ForEachItem(*exp, sink_, [&](const YAML::Node& e) {
            config::MapReader em(e, "expected alert", sink_);
            ExpAlert ea;
            std::map<std::string, std::string> labels;
            em.Read("exp_labels", labels);
            em.Read("exp_annotations", ea.annotations);
            model::LabelsBuilder b;
            for (const auto& [k, v] : labels) b.Set(k, v);
            b.Set("alertname", t.alertname);
            ea.labels = b.Build();
            t.exp_alerts.push_back(std::move(ea));
          });
        }
        g.alert_tests.push_back(std::move(t));
      });
    }
    if (auto exprs = map.Get("promql_expr_test")) {
      config::ForEachItem(*exprs, sink_, [&](const YAML::Node& e) {
        config::MapReader em(e, "promql expression test", sink_);
        ExprTest t;
        em.Read("expr", t.expr);
        if (em.Read("eval_time", d)) t.eval_time = d.count();
        if (auto samples = em.Get("exp_samples")) {
          config::ForEachItem(*samples, sink_, [&](const YAML::Node& s) {
            config::MapReader sm(s, "expected sample", sink_);
            ExpSample es;
            sm.Read("labels", es.labels);
            if (auto v = sm.Get("value")) {
              if (auto f = ParseFloatNode(*v, sink_)) es.value = *f;
            }
            t.exp_samples.push_back(std::move(es));
          });
        }
        g.expr_tests.push_back(std::move(t));
      });
    }
    file.tests.push_back(std::move(g));
  }

  const TestRulesOptions& options_;
  config::YamlErrorSink sink_;
};

// filepath.Join(filepath.Dir(test_file), pattern) as promtool resolves rule files.
std::string ResolveRelative(const std::string& test_file, const std::string& pattern) {
  if (!pattern.empty() && pattern.front() == '/') return pattern;
  size_t slash = test_file.rfind('/');
  if (slash == std::string::npos) return pattern;
  return test_file.substr(0, slash + 1) + pattern;
}

struct GotAlert {
  model::Labels labels;
  Annotations annotations;
  friend auto operator<=>(const GotAlert&, const GotAlert&) = default;
};

std::string AlertsString(const std::vector<GotAlert>& alerts) {
  // labelsAndAnnotations.String() indented by indentLines(..., 12 spaces).
  if (alerts.empty()) return "[]";
  const std::string indent(12, ' ');
  std::string s = "[\n" + indent + "0:";
  for (size_t i = 0; i < alerts.size(); ++i) {
    if (i > 0) s += ",\n" + indent + std::to_string(i) + ":";
    s += "\n" + indent + "  Labels:" + GoLabels(alerts[i].labels) + "\n" + indent +
         "  Annotations:" + GoMap(alerts[i].annotations);
  }
  s += "\n" + indent + "]";
  return s;
}

struct ParsedSample {
  model::Labels labels;
  double value = 0;
};

std::string SamplesString(const std::vector<ParsedSample>& samples) {
  if (samples.empty()) return "nil";
  std::string s;
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i > 0) s += ", ";
    s += GoLabels(samples[i].labels) + " " + GoFloatE(samples[i].value);
  }
  return s;
}

bool SameSamples(const std::vector<ParsedSample>& a, const std::vector<ParsedSample>& b,
                 bool fuzzy) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].labels != b[i].labels) return false;
    // reflect.DeepEqual on float64: NaN never equals.
    const double x = a[i].value, y = b[i].value;
    if (x == y) continue;
    if (fuzzy && (std::nextafter(x, -HUGE_VAL) == y || std::nextafter(x, HUGE_VAL) == y)) continue;
    return false;
  }
  return true;
}

std::vector<std::string> RunGroup(const std::string& test_file, const TestFile& file,
                                  const TestGroup& tg, const TestRulesOptions& options) {
  const bool v2 = !options.semantics.durations_as_numbers;
  int64_t interval = tg.interval;
  if (interval == 0 && !v2) interval = file.evaluation_interval;
  // promtool 2.42 has no default: with interval 0 every sample lands at the
  // start time and the first one of each series wins.
  if (interval < 0) return {"interval of a test group must not be negative"};

  store::Store store(store::StoreOptions{.retention = std::chrono::hours(24 * 365 * 100)});
  for (const auto& in : tg.input_series) {
    auto labels = promql::ParseSeriesLabels(in.series);
    if (!labels) {
      // promtool parses the series and its values as one line ("load" syntax),
      // so its error position counts from the start of that line.
      auto line = promql::ParseSeriesLabels(in.series + " " + in.values);
      return {line ? labels.error().message : line.error().message};
    }
    auto points = promqltest::ExpandSeriesValues(in.values);
    if (!points) return {points.error().message};
    for (size_t i = 0; i < points->size(); ++i) {
      if ((*points)[i].omitted) continue;
      int64_t t = tg.start_ms + static_cast<int64_t>(i) * interval;
      auto r = store.Append(*labels, t, (*points)[i].value);
      if (!r && interval != 0) return {r.error().message};
    }
  }

  std::vector<std::string> patterns;
  for (const auto& f : file.rule_files) patterns.push_back(ResolveRelative(test_file, f));
  ruler::RuleFileResult loaded = ruler::LoadRuleFiles(
      patterns, "",
      {.semantics = options.semantics, .ignore_unknown_fields = options.ignore_unknown_fields});
  if (!loaded.ok()) return loaded.errors;
  std::vector<std::unique_ptr<ruler::RuleGroup>> groups;
  for (auto& spec : loaded.groups) {
    ruler::GroupOptions go;
    go.interval = util::Duration(interval);
    go.template_context = {tg.external_labels, tg.external_url, v2};
    groups.push_back(std::make_unique<ruler::RuleGroup>(std::move(spec), std::move(go)));
  }
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < file.group_eval_order.size(); ++i) order[file.group_eval_order[i]] = i;
  std::stable_sort(groups.begin(), groups.end(), [&](const auto& a, const auto& b) {
    return order[a->name()] < order[b->name()];
  });
  for (auto& g : groups) {
    for (auto& r : g->rules()) {
      if (r.alerting) r.alerting->SetRestored(true);
    }
  }

  promql::EngineOptions eo;
  eo.semantics = options.semantics;
  promql::Engine engine(eo);
  ruler::EvalDeps deps{engine, store, store, nullptr, nullptr};

  const int64_t mint = tg.start_ms;
  int64_t max_eval = 0;
  for (const auto& a : tg.alert_tests) max_eval = std::max(max_eval, a.eval_time);
  for (const auto& e : tg.expr_tests) max_eval = std::max(max_eval, e.eval_time);
  const int64_t maxt = mint + max_eval;

  std::map<int64_t, std::vector<const AlertTest*>> alert_tests;
  for (const auto& a : tg.alert_tests) {
    if (a.alertname.empty()) {
      std::string in_group = tg.name.empty() ? "" : fmt::format(" (in TestGroup {})", tg.name);
      return {
          fmt::format("an item under alert_rule_test misses required attribute alertname at "
                      "eval_time {}{}",
                      util::FormatDuration(util::Duration(a.eval_time)), in_group)};
    }
    alert_tests[a.eval_time].push_back(&a);
  }
  auto next_alert = alert_tests.begin();

  std::vector<std::string> errs;
  const int64_t step = file.evaluation_interval;
  for (int64_t ts = mint; ts <= maxt; ts += step) {
    std::vector<std::string> eval_errs;
    for (auto& g : groups) {
      g->Eval(ts, deps);
      for (const auto& r : g->rules()) {
        ruler::RuleStatus st = r.status();
        if (st.health == ruler::RuleHealth::kErr) {
          eval_errs.push_back(fmt::format("    rule: {}, time: {}, err: {}", r.name(),
                                          GoDuration(ts), st.last_error));
        }
      }
    }
    errs.insert(errs.end(), eval_errs.begin(), eval_errs.end());
    if (!eval_errs.empty()) return errs;

    while (next_alert != alert_tests.end() && ts - mint <= next_alert->first &&
           next_alert->first < ts + step - mint) {
      std::map<std::string, std::vector<GotAlert>> got;
      std::set<std::string> wanted;
      for (const AlertTest* t : next_alert->second) wanted.insert(t->alertname);
      for (const auto& g : groups) {
        for (const auto& r : g->rules()) {
          if (!r.alerting || !wanted.contains(r.name())) continue;
          auto& list = got[r.name()];
          for (const auto& a : r.alerting->ActiveAlerts()) {
            if (a.state == ruler::AlertState::kFiring) list.push_back({a.labels, a.annotations});
          }
        }
      }
      for (const AlertTest* t : next_alert->second) {
        std::vector<GotAlert> got_alerts = got[t->alertname];
        std::vector<GotAlert> exp;
        for (const auto& e : t->exp_alerts) exp.push_back({e.labels, e.annotations});
        std::sort(got_alerts.begin(), got_alerts.end());
        std::sort(exp.begin(), exp.end());
        if (exp != got_alerts) {
          std::string name = tg.name.empty() ? "" : fmt::format("    name: {},\n", tg.name);
          errs.push_back(
              fmt::format("{}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}", name,
                          t->alertname, util::FormatDuration(util::Duration(t->eval_time)),
                          AlertsString(exp), AlertsString(got_alerts)));
        }
      }
      ++next_alert;
    }
  }

  for (const auto& t : tg.expr_tests) {
    const std::string time = util::FormatDuration(util::Duration(t.eval_time));
    auto expr = promql::ParseExpr(t.expr, {.semantics = options.semantics});
    util::Result<promql::Vector> got = tl::unexpected(util::Error{});
    if (!expr) {
      got = tl::unexpected(expr.error());
    } else {
      auto value = engine.InstantQuery(store, **expr, mint + t.eval_time);
      if (!value) {
        got = tl::unexpected(value.error());
      } else if (auto* vec = std::get_if<promql::Vector>(&*value)) {
        got = std::move(*vec);
      } else if (auto* scalar = std::get_if<promql::Scalar>(&*value)) {
        got = promql::Vector{promql::Sample{.labels = {}, .v = scalar->v, .t = scalar->t}};
      } else {
        got = util::Fail("rule result is not a vector or scalar");
      }
    }
    if (!got) {
      errs.push_back(fmt::format("    expr: {}, time: {}, err: {}", GoQuote(t.expr), time,
                                 got.error().message));
      continue;
    }
    std::vector<ParsedSample> got_samples;
    for (const auto& s : *got) got_samples.push_back({s.labels, s.v});
    std::vector<ParsedSample> exp_samples;
    bool bad = false;
    for (const auto& s : t.exp_samples) {
      std::string_view text = s.labels;
      model::Labels labels;
      if (text.find_first_not_of(" \t") != std::string_view::npos) {
        auto parsed = promql::ParseSeriesLabels(text);
        if (!parsed) {
          errs.push_back(fmt::format("    expr: {}, time: {}, err: labels {}: {}", GoQuote(t.expr),
                                     time, GoQuote(s.labels), parsed.error().message));
          bad = true;
          break;
        }
        labels = *parsed;
      }
      exp_samples.push_back({labels, s.value});
    }
    if (bad) continue;
    auto by_labels = [](const ParsedSample& a, const ParsedSample& b) {
      return a.labels < b.labels;
    };
    std::sort(exp_samples.begin(), exp_samples.end(), by_labels);
    std::sort(got_samples.begin(), got_samples.end(), by_labels);
    if (!SameSamples(exp_samples, got_samples, file.fuzzy_compare)) {
      errs.push_back(fmt::format("    expr: {}, time: {},\n        exp: {}\n        got: {}",
                                 GoQuote(t.expr), time, SamplesString(exp_samples),
                                 SamplesString(got_samples)));
    }
  }
  return errs;
}

std::vector<std::string> RunFile(const std::string& path, const TestRulesOptions& options) {
  std::ifstream in(path);
  if (!in) return {fmt::format("open {}: no such file or directory", path)};
  std::stringstream buf;
  buf << in.rdbuf();
  std::vector<std::string> errors;
  TestFileParser parser(path, options);
  std::optional<TestFile> file = parser.Parse(buf.str(), errors);
  if (!file) return errors;
  std::vector<std::unique_ptr<RE2>> run;
  for (const auto& r : options.run) {
    run.push_back(std::make_unique<RE2>(r));
    if (!run.back()->ok())
      return {fmt::format("invalid --run regex \"{}\": {}", r, run.back()->error())};
  }
  for (const auto& tg : file->tests) {
    if (!run.empty() && std::none_of(run.begin(), run.end(), [&](const auto& re) {
          return RE2::PartialMatch(tg.name, *re);
        })) {
      continue;
    }
    auto errs = RunGroup(path, *file, tg, options);
    errors.insert(errors.end(), errs.begin(), errs.end());
  }
  return errors;
}

}  // namespace

int TestRules(const std::vector<std::string>& files, const TestRulesOptions& options,
              std::ostream& out, std::ostream& err) {
  bool failed = false;
  for (const auto& f : files) {
    out << "Unit Testing:  " << f << "\n";
    std::vector<std::string> errs = RunFile(f, options);
    if (!errs.empty()) {
      err << "  FAILED:\n";
      for (const auto& e : errs) {
        err << e << "\n";
        out << "\n";
      }
      failed = true;
    } else {
      out << "  SUCCESS\n";
    }
    out << "\n";
  }
  out.flush();
  err.flush();
  return failed ? 1 : 0;
}

int CheckRules(const std::vector<std::string>& files, const promql::Semantics& semantics,
               std::ostream& out, std::ostream& err) {
  bool failed = false;
  for (const auto& f : files) {
    out << "Checking " << f << "\n";
    ruler::RuleFileResult result =
        ruler::LoadRuleFile(f, {.semantics = semantics, .ignore_unknown_fields = false});
    if (!result.ok()) {
      err << "  FAILED:\n";
      for (const auto& e : result.errors) err << e << "\n";
      failed = true;
      out << "\n";
      continue;
    }
    // Lint: rules with the same name and labels (promtool's checkDuplicates).
    std::vector<std::pair<std::string, model::Labels>> rules;
    size_t count = 0;
    for (const auto& g : result.groups) {
      for (const auto& r : g.rules) rules.emplace_back(r.name(), r.labels);
      count += g.rules.size();
    }
    std::sort(rules.begin(), rules.end());
    std::vector<std::pair<std::string, model::Labels>> duplicates;
    for (size_t i = 1; i < rules.size(); ++i) {
      if (rules[i] == rules[i - 1] && (duplicates.empty() || duplicates.back() != rules[i])) {
        duplicates.push_back(rules[i]);
      }
    }
    if (!duplicates.empty()) {
      err << "  FAILED:\n";
      err << "lint error " << duplicates.size() << " duplicate rule(s) found.\n";
      for (const auto& [name, labels] : duplicates) {
        err << "Metric: " << name << "\nLabel(s):\n";
        for (const auto& l : labels) err << "\t" << l.name << ": " << l.value << "\n";
      }
      err << "Might cause inconsistency while recording expressions\n";
    } else {
      out << "  SUCCESS: " << count << " rules found\n";
    }
    out << "\n";
  }
  out.flush();
  err.flush();
  return failed ? 1 : 0;
}

}  // namespace vigil::ruletest
