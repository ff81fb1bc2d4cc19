#include "daemon/config/yaml_reader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace vigil::config {
namespace {

std::vector<std::string> Strings(const YamlErrorSink& sink) {
  std::vector<std::string> out;
  for (const ConfigError& e : sink.SortedErrors()) out.push_back(e.ToString());
  return out;
}

using Lines = std::vector<std::string>;

TEST(YamlReaderTest, ConfigErrorToString) {
  EXPECT_EQ((ConfigError{"a.yml", 3, 7, "boom"}).ToString(), "a.yml:3:7: boom");
  EXPECT_EQ((ConfigError{"a.yml", 0, 0, "unreadable"}).ToString(), "a.yml: unreadable");
}

TEST(YamlReaderTest, MapReaderReadsTypedFieldsAndReportsUnknownKeys) {
  YAML::Node node = YAML::Load(
      "name: web\n"
      "enabled: true\n"
      "count: 42\n"
      "every: 1h30m\n"
      "limit: 2KiB\n"
      "tags: [a, b]\n"
      "headers: {X-A: '1'}\n"
      "labels: {env: prod}\n"
      "unset:\n"
      "mystery: 1\n"
      "other: 2\n");
  YamlErrorSink errors("t.yml", "");
  std::string name;
  bool enabled = false;
  uint64_t count = 0;
  util::Duration every{0};
  uint64_t limit = 0;
  std::vector<std::string> tags;
  std::map<std::string, std::string> headers;
  model::Labels labels;
  std::string unset = "default";
  {
    MapReader map(node, "thing", errors);
    EXPECT_TRUE(map.is_map());
    EXPECT_TRUE(map.Read("name", name));
    EXPECT_TRUE(map.Read("enabled", enabled));
    EXPECT_TRUE(map.Read("count", count));
    EXPECT_TRUE(map.Read("every", every));
    EXPECT_TRUE(map.ReadByteSize("limit", limit));
    EXPECT_TRUE(map.Read("tags", tags));
    EXPECT_TRUE(map.Read("headers", headers));
    EXPECT_TRUE(map.Read("labels", labels));
    EXPECT_FALSE(map.Read("unset", unset));  // null keeps the default
    EXPECT_FALSE(map.Read("absent", unset));
    EXPECT_TRUE(map.KeyMark("unset").has_value());
    EXPECT_FALSE(map.Has("unset"));
  }  // destructor reports the rest
  EXPECT_EQ(name, "web");
  EXPECT_TRUE(enabled);
  EXPECT_EQ(count, 42u);
  EXPECT_EQ(every, std::chrono::minutes(90));
  EXPECT_EQ(limit, 2048u);
  EXPECT_EQ(tags, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(headers, (std::map<std::string, std::string>{{"X-A", "1"}}));
  EXPECT_EQ(labels.ToString(), R"({env="prod"})");
  EXPECT_EQ(unset, "default");
  EXPECT_EQ(Strings(errors), (Lines{"t.yml:10:1: unknown field \"mystery\" in thing",
                                    "t.yml:11:1: unknown field \"other\" in thing"}));
}

TEST(YamlReaderTest, FinishReportsOnce) {
  YAML::Node node = YAML::Load("a: 1\n");
  YamlErrorSink errors("t.yml", "");
  {
    MapReader map(node, "x", errors);
    map.Finish();
    map.Finish();
  }
  EXPECT_EQ(Strings(errors), Lines{"t.yml:1:1: unknown field \"a\" in x"});
}

TEST(YamlReaderTest, TypeErrorsNameTheExpectedType) {
  YAML::Node node = YAML::Load(
      "s: {a: 1}\n"
      "b: yes\n"
      "n: -3\n"
      "d: [1m]\n"
      "l: {a: b}\n"
      "m: [a]\n"
      "big: 99999999999999999999\n");
  YamlErrorSink errors("t.yml", "");
  MapReader map(node, "x", errors);
  std::string s;
  bool b;
  uint64_t n;
  util::Duration d;
  std::vector<std::string> l;
  std::map<std::string, std::string> m;
  uint64_t big;
  EXPECT_FALSE(map.Read("s", s));
  EXPECT_FALSE(map.Read("b", b));
  EXPECT_FALSE(map.Read("n", n));
  EXPECT_FALSE(map.Read("d", d));
  EXPECT_FALSE(map.Read("l", l));
  EXPECT_FALSE(map.Read("m", m));
  EXPECT_FALSE(map.Read("big", big));
  map.Finish();
  EXPECT_EQ(Strings(errors), (Lines{
                                 "t.yml:1:4: expected a string, got a map",
                                 "t.yml:2:4: expected a boolean, got \"yes\"",
                                 "t.yml:3:4: expected a non-negative integer, got \"-3\"",
                                 "t.yml:4:4: expected a duration, got a list",
                                 "t.yml:5:4: expected a list, got a map",
                                 "t.yml:6:4: expected a map, got a list",
                                 "t.yml:7:6: integer out of range: 99999999999999999999",
                             }));
}

TEST(YamlReaderTest, RequireAndNonMapNodes) {
  YamlErrorSink errors("t.yml", "");
  {
    MapReader map(YAML::Load("a: 1\n"), "section", errors);
    EXPECT_TRUE(map.Require("a"));
    EXPECT_FALSE(map.Require("b"));
    map.Get("a");
  }
  {
    MapReader map(YAML::Load("just text"), "section", errors);
    EXPECT_FALSE(map.is_map());
    EXPECT_FALSE(map.Require("b"));  // no second error for a non-map
  }
  {
    MapReader map(YAML::Load("~"), "section", errors);  // null is an empty map
    EXPECT_TRUE(map.is_map());
  }
  EXPECT_EQ(Strings(errors), (Lines{"t.yml:1:1: missing required field \"b\" in section",
                                    "t.yml:1:1: expected a map in section, got a string"}));
}

TEST(YamlReaderTest, ForEachEntryReportsDuplicateAndNonScalarKeys) {
  YamlErrorSink errors("t.yml", "");
  std::vector<std::string> keys;
  ForEachEntry(
      YAML::Load("a: 1\n? [x]\n: 2\na: 3\nb: 4\n"), errors,
      [&](const std::string& key, const YAML::Node&, const YAML::Node&) { keys.push_back(key); });
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Strings(errors), (Lines{"t.yml:2:3: expected a string key, got a list",
                                    "t.yml:4:1: mapping key \"a\" already defined at line 1"}));
}

TEST(YamlReaderTest, LabelsValidateNamesAndDropEmptyValues) {
  YamlErrorSink errors("t.yml", "");
  auto labels = ParseLabels(YAML::Load("{a: x, b: '', c: ~}"), errors);
  ASSERT_TRUE(labels.has_value());
  EXPECT_EQ(labels->ToString(), R"({a="x"})");
  EXPECT_FALSE(ParseLabels(YAML::Load("{ok: x, bad-name: y}"), errors).has_value());
  EXPECT_EQ(Strings(errors), Lines{"t.yml:1:9: \"bad-name\" is not a valid label name"});
}

TEST(YamlReaderTest, ReadSecretForms) {
  auto dir = std::filesystem::path(::testing::TempDir()) /
             ("vigil_yaml_reader_test" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "token") << "tok\n";
  setenv("VIGIL_READER_TEST", "from-env", 1);
  YamlErrorSink errors("t.yml", dir.string());
  Secret inline_secret, file_secret, env_secret, none;
  {
    MapReader map(YAML::Load("a: v\nb_file: token\nc_env: VIGIL_READER_TEST\n"), "x", errors);
    EXPECT_TRUE(map.ReadSecret("a", inline_secret));
    EXPECT_TRUE(map.ReadSecret("b", file_secret));
    EXPECT_TRUE(map.ReadSecret("c", env_secret));
    EXPECT_FALSE(map.ReadSecret("d", none));
  }
  EXPECT_TRUE(errors.empty()) << Strings(errors)[0];
  EXPECT_EQ(inline_secret.Resolve().value(), "v");
  EXPECT_EQ(file_secret.Describe(), "file:" + (dir / "token").string());
  EXPECT_EQ(file_secret.Resolve().value(), "tok");
  EXPECT_EQ(env_secret.Resolve().value(), "from-env");
  EXPECT_TRUE(none.Empty());
  unsetenv("VIGIL_READER_TEST");
  std::filesystem::remove_all(dir);
}

TEST(YamlReaderTest, ResolvePath) {
  YamlErrorSink rooted("t.yml", "/etc/vigil");
  EXPECT_EQ(rooted.ResolvePath("rules/a.yml"), "/etc/vigil/rules/a.yml");
  EXPECT_EQ(rooted.ResolvePath("./b.yml"), "/etc/vigil/b.yml");
  EXPECT_EQ(rooted.ResolvePath("/abs/c.yml"), "/abs/c.yml");
  EXPECT_EQ(rooted.ResolvePath(""), "");
  YamlErrorSink cwd("t.yml", "");
  EXPECT_EQ(cwd.ResolvePath("rules/a.yml"), "rules/a.yml");
}

}  // namespace
}  // namespace vigil::config
