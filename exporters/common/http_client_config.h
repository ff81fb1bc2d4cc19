#pragma once

#include "daemon/config/config.h"
#include "daemon/net/http.h"
#include "daemon/util/result.h"

namespace vigil::exporters {

// Applies Prometheus's HTTP client settings (basic_auth, authorization /
// bearer token, tls_config, follow_redirects, enable_http2, proxy_url) to a
// request. Secrets are resolved now, so a rotated password file takes effect
// at the next request. Fails, naming the file or variable but never the value,
// when a secret cannot be read.
util::Result<void> ApplyHttpClientConfig(const config::HttpClientConfig& client,
                                         net::HttpRequest& request);

}  // namespace vigil::exporters
