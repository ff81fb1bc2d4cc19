#include "daemon/ruler/api.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "daemon/promql/parser.h"
#include "daemon/store/store.h"

namespace vigil::ruler {
namespace {

RuleSpec Spec(std::string alert, std::string record, std::string expr) {
  RuleSpec r;
  r.alert = std::move(alert);
  r.record = std::move(record);
  r.expr_text = std::move(expr);
  r.expr = std::shared_ptr<const promql::Expr>(promql::ParseExpr(r.expr_text).value());
  return r;
}

TEST(RulesApiJson, PrometheusShape) {
  GroupSpec spec;
  spec.name = "g";
  spec.file = "rules.yml";
  RuleSpec alert = Spec("Down", "", "up==0");
  alert.for_duration = util::Duration(300000);
  alert.labels = model::Labels{{"severity", "page"}};
  alert.annotations = {{"summary", "{{ $labels.job }} down"}};
  spec.rules = {alert, Spec("", "job:up:sum", "sum by (job) (up)")};
  auto group = std::make_shared<RuleGroup>(spec, GroupOptions{});
  store::Store store;
  promql::Engine engine;
  ASSERT_TRUE(store.Append(model::Labels{{"__name__", "up"}, {"job", "api"}}, 1'700'000'000'000, 0)
                  .has_value());
  group->Eval(1'700'000'000'250, EvalDeps{engine, store, store, nullptr, nullptr});

  auto body = nlohmann::json::parse(RulesApiJson({group}));
  EXPECT_EQ(body["status"], "success");
  const auto& g = body["data"]["groups"][0];
  EXPECT_EQ(g["name"], "g");
  EXPECT_EQ(g["file"], "rules.yml");
  EXPECT_EQ(g["interval"], 60.0);
  EXPECT_EQ(g["limit"], 0);
  EXPECT_EQ(g["lastEvaluation"], "2023-11-14T22:13:20.25Z");
  const auto& a = g["rules"][0];
  EXPECT_EQ(a["type"], "alerting");
  EXPECT_EQ(a["state"], "pending");
  EXPECT_EQ(a["query"], "up == 0");
  EXPECT_EQ(a["duration"], 300.0);
  EXPECT_EQ(a["health"], "ok");
  EXPECT_FALSE(a.contains("lastError"));
  EXPECT_EQ(a["labels"], (nlohmann::json{{"severity", "page"}}));
  EXPECT_EQ(a["alerts"][0]["labels"],
            (nlohmann::json{{"alertname", "Down"}, {"job", "api"}, {"severity", "page"}}));
  EXPECT_EQ(a["alerts"][0]["annotations"], (nlohmann::json{{"summary", "api down"}}));
  EXPECT_EQ(a["alerts"][0]["activeAt"], "2023-11-14T22:13:20.25Z");
  EXPECT_EQ(a["alerts"][0]["value"], "0e+00");
  EXPECT_EQ(g["rules"][1]["type"], "recording");
  EXPECT_EQ(g["rules"][1]["query"], "sum by (job) (up)");

  body = nlohmann::json::parse(RulesApiJson({group}, "record"));
  ASSERT_EQ(body["data"]["groups"][0]["rules"].size(), 1u);
  EXPECT_EQ(body["data"]["groups"][0]["rules"][0]["name"], "job:up:sum");
  EXPECT_EQ(FormatRfc3339(kUnset), "0001-01-01T00:00:00Z");
}

}  // namespace
}  // namespace vigil::ruler
