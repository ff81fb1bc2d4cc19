#include "daemon/config/secret.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vigil::config {
namespace {

const std::string kEmpty;

std::string_view TrimSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

}  // namespace

Secret Secret::Inline(std::string value) { return Secret(Source::kInline, std::move(value)); }
Secret Secret::FromFile(std::string path) { return Secret(Source::kFile, std::move(path)); }
Secret Secret::FromEnv(std::string variable) { return Secret(Source::kEnv, std::move(variable)); }

const std::string& Secret::reference() const {
  return source_ == Source::kFile || source_ == Source::kEnv ? data_ : kEmpty;
}

std::string Secret::Describe() const {
  switch (source_) {
    case Source::kNone:
      return "";
    case Source::kInline:
      return "<secret>";
    case Source::kFile:
      return "file:" + data_;
    case Source::kEnv:
      return "env:" + data_;
  }
  return "";
}

util::Result<std::string> Secret::Resolve() const {
  switch (source_) {
    case Source::kNone:
      return std::string();
    case Source::kInline:
      return data_;
    case Source::kFile: {
      std::error_code ec;
      if (std::filesystem::is_directory(data_, ec)) {
        return util::Fail("unable to read secret file \"{}\": {}", data_, std::strerror(EISDIR));
      }
      std::ifstream in(data_, std::ios::binary);
      if (!in)
        return util::Fail("unable to read secret file \"{}\": {}", data_, std::strerror(errno));
      std::ostringstream contents;
      contents << in.rdbuf();
      if (in.bad()) return util::Fail("unable to read secret file \"{}\"", data_);
      return std::string(TrimSpace(contents.str()));
    }
    case Source::kEnv: {
      const char* value = std::getenv(data_.c_str());
      if (value == nullptr) return util::Fail("environment variable \"{}\" is not set", data_);
      return std::string(value);
    }
  }
  return std::string();
}

}  // namespace vigil::config
