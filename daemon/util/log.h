#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <spdlog/common.h>

#include "daemon/util/result.h"

namespace vigil::util::log {

// One key/value of a structured log line. Values are formatted with fmt.
struct Field {
  template <typename T>
  Field(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
  std::string_view key;
  std::string value;
};

enum class Format { kLogfmt, kJson };

// Configures the process-wide logger: level is one of debug, info, warn,
// error (Prometheus's set); format is logfmt or json. Output goes to stderr,
// one line per event. Thread-safe after Configure; call Configure first.
Result<void> Configure(std::string_view level, std::string_view format);

// Writes one event. Never pass secrets as fields: nothing here can redact them.
void Write(spdlog::level::level_enum level, std::string_view msg,
           std::initializer_list<Field> fields);

// Renders one event as it would be written (exposed for tests).
std::string Render(Format format, std::string_view timestamp, std::string_view level,
                   std::string_view msg, std::initializer_list<Field> fields);

inline void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(spdlog::level::debug, msg, fields);
}
inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(spdlog::level::info, msg, fields);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(spdlog::level::warn, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(spdlog::level::err, msg, fields);
}

}  // namespace vigil::util::log
