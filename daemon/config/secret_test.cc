#include "daemon/config/secret.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace vigil::config {
namespace {

TEST(SecretTest, EmptyByDefault) {
  Secret s;
  EXPECT_TRUE(s.Empty());
  EXPECT_EQ(s.source(), Secret::Source::kNone);
  EXPECT_EQ(s.Describe(), "");
  EXPECT_EQ(s.Resolve().value(), "");
}

TEST(SecretTest, InlineNeverDescribesItsValue) {
  Secret s = Secret::Inline("hunter2");
  EXPECT_FALSE(s.Empty());
  EXPECT_EQ(s.Describe(), "<secret>");
  EXPECT_EQ(s.reference(), "");
  EXPECT_EQ(s.Resolve().value(), "hunter2");
}

TEST(SecretTest, FileIsReadOnEveryResolve) {
  auto path = std::filesystem::path(::testing::TempDir()) /
              ("vigil_secret_test_pw" + std::to_string(getpid()));
  std::ofstream(path) << "  first\n";
  Secret s = Secret::FromFile(path.string());
  EXPECT_EQ(s.Describe(), "file:" + path.string());
  EXPECT_EQ(s.reference(), path.string());
  EXPECT_EQ(s.Resolve().value(), "first");
  std::ofstream(path, std::ios::trunc) << "rotated";
  EXPECT_EQ(s.Resolve().value(), "rotated");
  std::filesystem::remove(path);
  EXPECT_EQ(s.Resolve().error().message,
            "unable to read secret file \"" + path.string() + "\": No such file or directory");
}

TEST(SecretTest, DirectoryIsNotASecretFile) {
  Secret s = Secret::FromFile(::testing::TempDir());
  EXPECT_EQ(s.Resolve().error().message,
            "unable to read secret file \"" + ::testing::TempDir() + "\": Is a directory");
}

TEST(SecretTest, EnvIsReadOnEveryResolve) {
  setenv("VIGIL_SECRET_TEST", "one", 1);
  Secret s = Secret::FromEnv("VIGIL_SECRET_TEST");
  EXPECT_EQ(s.Describe(), "env:VIGIL_SECRET_TEST");
  EXPECT_EQ(s.Resolve().value(), "one");
  setenv("VIGIL_SECRET_TEST", "two", 1);
  EXPECT_EQ(s.Resolve().value(), "two");
  unsetenv("VIGIL_SECRET_TEST");
  EXPECT_EQ(s.Resolve().error().message, "environment variable \"VIGIL_SECRET_TEST\" is not set");
}

}  // namespace
}  // namespace vigil::config
