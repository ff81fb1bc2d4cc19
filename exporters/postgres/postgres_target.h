#pragma once

#include <map>
#include <string>
#include <string_view>

#include "daemon/util/result.h"

namespace vigil::exporters::postgres {

// libpq connection keywords and their values ("host" -> "db1", "port" -> "5432").
using ConnParams = std::map<std::string, std::string>;

// Parses a probe target into libpq keywords, with libpq's own parser for:
//   postgresql://[user[:password]@]host[:port][/dbname][?param=value&...]  (also postgres://)
//   host=... port=... dbname=... (a keyword/value DSN)
// and by hand for:
//   host:port[/dbname], host[/dbname]    (IPv6 as [::1]:5432)
// Only keywords the target sets are returned. Errors never contain a password.
util::Result<ConnParams> ParsePostgresTarget(std::string_view target);

// A libpq keyword/value connection string, every value single-quoted with \ and '
// escaped, keywords in sorted order.
std::string BuildConnInfo(const ConnParams& params);

// "host:port/dbname" from the parameters (libpq's defaults where absent), without
// credentials: safe to log and show.
std::string DisplayName(const ConnParams& params);

}  // namespace vigil::exporters::postgres
