#include "exporters/common/reconnect_backoff.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace vigil::exporters {
namespace {

struct Read {
  util::Duration backoff{1000};
  util::Duration backoff_max{60000};
  std::vector<std::string> errors;
};

Read ReadFrom(const std::string& yaml) {
  Read read;
  config::YamlErrorSink sink("m.yml", "");
  {
    config::MapReader map(YAML::Load(yaml), "redis prober", sink);
    ReadReconnectBackoff(map, read.backoff, read.backoff_max);
  }
  for (const config::ConfigError& e : sink.SortedErrors()) read.errors.push_back(e.ToString());
  return read;
}

TEST(ReadReconnectBackoffTest, AbsentKeysKeepTheDefaults) {
  Read read = ReadFrom("{}");
  EXPECT_EQ(read.backoff.count(), 1000);
  EXPECT_EQ(read.backoff_max.count(), 60000);
  EXPECT_TRUE(read.errors.empty());
}

TEST(ReadReconnectBackoffTest, ReadsBoth) {
  Read read = ReadFrom("reconnect_backoff: 250ms\nreconnect_backoff_max: 30s\n");
  EXPECT_EQ(read.backoff.count(), 250);
  EXPECT_EQ(read.backoff_max.count(), 30000);
  EXPECT_TRUE(read.errors.empty());
}

TEST(ReadReconnectBackoffTest, ZeroBackoffIsAnErrorAtItsValue) {
  Read read = ReadFrom("reconnect_backoff_max: 1m\nreconnect_backoff: 0s\n");
  EXPECT_EQ(read.errors,
            (std::vector<std::string>{"m.yml:2:20: reconnect_backoff must be greater than 0"}));
}

TEST(ReadReconnectBackoffTest, MaxBelowBackoffIsAnErrorAtTheMaxKey) {
  Read read = ReadFrom("reconnect_backoff: 2m\nreconnect_backoff_max: 1m\n");
  EXPECT_EQ(read.errors, (std::vector<std::string>{
                             "m.yml:2:1: reconnect_backoff_max (1m) is less than "
                             "reconnect_backoff (2m)"}));
  // Against the default maximum too, reported at the map when the key is absent.
  Read against_default = ReadFrom("reconnect_backoff: 2m\n");
  EXPECT_EQ(against_default.errors, (std::vector<std::string>{
                                        "m.yml:1:1: reconnect_backoff_max (1m) is less than "
                                        "reconnect_backoff (2m)"}));
}

}  // namespace
}  // namespace vigil::exporters
