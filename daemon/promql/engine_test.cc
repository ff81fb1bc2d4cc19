#include "daemon/promql/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "daemon/model/sample.h"
#include "daemon/promql/parser.h"
#include "daemon/store/store.h"

namespace vigil::promql {
namespace {

constexpr int64_t kMinute = 60000;

class EngineTest : public ::testing::Test {
 protected:
  void Add(const model::Labels& labels, int64_t t, double v) {
    ASSERT_TRUE(store_.Append(labels, t, v));
  }

  // Evaluates `query` at `t` and renders the result as "labels value; ...".
  std::string Instant(std::string_view query, int64_t t, const Engine& engine) {
    auto expr = ParseExpr(query, ParseOptions{engine.options().semantics});
    if (!expr) return "parse error: " + expr.error().message;
    auto res = engine.InstantQuery(store_, **expr, t);
    if (!res) return "error: " + res.error().message;
    if (auto* s = std::get_if<Scalar>(&*res)) return "scalar " + FormatNumber(s->v);
    if (auto* s = std::get_if<String>(&*res)) return "string " + s->v;
    std::string out;
    if (auto* v = std::get_if<Vector>(&*res)) {
      for (const auto& s : *v) out += s.labels.ToString() + " " + FormatNumber(s.v) + "; ";
      return out;
    }
    for (const auto& s : std::get<Matrix>(*res)) {
      out += s.labels.ToString() + " [";
      for (const auto& p : s.points) out += FormatNumber(p.v) + "@" + std::to_string(p.t) + " ";
      out += "]; ";
    }
    return out;
  }
  std::string Instant(std::string_view query, int64_t t) { return Instant(query, t, v3_); }

  store::Store store_;
  Engine v3_{EngineOptions{}};
  Engine v2_{EngineOptions{.semantics = Semantics::V2()}};
};

TEST_F(EngineTest, LookbackAndStaleness) {
  model::Labels x{{"__name__", "x"}};
  Add(x, 0, 1);
  Add(x, 2 * kMinute, 2);
  Add(x, 3 * kMinute, model::StaleNaN());
  EXPECT_EQ(Instant("x", kMinute), "x 1; ");
  EXPECT_EQ(Instant("x", 2 * kMinute + 1), "x 2; ");
  EXPECT_EQ(Instant("x", 3 * kMinute), "");  // stale marker hides the series
  EXPECT_EQ(Instant("x", -1), "");
  // The left edge of the 5m lookback: excluded in 3.x, included in 2.x.
  Add(model::Labels{{"__name__", "y"}}, 0, 7);
  EXPECT_EQ(Instant("y", 5 * kMinute), "");
  EXPECT_EQ(Instant("y", 5 * kMinute, v2_), "y 7; ");
  EXPECT_EQ(Instant("y offset 1m", 6 * kMinute, v2_), "y 7; ");
  EXPECT_EQ(Instant("y @ 0", 100 * kMinute), "y 7; ");
}

TEST_F(EngineTest, RateExtrapolationAndCounterResets) {
  model::Labels c{{"__name__", "c_total"}, {"job", "a"}};
  // 0, 10, 20, reset to 5, 15 every 1m.
  double values[] = {0, 10, 20, 5, 15};
  for (int i = 0; i < 5; ++i) Add(c, i * kMinute, values[i]);
  // increase over [0, 4m] = 20 + 15 = 35 with samples spanning the window;
  // the 3.x window (0, 4m] starts after the first sample.
  EXPECT_EQ(Instant("increase(c_total[4m])", 4 * kMinute, v2_), "{job=\"a\"} 35; ");
  EXPECT_EQ(Instant("increase(c_total[4m])", 4 * kMinute), "{job=\"a\"} 33.33333333333333; ");
  EXPECT_EQ(Instant("rate(c_total[5m])", 4 * kMinute, v2_), "{job=\"a\"} 0.11666666666666667; ");
  EXPECT_EQ(Instant("resets(c_total[5m])", 4 * kMinute), "{job=\"a\"} 1; ");
  EXPECT_EQ(Instant("irate(c_total[5m])", 4 * kMinute), "{job=\"a\"} 0.16666666666666666; ");
  EXPECT_EQ(Instant("delta(c_total[5m])", 4 * kMinute, v2_), "{job=\"a\"} 18.75; ");
}

TEST_F(EngineTest, VersionDifferencesInWindowsAndRate) {
  // Counter first seen 2m into the window: 3.x applies the 1.1x-average
  // threshold before the zero clamp, 2.x after it.
  model::Labels c{{"__name__", "c_total"}};
  for (int i = 0; i < 4; ++i) Add(c, (2 + i) * kMinute, 10.0 * (i + 1));
  EXPECT_EQ(Instant("increase(c_total[5m])", 5 * kMinute), "{} 35; ");
  EXPECT_EQ(Instant("increase(c_total[5m])", 5 * kMinute, v2_), "{} 40; ");
  // Subquery grid: (t-5m, t] has 4 of the 1m steps with data, [t-5m, t] the
  // same 4 plus the step at 0 which has none; at 6m the left edge differs.
  EXPECT_EQ(Instant("count_over_time(c_total[4m:1m])", 6 * kMinute), "{} 4; ");
  EXPECT_EQ(Instant("count_over_time(c_total[4m:1m])", 6 * kMinute, v2_), "{} 5; ");
  EXPECT_EQ(Instant("count_over_time(c_total[3m])", 5 * kMinute), "{} 3; ");
  EXPECT_EQ(Instant("count_over_time(c_total[3m])", 5 * kMinute, v2_), "{} 4; ");
  // atan2 keeps the metric name in 2.x only.
  EXPECT_EQ(Instant("c_total atan2 c_total", 2 * kMinute), "{} 0.7853981633974483; ");
  EXPECT_EQ(Instant("c_total atan2 c_total", 2 * kMinute, v2_), "c_total 0.7853981633974483; ");
}

TEST_F(EngineTest, AggregationAndMatching) {
  for (int i = 0; i < 4; ++i) {
    Add(
        model::Labels{
            {"__name__", "up"}, {"job", i < 2 ? "a" : "b"}, {"instance", std::to_string(i)}},
        0, i);
  }
  Add(model::Labels{{"__name__", "limit"}, {"job", "a"}}, 0, 10);
  Add(model::Labels{{"__name__", "limit"}, {"job", "b"}}, 0, 100);
  EXPECT_EQ(Instant("sum by (job) (up)", 0), "{job=\"a\"} 1; {job=\"b\"} 5; ");
  EXPECT_EQ(Instant("count without (instance) (up)", 0), "{job=\"a\"} 2; {job=\"b\"} 2; ");
  EXPECT_EQ(Instant("topk(1, up)", 0), "up{instance=\"3\", job=\"b\"} 3; ");
  EXPECT_EQ(Instant("quantile(0.5, up)", 0), "{} 1.5; ");
  EXPECT_EQ(Instant("stddev(up)", 0), "{} 1.118033988749895; ");
  EXPECT_EQ(Instant("count_values(\"v\", up)", 0),
            "{v=\"0\"} 1; {v=\"1\"} 1; {v=\"2\"} 1; {v=\"3\"} 1; ");
  EXPECT_EQ(Instant("up / on (job) group_left limit", 0),
            "{instance=\"0\", job=\"a\"} 0; {instance=\"1\", job=\"a\"} 0.1; "
            "{instance=\"2\", job=\"b\"} 0.02; {instance=\"3\", job=\"b\"} 0.03; ");
  EXPECT_EQ(Instant("up > 1", 0),
            "up{instance=\"2\", job=\"b\"} 2; up{instance=\"3\", job=\"b\"} 3; ");
  EXPECT_EQ(Instant("up == bool 1", 0),
            "{instance=\"0\", job=\"a\"} 0; {instance=\"1\", job=\"a\"} 1; "
            "{instance=\"2\", job=\"b\"} 0; {instance=\"3\", job=\"b\"} 0; ");
  EXPECT_EQ(Instant("limit / on (job) up", 0),
            "error: found duplicate series for the match group {job=\"a\"} on the right hand-side "
            "of the operation: [{__name__=\"up\", instance=\"0\", job=\"a\"}, {__name__=\"up\", "
            "instance=\"1\", job=\"a\"}];many-to-many matching not allowed: matching labels must "
            "be unique on one side");
  EXPECT_EQ(Instant("up / on (job) limit", 0),
            "error: multiple matches for labels: many-to-one matching must be explicit "
            "(group_left/group_right)");
  EXPECT_EQ(Instant("limit unless on (job) up{job=\"a\"}", 0), "limit{job=\"b\"} 100; ");
  EXPECT_EQ(Instant("count_values(\"a\\xc5z\", up)", 0), "error: invalid label name \"a\\xc5z\"");
  EXPECT_EQ(Instant("topk(NaN, up)", 0), "error: Parameter value is NaN");
  EXPECT_EQ(Instant("sum(up) + 1", 0), "{} 7; ");
  EXPECT_EQ(Instant("scalar(sum(up)) * 2", 0), "scalar 12");
}

TEST_F(EngineTest, DelayedNameRemovalIn3x) {
  Add(model::Labels{{"__name__", "a_total"}, {"env", "1"}}, 0, 1);
  Add(model::Labels{{"__name__", "b_total"}, {"env", "1"}}, 0, 2);
  // 2.x drops the names inside the query and then sees two equal label sets.
  EXPECT_EQ(Instant("sum by (env) (abs({env=\"1\"}))", 0, v2_),
            "error: vector cannot contain metrics with the same labelset");
  EXPECT_EQ(Instant("sum by (env) (abs({env=\"1\"}))", 0), "{env=\"1\"} 3; ");
  EXPECT_EQ(Instant("label_replace(abs({env=\"1\"}), \"n\", \"$1\", \"__name__\", \"(.)_.*\")", 0),
            "{env=\"1\", n=\"a\"} 1; {env=\"1\", n=\"b\"} 2; ");
  EXPECT_EQ(Instant("abs({env=\"1\"})", 0),
            "error: vector cannot contain metrics with the same labelset");
}

TEST_F(EngineTest, FunctionsAndSubqueries) {
  model::Labels g{{"__name__", "g"}};
  for (int i = 0; i <= 10; ++i) Add(g, i * kMinute, i * 2.0);
  EXPECT_EQ(Instant("deriv(g[5m])", 10 * kMinute), "{} 0.03333333333333333; ");
  EXPECT_EQ(Instant("predict_linear(g[5m], 60)", 10 * kMinute), "{} 22; ");
  EXPECT_EQ(Instant("max_over_time(g[10m:2m])", 9 * kMinute), "{} 16; ");
  EXPECT_EQ(Instant("sum_over_time(g[3m])", 10 * kMinute), "{} 54; ");
  EXPECT_EQ(Instant("last_over_time(g[3m])", 10 * kMinute), "g 20; ");
  EXPECT_EQ(Instant("quantile_over_time(0.5, g[4m])", 10 * kMinute), "{} 17; ");
  EXPECT_EQ(Instant("clamp(g, 0, 5)", 10 * kMinute), "{} 5; ");
  EXPECT_EQ(Instant("absent(nope{job=\"x\"})", 0), "{job=\"x\"} 1; ");
  EXPECT_EQ(Instant("label_join(g, \"l\", \"-\", \"__name__\", \"__name__\")", 0),
            "g{l=\"g-g\"} 0; ");
  EXPECT_EQ(Instant("year(vector(86400 * 365))", 0), "{} 1971; ");
  EXPECT_EQ(Instant("g[2m]", 10 * kMinute), "g [18@540000 20@600000 ]; ");
  EXPECT_EQ(Instant("holt_winters(g[5m], 0.5, 0.5)", 10 * kMinute, v2_), "{} 20; ");
  EXPECT_EQ(Instant("\"text\"", 0), "string text");
}

TEST_F(EngineTest, RangeQueryAndAnnotations) {
  model::Labels g{{"__name__", "g"}};
  for (int i = 0; i <= 4; ++i) Add(g, i * kMinute, i);
  auto expr = ParseExpr("sort(g * 2)");
  ASSERT_TRUE(expr);
  std::vector<Annotation> annotations;
  auto m = v3_.RangeQuery(store_, **expr, kMinute, 3 * kMinute, kMinute, &annotations);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ((*m)[0].labels.ToString(), "{}");
  ASSERT_EQ((*m)[0].points.size(), 3u);
  EXPECT_EQ((*m)[0].points[2], (model::Sample{3 * kMinute, 6}));
  ASSERT_EQ(annotations.size(), 1u);
  EXPECT_EQ(FormatAnnotation(annotations[0], "sort(g * 2)"),
            "PromQL warning: sort is ineffective for range queries since results are always "
            "ordered by labels (1:1)");

  auto matrix_expr = ParseExpr("g[1m]");
  ASSERT_TRUE(matrix_expr);
  auto bad = v3_.RangeQuery(store_, **matrix_expr, 0, kMinute, kMinute);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message,
            "invalid expression type \"range vector\" for range query, must be Scalar or instant "
            "Vector");

  auto q = ParseExpr("quantile_over_time(2, g[5m])");
  ASSERT_TRUE(q);
  annotations.clear();
  ASSERT_TRUE(v3_.InstantQuery(store_, **q, kMinute, &annotations));
  ASSERT_EQ(annotations.size(), 1u);
  EXPECT_EQ(FormatAnnotation(annotations[0], "quantile_over_time(2, g[5m])"),
            "PromQL warning: quantile value should be between 0 and 1, got 2 (1:20)");
}

TEST_F(EngineTest, MaxSamplesAndLookback) {
  model::Labels g{{"__name__", "g"}};
  for (int i = 0; i < 100; ++i) Add(g, i * 1000, i);
  Engine small{EngineOptions{.max_samples = 10}};
  EXPECT_EQ(Instant("sum_over_time(g[1m])", 99000, small),
            "error: query processing would load too many samples into memory in query "
            "execution");
  auto expr = ParseExpr("max_over_time(rate(x[5m] offset 1m)[1h:1m]) + y");
  ASSERT_TRUE(expr);
  EXPECT_EQ(MaxLookback(**expr).count(), 3600000 + 300000 + 60000);
}

// Forwards to a store and counts how the engine reads it.
class CountingQuerier final : public model::Querier {
 public:
  explicit CountingQuerier(const model::Querier& inner) : inner_(inner) {}
  std::vector<model::Series> Select(std::span<const model::Matcher> matchers, int64_t mint,
                                    int64_t maxt) const override {
    ++selects;
    return inner_.Select(matchers, mint, maxt);
  }
  void SelectEach(std::span<const model::Matcher> matchers, int64_t mint, int64_t maxt,
                  model::SeriesVisitor& visitor) const override {
    ++streams;
    inner_.SelectEach(matchers, mint, maxt, visitor);
  }
  mutable int selects = 0;
  mutable int streams = 0;

 private:
  const model::Querier& inner_;
};

TEST_F(EngineTest, SelectorsReadOnceAreStreamedAndEqualSelectorsShareOneSelect) {
  for (int i = 0; i < 40; ++i) {
    model::Labels x{{"__name__", "x"},
                    {"job", "j" + std::to_string(i % 3)},
                    {"instance", "h" + std::to_string(i)}};
    for (int k = 0; k <= 10; ++k) {
      Add(x, k * 15000, k == 7 && i % 5 == 0 ? model::StaleNaN() : k * (i + 0.1) + i % 4);
    }
  }
  // {query, Select calls, SelectEach calls} of an instant query at 150s, in
  // 3.x and 2.x semantics (only 2.x for holt_winters).
  struct Case {
    const char* query;
    int selects;
    int streams;
    bool v2_only = false;
  };
  for (const Case& c : {
           Case{"sum by (job) (rate(x[1m]))", 0, 1},
           Case{"avg without (instance) (increase(x[1m]))", 0, 1},
           Case{"count by (job) (last_over_time(x[1m]))", 0, 1},
           Case{"max(delta(x[2m]))", 0, 1},
           Case{"stddev by (job) (quantile_over_time(0.5, x[1m]))", 0, 1},
           Case{"sum by (__name__, job) (rate(x[1m]))", 0, 1},
           Case{"x", 0, 1},
           Case{"x / on (job) group_left sum by (job) (x)", 1, 0},
           Case{"rate(x[1m]) - rate(x[1m] offset 30s)", 1, 0},
           Case{"x + sum_over_time(x[2m])", 0, 2},
           Case{"max_over_time(x[2m:15s])", 1, 0},
           Case{"holt_winters(x[2m], 0.5, 0.5)", 1, 0, true},
       }) {
    for (const Engine* engine : {&v3_, &v2_}) {
      const bool v2 = engine == &v2_;
      if (c.v2_only && !v2) continue;
      const std::string name = std::string(c.query) + (v2 ? " (2.x)" : " (3.x)");
      auto expr = ParseExpr(c.query, ParseOptions{engine->options().semantics});
      ASSERT_TRUE(expr) << name;
      CountingQuerier querier(store_);
      auto instant = engine->InstantQuery(querier, **expr, 150000);
      ASSERT_TRUE(instant) << name << ": " << instant.error().message;
      EXPECT_EQ(querier.selects, c.selects) << name;
      EXPECT_EQ(querier.streams, c.streams) << name;
      // A range query reads every selector once for all steps (Select); its
      // last step must equal the streamed instant result, bit for bit.
      auto range = engine->RangeQuery(store_, **expr, 135000, 150000, 15000);
      ASSERT_TRUE(range) << name << ": " << range.error().message;
      const Vector& vec = std::get<Vector>(*instant);
      std::vector<std::string> from_range;
      for (const Series& s : *range) {
        if (s.points.empty() || s.points.back().t != 150000) continue;
        from_range.push_back(s.labels.ToString() + " " +
                             std::to_string(std::bit_cast<uint64_t>(s.points.back().v)));
      }
      std::vector<std::string> from_instant;
      for (const Sample& s : vec) {
        from_instant.push_back(s.labels.ToString() + " " +
                               std::to_string(std::bit_cast<uint64_t>(s.v)));
      }
      std::sort(from_instant.begin(), from_instant.end());
      EXPECT_EQ(from_instant, from_range) << name;
      EXPECT_FALSE(vec.empty()) << name;
    }
  }
  // j0 holds series 0, 15 and 30, whose stale marker at 105s leaves a 30s
  // span, extrapolated by half an interval only: 18.29 - 1.13.
  EXPECT_EQ(Instant("sum by (job) (rate(x[1m]))", 150000),
            "{job=\"j0\"} 17.160833333333333; {job=\"j1\"} 15.673333333333332; "
            "{job=\"j2\"} 15.912499999999998; ");
  // A querier with only Select gets SelectEach's default (label views over
  // the selected series): the same answers.
  class SelectOnly final : public model::Querier {
   public:
    explicit SelectOnly(const model::Querier& inner) : inner_(inner) {}
    std::vector<model::Series> Select(std::span<const model::Matcher> matchers, int64_t mint,
                                      int64_t maxt) const override {
      return inner_.Select(matchers, mint, maxt);
    }

   private:
    const model::Querier& inner_;
  };
  SelectOnly select_only(store_);
  for (const char* query : {"sum by (job) (rate(x[1m]))", "x", "avg(x)"}) {
    auto expr = ParseExpr(query);
    ASSERT_TRUE(expr) << query;
    auto via_default = v3_.InstantQuery(select_only, **expr, 150000);
    auto via_store = v3_.InstantQuery(store_, **expr, 150000);
    ASSERT_TRUE(via_default && via_store) << query;
    const Vector& a = std::get<Vector>(*via_default);
    const Vector& b = std::get<Vector>(*via_store);
    ASSERT_EQ(a.size(), b.size()) << query;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].labels, b[i].labels) << query;
      EXPECT_EQ(std::bit_cast<uint64_t>(a[i].v), std::bit_cast<uint64_t>(b[i].v)) << query;
    }
  }
  // 2.x checks the function's results before aggregating them: two metrics
  // with the same labels but the name collide.
  Add(model::Labels{{"__name__", "d1"}, {"k", "v"}}, 150000, 1);
  Add(model::Labels{{"__name__", "d2"}, {"k", "v"}}, 150000, 2);
  EXPECT_EQ(Instant("sum(last_over_time({k=\"v\"}[1m]))", 150000, v2_), "{} 3; ");
  EXPECT_EQ(Instant("sum(sum_over_time({k=\"v\"}[1m]))", 150000, v2_),
            "error: vector cannot contain metrics with the same labelset");
  EXPECT_EQ(Instant("sum(sum_over_time({k=\"v\"}[1m]))", 150000, v3_), "{} 3; ");
  // Errors raised while streaming (here the sample limit of a plain
  // selector) end the query like those of loaded selectors.
  Engine small{EngineOptions{.max_samples = 30}};
  EXPECT_EQ(Instant("x", 150000, small),
            "error: query processing would load too many samples into memory in query "
            "execution");
}

}  // namespace
}  // namespace vigil::promql
