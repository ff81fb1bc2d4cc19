#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::web {

// Request is what a handler sees of one HTTP request: decoded path and query
// parameters, headers (names lower-cased) and the body.
struct Request {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;    // in order, URL-decoded
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // The first query parameter / header with this name, or "" when absent.
  std::string_view Param(std::string_view name) const;
  std::string_view Header(std::string_view lowercase_name) const;
};

// Response is what a handler returns. The server adds Content-Length, gzip
// (when the client accepts it) and connection handling.
struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Text(int status, std::string body) {
    return Response{status, "text/plain; charset=utf-8", std::move(body), {}};
  }
};

// Splits "a=1&b=x%20y" into decoded pairs ('+' means space, as in forms).
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);
// Decodes %XX escapes; returns the input unchanged where an escape is malformed.
std::string UrlDecode(std::string_view in, bool plus_is_space);

}  // namespace vigil::web
