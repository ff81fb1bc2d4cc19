#include "daemon/util/log.h"

#include <gtest/gtest.h>

namespace vigil::util::log {
namespace {

TEST(Log, LogfmtQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(Render(Format::kLogfmt, "2026-01-01T00:00:00.000Z", "info", "config loaded",
                   {{"file", "/etc/vigil.yml"}, {"rules", 3}, {"why", "a \"b\"\nc"}}),
            "ts=2026-01-01T00:00:00.000Z level=info msg=\"config loaded\" file=/etc/vigil.yml "
            "rules=3 why=\"a \\\"b\\\"\\nc\"");
}

TEST(Log, JsonEscapes) {
  EXPECT_EQ(Render(Format::kJson, "t", "warn", "x", {{"k", "tab\there"}}),
            R"({"ts":"t","level":"warn","msg":"x","k":"tab\there"})");
}

TEST(Log, ConfigureRejectsUnknownValues) {
  EXPECT_FALSE(Configure("verbose", "logfmt").has_value());
  EXPECT_EQ(Configure("info", "xml").error().message,
            "unrecognized log format \"xml\" (want logfmt or json)");
  EXPECT_TRUE(Configure("debug", "json").has_value());
}

}  // namespace
}  // namespace vigil::util::log
