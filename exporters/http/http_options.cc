#include "exporters/http/http_options.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>
#include <string_view>

#include "daemon/config/units.h"

namespace vigil::http {
namespace {

constexpr std::array<std::string_view, 4> kHttpVersions = {"HTTP/1.0", "HTTP/1.1", "HTTP/2.0",
                                                           "HTTP/3.0"};

// A regexp list; invalid entries are reported at their position.
std::vector<Regexp> ParseRegexps(const YAML::Node& node, config::YamlErrorSink& errors) {
  std::vector<Regexp> out;
  config::ForEachItem(node, errors, [&](const YAML::Node& item) {
    auto text = config::ParseString(item, errors);
    if (!text) return;
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const re2::RE2>(*text, options);
    if (!re->ok()) {
      errors.Addf(item.Mark(), "invalid regexp \"{}\": {}", *text, re->error());
      return;
    }
    out.push_back(Regexp{*text, std::move(re)});
  });
  return out;
}

std::vector<HeaderMatch> ParseHeaderMatches(const YAML::Node& node, std::string_view key,
                                            config::YamlErrorSink& errors) {
  std::vector<HeaderMatch> out;
  config::ForEachItem(node, errors, [&](const YAML::Node& item) {
    size_t before = errors.size();
    config::MapReader map(item, std::string(key), errors);
    HeaderMatch match;
    if (map.Require("header")) map.Read("header", match.header);
    std::string regexp;
    std::optional<YAML::Mark> regexp_mark;
    if (map.Require("regexp")) {
      regexp_mark = map.Get("regexp")->Mark();
      map.Read("regexp", regexp);
    }
    map.Read("allow_missing", match.allow_missing);
    map.Finish();
    if (errors.size() != before) return;
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<const re2::RE2>(regexp, options);
    if (!re->ok()) {
      errors.Addf(*regexp_mark, "invalid regexp \"{}\": {}", regexp, re->error());
      return;
    }
    match.regexp = Regexp{regexp, std::move(re)};
    out.push_back(std::move(match));
  });
  return out;
}

std::vector<JsonAssertion> ParseAssertions(const YAML::Node& node, config::YamlErrorSink& errors) {
  std::vector<JsonAssertion> out;
  config::ForEachItem(node, errors, [&](const YAML::Node& item) {
    auto text = config::ParseString(item, errors);
    if (!text) return;
    auto assertion = JsonAssertion::Parse(*text);
    if (!assertion) {
      errors.Add(item.Mark(), assertion.error().message);
      return;
    }
    out.push_back(*std::move(assertion));
  });
  return out;
}

bool IsToken(std::string_view method) {
  return !method.empty() && std::all_of(method.begin(), method.end(), [](unsigned char c) {
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

void EmitRegexps(YAML::Emitter& out, const char* key, const std::vector<Regexp>& regexps) {
  if (regexps.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
  for (const Regexp& r : regexps) out << r.text;
  out << YAML::EndSeq;
}

void EmitHeaderMatches(YAML::Emitter& out, const char* key,
                       const std::vector<HeaderMatch>& matches) {
  if (matches.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
  for (const HeaderMatch& m : matches) {
    out << YAML::BeginMap << YAML::Key << "header" << YAML::Value << m.header;
    out << YAML::Key << "regexp" << YAML::Value << m.regexp.text;
    out << YAML::Key << "allow_missing" << YAML::Value << m.allow_missing << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

void EmitAssertions(YAML::Emitter& out, const char* key,
                    const std::vector<JsonAssertion>& assertions) {
  if (assertions.empty()) return;
  out << YAML::Key << key << YAML::Value << YAML::BeginSeq;
  for (const JsonAssertion& a : assertions) out << a.text();
  out << YAML::EndSeq;
}

}  // namespace

std::shared_ptr<const config::ProberOptions> ParseHttpProbeOptions(const YAML::Node& node,
                                                                   config::YamlErrorSink& errors) {
  size_t before = errors.size();
  auto options = std::make_shared<HttpProbeOptions>();
  {
    config::MapReader map(node, "http prober", errors);
    if (auto codes = map.Get("valid_status_codes")) {
      config::ForEachItem(*codes, errors, [&](const YAML::Node& item) {
        auto code = config::ParseUint(item, errors);
        if (code && (*code < 100 || *code > 599)) {
          errors.Addf(item.Mark(), "invalid status code {} (must be 100-599)", *code);
        } else if (code) {
          options->valid_status_codes.push_back(static_cast<int>(*code));
        }
      });
    }
    if (auto versions = map.Get("valid_http_versions")) {
      config::ForEachItem(*versions, errors, [&](const YAML::Node& item) {
        auto version = config::ParseString(item, errors);
        if (!version) return;
        std::string name = *version == "HTTP/2" ? "HTTP/2.0" : *version;
        if (std::find(kHttpVersions.begin(), kHttpVersions.end(), name) == kHttpVersions.end()) {
          errors.Addf(item.Mark(), "unknown HTTP version \"{}\" (known: {})", *version,
                      fmt::join(kHttpVersions, ", "));
          return;
        }
        options->valid_http_versions.push_back(std::move(name));
      });
    }
    if (auto method = map.Get("method")) {
      auto text = config::ParseString(*method, errors);
      if (text && !IsToken(*text)) {
        errors.Addf(method->Mark(), "invalid HTTP method \"{}\"", *text);
      } else if (text) {
        options->method = *text;
      }
    }
    if (auto headers = map.Get("headers")) {
      config::ForEachEntry(
          *headers, errors,
          [&](const std::string& name, const YAML::Node& key_node, const YAML::Node& value) {
            auto text = config::ParseString(value, errors);
            if (!IsToken(name)) {
              errors.Addf(key_node.Mark(), "invalid header name \"{}\"", name);
            } else if (text) {
              options->headers[name] = *text;
            }
          });
    }
    map.Read("body", options->body);
    std::optional<YAML::Mark> follow_mark = map.KeyMark("follow_redirects");
    config::ReadHttpClientConfig(map, options->http);
    if (auto no_follow = map.Get("no_follow_redirects")) {
      bool value = false;
      if (map.Read("no_follow_redirects", value)) {
        if (follow_mark) {
          errors.Add(*map.KeyMark("no_follow_redirects"),
                     "at most one of follow_redirects & no_follow_redirects must be configured");
        } else {
          options->http.follow_redirects = !value;
        }
      }
    }
    map.Read("fail_if_ssl", options->fail_if_ssl);
    map.Read("fail_if_not_ssl", options->fail_if_not_ssl);
    if (options->fail_if_ssl && options->fail_if_not_ssl) {
      errors.Add(*map.KeyMark("fail_if_not_ssl"),
                 "fail_if_ssl and fail_if_not_ssl cannot both be true");
    }
    if (auto n = map.Get("fail_if_body_matches_regexp")) {
      options->fail_if_body_matches_regexp = ParseRegexps(*n, errors);
    }
    if (auto n = map.Get("fail_if_body_not_matches_regexp")) {
      options->fail_if_body_not_matches_regexp = ParseRegexps(*n, errors);
    }
    if (auto n = map.Get("fail_if_header_matches")) {
      options->fail_if_header_matches = ParseHeaderMatches(*n, "fail_if_header_matches", errors);
    }
    if (auto n = map.Get("fail_if_header_not_matches")) {
      options->fail_if_header_not_matches =
          ParseHeaderMatches(*n, "fail_if_header_not_matches", errors);
    }
    if (auto n = map.Get("fail_if_body_json_matches")) {
      options->fail_if_body_json_matches = ParseAssertions(*n, errors);
    }
    if (auto n = map.Get("fail_if_body_json_not_matches")) {
      options->fail_if_body_json_not_matches = ParseAssertions(*n, errors);
    }
    if (auto protocol = map.Get("preferred_ip_protocol")) {
      auto text = config::ParseString(*protocol, errors);
      if (text && *text != "ip4" && *text != "ip6") {
        errors.Addf(protocol->Mark(),
                    "preferred_ip_protocol must be \"ip4\" or \"ip6\", got \"{}\"", *text);
      } else if (text) {
        options->preferred_ip_protocol = *text;
      }
    }
    map.Read("ip_protocol_fallback", options->ip_protocol_fallback);
    map.ReadByteSize("body_size_limit", options->body_size_limit);
  }  // ~MapReader reports unknown keys
  if (errors.size() != before) return nullptr;
  return options;
}

void HttpProbeOptions::EmitYaml(YAML::Emitter& out) const {
  out << YAML::BeginMap;
  out << YAML::Key << "method" << YAML::Value << method;
  if (!valid_status_codes.empty()) {
    out << YAML::Key << "valid_status_codes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (int code : valid_status_codes) out << code;
    out << YAML::EndSeq;
  }
  if (!valid_http_versions.empty()) {
    out << YAML::Key << "valid_http_versions" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const std::string& version : valid_http_versions) out << version;
    out << YAML::EndSeq;
  }
  if (!headers.empty()) {
    out << YAML::Key << "headers" << YAML::Value << YAML::BeginMap;
    for (const auto& [name, value] : headers) out << YAML::Key << name << YAML::Value << value;
    out << YAML::EndMap;
  }
  if (!body.empty()) out << YAML::Key << "body" << YAML::Value << body;
  config::EmitHttpClientConfig(out, http);
  out << YAML::Key << "fail_if_ssl" << YAML::Value << fail_if_ssl;
  out << YAML::Key << "fail_if_not_ssl" << YAML::Value << fail_if_not_ssl;
  EmitRegexps(out, "fail_if_body_matches_regexp", fail_if_body_matches_regexp);
  EmitRegexps(out, "fail_if_body_not_matches_regexp", fail_if_body_not_matches_regexp);
  EmitHeaderMatches(out, "fail_if_header_matches", fail_if_header_matches);
  EmitHeaderMatches(out, "fail_if_header_not_matches", fail_if_header_not_matches);
  EmitAssertions(out, "fail_if_body_json_matches", fail_if_body_json_matches);
  EmitAssertions(out, "fail_if_body_json_not_matches", fail_if_body_json_not_matches);
  out << YAML::Key << "preferred_ip_protocol" << YAML::Value << preferred_ip_protocol;
  out << YAML::Key << "ip_protocol_fallback" << YAML::Value << ip_protocol_fallback;
  if (body_size_limit != 0) {
    out << YAML::Key << "body_size_limit" << YAML::Value << config::FormatByteSize(body_size_limit);
  }
  out << YAML::EndMap;
}

}  // namespace vigil::http
