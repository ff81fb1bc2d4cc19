#include "daemon/model/relabel.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "daemon/model/detail/md5.h"

namespace vigil::model {
namespace {

std::string Hex(const std::array<uint8_t, 16>& digest) {
  std::string out;
  for (uint8_t b : digest) out += fmt::format("{:02x}", b);
  return out;
}

TEST(Md5Test, Rfc1321Vectors) {
  EXPECT_EQ(Hex(detail::Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Hex(detail::Md5("a")), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(Hex(detail::Md5("abc")), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Hex(detail::Md5("message digest")), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(Hex(detail::Md5("abcdefghijklmnopqrstuvwxyz")), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(Hex(detail::Md5("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(Hex(detail::Md5("1234567890123456789012345678901234567890123456789012345678901234567890"
                            "1234567890")),
            "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Md5Test, BlockBoundaries) {
  // 55, 56 and 64 bytes hit the three padding cases (one block, spill, exact).
  EXPECT_EQ(Hex(detail::Md5(std::string(55, 'a'))), "ef1772b6dff9a122358552954ad0df65");
  EXPECT_EQ(Hex(detail::Md5(std::string(56, 'a'))), "3b0c8ac703f828b04c6c197006d17218");
  EXPECT_EQ(Hex(detail::Md5(std::string(64, 'a'))), "014842d480b571495a4a0363793f7367");
}

RelabelConfig Make(RelabelConfig spec) {
  auto made = MakeRelabelConfig(std::move(spec));
  EXPECT_TRUE(made.has_value()) << made.error().message;
  return *made;
}

RelabelConfig Replace(std::vector<std::string> sources, std::string regex, std::string target,
                      std::string replacement) {
  RelabelConfig c;
  c.source_labels = std::move(sources);
  c.regex_text = std::move(regex);
  c.target_label = std::move(target);
  c.replacement = std::move(replacement);
  return Make(std::move(c));
}

RelabelConfig WithAction(RelabelAction action, std::vector<std::string> sources,
                         std::string regex = "(.*)", std::string target = "") {
  RelabelConfig c;
  c.action = action;
  c.source_labels = std::move(sources);
  c.regex_text = std::move(regex);
  c.target_label = std::move(target);
  return Make(std::move(c));
}

std::string Process(const Labels& in, const std::vector<RelabelConfig>& configs) {
  auto out = Relabel(in, configs);
  return out ? out->ToString() : "<dropped>";
}

// The cases below are Prometheus's model/relabel/relabel_test.go TestRelabel.
TEST(RelabelTest, ReplaceWithBraces) {
  Labels in{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}};
  EXPECT_EQ(Process(in, {Replace({"a"}, "f(.*)", "d", "ch${1}-ch${1}")}),
            R"({a="foo", b="bar", c="baz", d="choo-choo"})");
}

TEST(RelabelTest, ReplaceChained) {
  Labels in{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}};
  EXPECT_EQ(Process(in, {Replace({"a", "b"}, "f(.*);(.*)r", "a", "b${1}${2}m"),
                         Replace({"c", "a"}, "(b).*b(.*)ba(.*)", "d", "$1$2$2$3")}),
            R"({a="boobam", b="bar", c="baz", d="boooom"})");
}

TEST(RelabelTest, DropStopsThePipeline) {
  Labels in{{"a", "foo"}};
  EXPECT_EQ(Process(in, {WithAction(RelabelAction::kDrop, {"a"}, ".*o.*"),
                         Replace({"a"}, "f(.*)", "d", "ch$1-ch$1")}),
            "<dropped>");
}

TEST(RelabelTest, ReplaceSingleGroup) {
  EXPECT_EQ(Process(Labels{{"a", "abc"}}, {Replace({"a"}, ".*(b).*", "d", "$1")}),
            R"({a="abc", d="b"})");
}

TEST(RelabelTest, DropIsAnchored) {
  Labels in{{"a", "foo"}};
  EXPECT_EQ(Process(in, {WithAction(RelabelAction::kDrop, {"a"}, "no-match")}), R"({a="foo"})");
  EXPECT_EQ(Process(in, {WithAction(RelabelAction::kDrop, {"a"}, "f|o")}), R"({a="foo"})");
}

TEST(RelabelTest, Keep) {
  Labels in{{"a", "foo"}};
  EXPECT_EQ(Process(in, {WithAction(RelabelAction::kKeep, {"a"}, "no-match")}), "<dropped>");
  EXPECT_EQ(Process(in, {WithAction(RelabelAction::kKeep, {"a"}, "f.*")}), R"({a="foo"})");
}

TEST(RelabelTest, NoMatchNoReplacement) {
  EXPECT_EQ(Process(Labels{{"a", "boo"}}, {Replace({"a"}, "f", "b", "bar")}), R"({a="boo"})");
}

TEST(RelabelTest, HashModMatchesPrometheus) {
  RelabelConfig c;
  c.action = RelabelAction::kHashMod;
  c.source_labels = {"c"};
  c.target_label = "d";
  c.modulus = 1000;
  EXPECT_EQ(Process(Labels{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}}, {Make(c)}),
            R"({a="foo", b="bar", c="baz", d="976"})");
  c.source_labels = {"a"};
  c.target_label = "b";
  EXPECT_EQ(Process(Labels{{"a", "foo\nbar"}}, {Make(c)}), R"({a="foo\nbar", b="734"})");
}

TEST(RelabelTest, LabelMap) {
  RelabelConfig c;
  c.action = RelabelAction::kLabelMap;
  c.regex_text = "(b.*)";
  c.replacement = "bar_${1}";
  EXPECT_EQ(Process(Labels{{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}}, {Make(c)}),
            R"({a="foo", b1="bar", b2="baz", bar_b1="bar", bar_b2="baz"})");
  c.regex_text = "__meta_(my.*)";
  c.replacement = "${1}";
  EXPECT_EQ(Process(Labels{{"a", "foo"},
                           {"__meta_my_bar", "aaa"},
                           {"__meta_my_baz", "bbb"},
                           {"__meta_other", "ccc"}},
                    {Make(c)}),
            R"({__meta_my_bar="aaa", __meta_my_baz="bbb", __meta_other="ccc", a="foo", )"
            R"(my_bar="aaa", my_baz="bbb"})");
}

TEST(RelabelTest, TemplatedTargetLabel) {
  Labels in{{"a", "some-name-value"}};
  EXPECT_EQ(Process(in, {Replace({"a"}, "some-([^-]+)-([^,]+)", "${1}", "${2}")}),
            R"({a="some-name-value", name="value"})");
  // An empty replacement result deletes (here: sets nothing).
  EXPECT_EQ(Process(in, {Replace({"a"}, "some-([^-]+)-([^,]+)", "${1}", "${3}")}),
            R"({a="some-name-value"})");
  // A target that expands to an invalid name ("" or "-0") is skipped.
  Labels zero{{"a", "some-name-0"}};
  EXPECT_EQ(Process(zero, {Replace({"a"}, "some-([^-]+)-([^,]+)", "${3}", "${1}"),
                           Replace({"a"}, "some-([^-]+)(-[^,]+)", "${3}", "${1}")}),
            R"({a="some-name-0"})");
}

TEST(RelabelTest, RealLifeTags) {
  Labels in{{"__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"}};
  EXPECT_EQ(
      Process(in,
              {Replace({"__meta_sd_tags"}, "(?:.+,|^)path:(/[^,]+).*", "__metrics_path__", "${1}"),
               Replace({"__meta_sd_tags"}, "(?:.+,|^)job:([^,]+).*", "job", "${1}"),
               Replace({"__meta_sd_tags"}, "(?:.+,|^)label:([^=]+)=([^,]+).*", "${1}", "${2}")}),
      R"({__meta_sd_tags="path:/secret,job:some-job,label:foo=bar", __metrics_path__="/secret", )"
      R"(foo="bar", job="some-job"})");
}

TEST(RelabelTest, LabelDropThenReplaceThenKeep) {
  // Prometheus issue 12283.
  Labels in{{"__meta_kubernetes_pod_container_port_name", "foo"},
            {"__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"}};
  RelabelConfig drop;
  drop.action = RelabelAction::kLabelDrop;
  drop.regex_text = "^__meta_kubernetes_pod_container_port_name$";
  EXPECT_EQ(Process(in, {Make(drop),
                         Replace({"__meta_kubernetes_pod_annotation_XXX_metrics_port"}, "(.+)",
                                 "__meta_kubernetes_pod_container_port_name", "metrics"),
                         WithAction(RelabelAction::kKeep,
                                    {"__meta_kubernetes_pod_container_port_name"}, "^metrics$")}),
            R"({__meta_kubernetes_pod_annotation_XXX_metrics_port="9091", )"
            R"(__meta_kubernetes_pod_container_port_name="metrics"})");
}

TEST(RelabelTest, LabelKeepAndLabelDrop) {
  Labels in{{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}};
  RelabelConfig c;
  c.action = RelabelAction::kLabelKeep;
  c.regex_text = "(b.*)";
  EXPECT_EQ(Process(in, {Make(c)}), R"({b1="bar", b2="baz"})");
  c.action = RelabelAction::kLabelDrop;
  EXPECT_EQ(Process(in, {Make(c)}), R"({a="foo"})");
}

TEST(RelabelTest, LowercaseAndUppercase) {
  EXPECT_EQ(Process(Labels{{"foo", "bAr123Foo"}},
                    {WithAction(RelabelAction::kUppercase, {"foo"}, "(.*)", "foo_uppercase"),
                     WithAction(RelabelAction::kLowercase, {"foo"}, "(.*)", "foo_lowercase")}),
            R"({foo="bAr123Foo", foo_lowercase="bar123foo", foo_uppercase="BAR123FOO"})");
}

TEST(RelabelTest, KeepEqualAndDropEqual) {
  Labels in{{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}};
  const std::string all = R"({__port1="1234", __port2="5678", __tmp_port="1234"})";
  EXPECT_EQ(Process(in, {WithAction(RelabelAction::kKeepEqual, {"__tmp_port"}, "(.*)", "__port1")}),
            all);
  EXPECT_EQ(Process(in, {WithAction(RelabelAction::kDropEqual, {"__tmp_port"}, "(.*)", "__port1")}),
            "<dropped>");
  EXPECT_EQ(Process(in, {WithAction(RelabelAction::kDropEqual, {"__tmp_port"}, "(.*)", "__port2")}),
            all);
  EXPECT_EQ(Process(in, {WithAction(RelabelAction::kKeepEqual, {"__tmp_port"}, "(.*)", "__port2")}),
            "<dropped>");
}

TEST(RelabelTest, ReplaceDefaultsCopyAndDelete) {
  // Defaults copy the joined source values; an empty result deletes the target.
  Labels in{{"a", "x"}, {"b", "y"}, {"t", "old"}};
  EXPECT_EQ(Process(in, {Replace({"a", "b"}, "(.*)", "t", "$1")}), R"({a="x", b="y", t="x;y"})");
  EXPECT_EQ(Process(in, {Replace({"missing"}, "(.*)", "t", "$1")}), R"({a="x", b="y"})");
  EXPECT_EQ(Process(in, {Replace({}, "(.*)", "fixed", "value")}),
            R"({a="x", b="y", fixed="value", t="old"})");
}

TEST(RelabelTest, ExpandFollowsGoRules) {
  Labels in{{"a", "foo-bar"}};
  // $1x is the (missing) group "1x", not group 1 followed by x.
  EXPECT_EQ(Process(in, {Replace({"a"}, "(\\w+)-(\\w+)", "t", "$1x|${1}x")}),
            R"({a="foo-bar", t="|foox"})");
  // Named groups, `$$`, and a malformed `${` kept literally.
  EXPECT_EQ(Process(in, {Replace({"a"}, "(?P<first>\\w+)-(\\w+)", "t", "$first/$$/${2/$2")}),
            R"({a="foo-bar", t="foo/$/${2/bar"})");
  // Leading zeros are names, not numbers; $0 is the whole match.
  EXPECT_EQ(Process(in, {Replace({"a"}, "(\\w+)-(\\w+)", "t", "[$01][$0]")}),
            R"({a="foo-bar", t="[][foo-bar]"})");
}

TEST(RelabelTest, DotMatchesNewlineByDefault) {
  Labels in{{"a", "x\ny"}};
  EXPECT_EQ(Process(in, {WithAction(RelabelAction::kKeep, {"a"}, "x.y")}), R"({a="x\ny"})");
  RelabelConfig c;
  c.action = RelabelAction::kKeep;
  c.source_labels = {"a"};
  c.regex_text = "x.y";
  auto v2 = MakeRelabelConfig(c, RegexOptions{.dot_matches_newline = false});
  ASSERT_TRUE(v2.has_value());
  EXPECT_EQ(Process(in, {*v2}), "<dropped>");
}

TEST(RelabelTest, ActionNames) {
  EXPECT_EQ(ParseRelabelAction("HashMod"), RelabelAction::kHashMod);
  EXPECT_EQ(ParseRelabelAction("labelkeep"), RelabelAction::kLabelKeep);
  EXPECT_EQ(ParseRelabelAction("nope"), std::nullopt);
  EXPECT_EQ(RelabelActionName(RelabelAction::kDropEqual), "dropequal");
}

TEST(RelabelTest, LabelNameValidity) {
  EXPECT_TRUE(IsValidLabelName("_a1"));
  EXPECT_TRUE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName(""));
  EXPECT_FALSE(IsValidLabelName("1a"));
  EXPECT_FALSE(IsValidLabelName("a-b"));
  EXPECT_FALSE(IsValidLabelName("é"));
}

std::string ValidationError(RelabelConfig c) {
  auto made = MakeRelabelConfig(std::move(c));
  return made ? "ok" : made.error().message;
}

TEST(RelabelValidateTest, MatchesPrometheusMessages) {
  RelabelConfig c;
  EXPECT_EQ(ValidationError(c),
            "relabel configuration for replace action requires 'target_label' value");
  c.action = RelabelAction::kLowercase;
  EXPECT_EQ(ValidationError(c),
            "relabel configuration for lowercase action requires 'target_label' value");
  c.target_label = "${3}";
  EXPECT_EQ(ValidationError(c), "\"${3}\" is invalid 'target_label' for lowercase action");

  RelabelConfig r;
  r.source_labels = {"a"};
  r.regex_text = "some-([^-]+)-([^,]+)";
  r.replacement = "${1}";
  r.target_label = "${3}";
  EXPECT_EQ(ValidationError(r), "ok");
  r.target_label = "0${3}";
  EXPECT_EQ(ValidationError(r), "\"0${3}\" is invalid 'target_label' for replace action");
  r.target_label = "-${3}";
  EXPECT_EQ(ValidationError(r), "\"-${3}\" is invalid 'target_label' for replace action");
  r.target_label = "bad-name";
  EXPECT_EQ(ValidationError(r), "\"bad-name\" is invalid 'target_label' for replace action");

  RelabelConfig h;
  h.action = RelabelAction::kHashMod;
  h.target_label = "shard";
  EXPECT_EQ(ValidationError(h), "relabel configuration for hashmod requires non-zero modulus");
  h.modulus = 4;
  h.target_label = "";
  EXPECT_EQ(ValidationError(h),
            "relabel configuration for hashmod action requires 'target_label' value");

  RelabelConfig u;
  u.action = RelabelAction::kUppercase;
  u.target_label = "up";
  u.replacement = "x";
  EXPECT_EQ(ValidationError(u), "'replacement' can not be set for uppercase action");

  RelabelConfig m;
  m.action = RelabelAction::kLabelMap;
  m.replacement = "not valid";
  EXPECT_EQ(ValidationError(m), "\"not valid\" is invalid 'replacement' for labelmap action");

  RelabelConfig k;
  k.action = RelabelAction::kKeepEqual;
  k.target_label = "t";
  k.separator = ",";
  EXPECT_EQ(ValidationError(k),
            "keepequal action requires only 'source_labels' and `target_label`, and no other "
            "fields");
  k.separator = ";";
  k.regex_text = "x";
  EXPECT_EQ(ValidationError(k),
            "keepequal action requires only 'source_labels' and `target_label`, and no other "
            "fields");

  RelabelConfig d;
  d.action = RelabelAction::kLabelDrop;
  d.regex_text = "tmp_.*";
  EXPECT_EQ(ValidationError(d), "ok");
  d.source_labels = {"a"};
  EXPECT_EQ(ValidationError(d), "labeldrop action requires only 'regex', and no other fields");
}

TEST(RelabelValidateTest, BadRegex) {
  RelabelConfig c;
  c.target_label = "t";
  c.regex_text = "(unclosed";
  EXPECT_EQ(ValidationError(c), "invalid regular expression \"(unclosed\": missing ): (unclosed");
}

TEST(RelabelValidateTest, TemplatedTargetValidity) {
  // Prometheus's TestTargetLabelValidity, through replace's target_label check.
  const std::vector<std::pair<std::string, bool>> cases = {
      {"-label", false}, {"label", true},        {"label${1}", true}, {"${1}label", true},
      {"${1}", true},    {"${", false},          {"$", false},        {"${}", false},
      {"foo${", false},  {"$1", true},           {"asd$2asd", true},  {"-foo${1}bar-", false},
      {"_${1}_", true},  {"foo${bar}foo", true},
  };
  for (const auto& [target, valid] : cases) {
    RelabelConfig c;
    c.target_label = target;
    EXPECT_EQ(ValidationError(c) == "ok", valid) << target;
  }
}

}  // namespace
}  // namespace vigil::model
