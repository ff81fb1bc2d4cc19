#pragma once

#include <string>

#include "daemon/util/result.h"

namespace vigil::config {

// Secret is a password or token given inline (`password:`), by file
// (`password_file:`) or by environment variable (`password_env:`). The value is
// read from the file or environment on every Resolve() call, so rotating a
// secret file needs no reload. There is deliberately no operator<< and no fmt
// formatter: to show a secret use Describe(), which never contains the value.
// A value type; thread-compatible (Resolve() on a const Secret is thread-safe).
class Secret {
 public:
  enum class Source { kNone, kInline, kFile, kEnv };

  Secret() = default;
  static Secret Inline(std::string value);
  static Secret FromFile(std::string path);     // path as it will be opened
  static Secret FromEnv(std::string variable);  // environment variable name

  bool Empty() const { return source_ == Source::kNone; }
  Source source() const { return source_; }
  // The file path (kFile) or variable name (kEnv); "" for kInline and kNone, so
  // that it is safe to print.
  const std::string& reference() const;

  // "<secret>" for an inline value, "file:/path", "env:NAME", "" when empty.
  std::string Describe() const;

  // The secret's current value: the inline text; the file's contents with
  // surrounding whitespace trimmed (as Prometheus does); the variable's value.
  // "" when Empty(). Fails when the file cannot be read or the variable is unset;
  // the message names the file or variable, never the value.
  util::Result<std::string> Resolve() const;

 private:
  Secret(Source source, std::string data) : source_(source), data_(std::move(data)) {}
  Source source_ = Source::kNone;
  std::string data_;  // the value, path or variable name, by source_
};

}  // namespace vigil::config
