#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace vigil::model::detail {

// Md5 returns the RFC 1321 MD5 digest of `data`. Used only by relabeling's
// hashmod action, which must hash exactly as Prometheus does (crypto/md5);
// not for security. Pure function, thread-safe.
std::array<uint8_t, 16> Md5(std::string_view data);

}  // namespace vigil::model::detail
