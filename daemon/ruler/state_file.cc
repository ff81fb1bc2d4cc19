#include "daemon/ruler/state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace vigil::ruler {
namespace {

constexpr int kVersion = 1;

AlertState StateFromName(const std::string& s) {
  if (s == "firing") return AlertState::kFiring;
  if (s == "pending") return AlertState::kPending;
  return AlertState::kInactive;
}

}  // namespace

util::Result<void> SaveState(const std::string& path, const SavedState& state) {
  nlohmann::json groups = nlohmann::json::object();
  for (const auto& [group, rules] : state) {
    nlohmann::json jrules = nlohmann::json::object();
    for (const auto& [rule, alerts] : rules) {
      nlohmann::json jalerts = nlohmann::json::array();
      for (const auto& a : alerts) {
        nlohmann::json labels = nlohmann::json::object();
        for (const auto& l : a.labels) labels[l.name] = l.value;
        jalerts.push_back({{"labels", labels},
                           {"state", std::string(AlertStateName(a.state))},
                           {"active_at_ms", a.active_at},
                           {"last_seen_at_ms", a.last_seen_at},
                           {"last_sent_at_ms", a.last_sent_at}});
      }
      jrules[rule] = std::move(jalerts);
    }
    groups[group] = std::move(jrules);
  }
  const std::string text = nlohmann::json{{"version", kVersion}, {"groups", groups}}.dump();
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return util::Fail("{}: open: {}", tmp, std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return util::Fail("{}: write: {}", tmp, std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return util::Fail("{}: fsync: {}", tmp, std::strerror(e));
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return util::Fail("{}: rename: {}", path, std::strerror(errno));
  }
  return {};
}

util::Result<SavedState> LoadState(const std::string& path) {
  std::ifstream in(path);
  if (!in) return SavedState{};
  std::stringstream buf;
  buf << in.rdbuf();
  try {
    nlohmann::json doc = nlohmann::json::parse(buf.str());
    if (doc.at("version").get<int>() != kVersion) {
      return util::Fail("{}: invalid alert state: unknown version {}", path,
                        doc.at("version").dump());
    }
    SavedState state;
    for (const auto& [group, rules] : doc.at("groups").items()) {
      for (const auto& [rule, alerts] : rules.items()) {
        auto& list = state[group][rule];
        for (const auto& a : alerts) {
          SavedAlert s;
          model::LabelsBuilder b;
          for (const auto& [k, v] : a.at("labels").items()) b.Set(k, v.get<std::string>());
          s.labels = b.Build();
          s.state = StateFromName(a.at("state").get<std::string>());
          s.active_at = a.at("active_at_ms").get<int64_t>();
          s.last_seen_at = a.at("last_seen_at_ms").get<int64_t>();
          s.last_sent_at = a.at("last_sent_at_ms").get<int64_t>();
          list.push_back(std::move(s));
        }
      }
    }
    return state;
  } catch (const nlohmann::json::exception& e) {
    return util::Fail("{}: invalid alert state: {}", path, e.what());
  }
}

}  // namespace vigil::ruler
