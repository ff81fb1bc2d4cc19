#include "daemon/util/log.h"

#include <atomic>
#include <chrono>

#include <fmt/chrono.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace vigil::util::log {
namespace {

std::atomic<Format> g_format{Format::kLogfmt};

bool NeedsQuoting(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) {
      return true;
    }
  }
  return false;
}

void AppendQuoted(std::string& out, std::string_view v) {
  out += '"';
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void AppendLogfmt(std::string& out, std::string_view key, std::string_view value) {
  if (!out.empty()) out += ' ';
  out += key;
  out += '=';
  if (NeedsQuoting(value)) {
    AppendQuoted(out, value);
  } else {
    out += value;
  }
}

void AppendJson(std::string& out, std::string_view key, std::string_view value) {
  if (out.size() > 1) out += ",";
  AppendQuoted(out, key);
  out += ':';
  AppendQuoted(out, value);
}

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    default: return "error";
  }
}

std::string NowRfc3339() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(now)), ms.count());
}

}  // namespace

std::string Render(Format format, std::string_view timestamp, std::string_view level,
                   std::string_view msg, std::initializer_list<Field> fields) {
  std::string out;
  if (format == Format::kJson) {
    out = "{";
    AppendJson(out, "ts", timestamp);
    AppendJson(out, "level", level);
    AppendJson(out, "msg", msg);
    for (const auto& f : fields) AppendJson(out, f.key, f.value);
    out += '}';
  } else {
    AppendLogfmt(out, "ts", timestamp);
    AppendLogfmt(out, "level", level);
    AppendLogfmt(out, "msg", msg);
    for (const auto& f : fields) AppendLogfmt(out, f.key, f.value);
  }
  return out;
}

Result<void> Configure(std::string_view level, std::string_view format) {
  spdlog::level::level_enum lvl;
  if (level == "debug") {
    lvl = spdlog::level::debug;
  } else if (level == "info") {
    lvl = spdlog::level::info;
  } else if (level == "warn") {
    lvl = spdlog::level::warn;
  } else if (level == "error") {
    lvl = spdlog::level::err;
  } else {
    return Fail("unrecognized log level \"{}\" (want debug, info, warn or error)", level);
  }
  Format fmt_value;
  if (format == "logfmt") {
    fmt_value = Format::kLogfmt;
  } else if (format == "json") {
    fmt_value = Format::kJson;
  } else {
    return Fail("unrecognized log format \"{}\" (want logfmt or json)", format);
  }
  auto logger = spdlog::stderr_logger_mt("vigil");
  spdlog::drop("vigil");
  logger->set_pattern("%v");
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  g_format.store(fmt_value);
  return {};
}

void Write(spdlog::level::level_enum level, std::string_view msg,
           std::initializer_list<Field> fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  logger->log(level, "{}", Render(g_format.load(), NowRfc3339(), LevelName(level), msg, fields));
}

}  // namespace vigil::util::log
