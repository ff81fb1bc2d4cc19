#pragma once

#include <string>
#include <string_view>

#include "daemon/util/result.h"

namespace vigil::web {

// Compresses `data` into a gzip stream (RFC 1952) with zlib. Thread-safe.
util::Result<std::string> GzipCompress(std::string_view data);
// Inverse of GzipCompress; used by tests and by clients that receive gzip.
util::Result<std::string> GzipDecompress(std::string_view data);

// True when an Accept-Encoding header value allows gzip ("gzip", "gzip;q=0.5",
// "*"), and not when it says "gzip;q=0".
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace vigil::web
