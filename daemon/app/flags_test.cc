#include "daemon/app/flags.h"

#include <gtest/gtest.h>

namespace vigil::app {
namespace {

TEST(ParseCommandLine, DefaultsAndBothFlagForms) {
  auto cl = ParseCommandLine({"vigil", "--config.file=/etc/v.yml", "--web.listen-address",
                              "127.0.0.1:1234", "--log.format=json"})
                .value();
  EXPECT_EQ(cl.command, Command::kRun);
  EXPECT_EQ(cl.flags.config_file, "/etc/v.yml");
  EXPECT_EQ(cl.flags.listen_address, "127.0.0.1:1234");
  EXPECT_EQ(cl.flags.log_format, "json");
  EXPECT_EQ(cl.flags.log_level, "info");
  EXPECT_EQ(cl.flags.state_dir, "data");
  EXPECT_EQ(ParseCommandLine({"vigil"}).value().flags.listen_address, "127.0.0.1:9777");
}

TEST(ParseCommandLine, Subcommands) {
  auto check = ParseCommandLine({"vigil", "check", "config", "a.yml", "b.yml"}).value();
  EXPECT_EQ(check.command, Command::kCheckConfig);
  EXPECT_EQ(check.args, (std::vector<std::string>{"a.yml", "b.yml"}));
  EXPECT_EQ(ParseCommandLine({"vigil", "--version"}).value().command, Command::kVersion);
  auto test = ParseCommandLine({"vigil", "test", "promql", "--promql.semantics=v2", "a.test"}).value();
  EXPECT_EQ(test.command, Command::kTestPromql);
  EXPECT_EQ(test.flags.promql_semantics, "v2");
  EXPECT_EQ(test.args, std::vector<std::string>{"a.test"});
  EXPECT_EQ(ParseCommandLine({"vigil", "check", "config"}).error().message,
            "check config needs at least one FILE");
}

TEST(ParseCommandLine, Errors) {
  EXPECT_EQ(ParseCommandLine({"vigil", "--nope=1"}).error().message, "unknown flag --nope");
  EXPECT_EQ(ParseCommandLine({"vigil", "--config.file"}).error().message,
            "flag --config.file needs a value");
  EXPECT_EQ(ParseCommandLine({"vigil", "frobnicate"}).error().message,
            "unknown command \"frobnicate\" (see --help)");
  EXPECT_EQ(ParseCommandLine({"vigil", "--rules.alert.resend-delay=5x"}).error().message,
            "not a valid duration string: \"5x\"");
  EXPECT_EQ(ParseCommandLine({"vigil", "--promql.semantics=v4"}).error().message,
            "--promql.semantics must be v3 or v2, not \"v4\"");
}

}  // namespace
}  // namespace vigil::app
