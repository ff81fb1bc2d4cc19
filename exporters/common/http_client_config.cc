#include "exporters/common/http_client_config.h"

namespace vigil::exporters {

util::Result<void> ApplyHttpClientConfig(const config::HttpClientConfig& client,
                                         net::HttpRequest& request) {
  if (client.basic_auth) {
    auto password = client.basic_auth->password.Resolve();
    if (!password) return tl::unexpected(password.error());
    request.basic_auth = net::BasicCredentials{client.basic_auth->username, *password};
  }
  if (!client.authorization_credentials.Empty()) {
    auto credentials = client.authorization_credentials.Resolve();
    if (!credentials) return tl::unexpected(credentials.error());
    request.headers.emplace_back("Authorization",
                                 client.authorization_type + " " + *credentials);
  }
  const config::TlsConfig& tls = client.tls_config;
  request.tls.ca_file = tls.ca_file;
  request.tls.cert_file = tls.cert_file;
  request.tls.key_file = tls.key_file;
  request.tls.server_name = tls.server_name;
  request.tls.insecure_skip_verify = tls.insecure_skip_verify;
  request.tls.min_version = tls.min_version;
  request.follow_redirects = client.follow_redirects;
  request.enable_http2 = client.enable_http2;
  request.proxy_url = client.proxy_url;
  return {};
}

}  // namespace vigil::exporters
