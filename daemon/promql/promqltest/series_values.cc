#include "daemon/promql/promqltest/series_values.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <sstream>
#include <string>

#include "daemon/model/sample.h"

namespace vigil::promqltest {

std::optional<double> ParseSeriesValue(std::string_view token) {
  std::string s(token);
  std::string lower = s;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "stale") return model::StaleNaN();
  if (lower == "inf" || lower == "+inf") return std::numeric_limits<double>::infinity();
  if (lower == "-inf") return -std::numeric_limits<double>::infinity();
  if (lower == "nan" || lower == "+nan" || lower == "-nan") {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

util::Result<std::vector<SeriesPoint>> ExpandSeriesToken(std::string_view tok) {
  std::vector<SeriesPoint> out;
  std::string_view body = tok;
  std::optional<uint64_t> times;
  size_t x = tok.rfind('x');
  if (x != std::string_view::npos && x + 1 < tok.size() &&
      std::all_of(tok.begin() + static_cast<std::ptrdiff_t>(x) + 1, tok.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    times = std::stoull(std::string(tok.substr(x + 1)));
    body = tok.substr(0, x);
  }
  if (body == "_") {
    for (uint64_t i = 0; i < (times ? *times : 1); ++i) out.push_back(SeriesPoint{true, 0});
    return out;
  }
  // Split "a+b" / "a-b": the operator is a sign not at the start and not
  // following an exponent marker.
  size_t op = std::string_view::npos;
  for (size_t i = 1; i < body.size(); ++i) {
    if ((body[i] == '+' || body[i] == '-') && body[i - 1] != 'e' && body[i - 1] != 'E') {
      op = i;
      break;
    }
  }
  auto start = ParseSeriesValue(op == std::string_view::npos ? body : body.substr(0, op));
  if (!start) return util::Fail("invalid value \"{}\"", tok);
  double delta = 0;
  if (op != std::string_view::npos) {
    auto d = ParseSeriesValue(body.substr(op + 1));
    if (!d || !times) return util::Fail("invalid value \"{}\"", tok);
    delta = body[op] == '-' ? -*d : *d;
  }
  double v = *start;
  out.push_back(SeriesPoint{false, v});
  for (uint64_t i = 1; times && i <= *times; ++i) {
    v += delta;
    out.push_back(SeriesPoint{false, v});
  }
  return out;
}

util::Result<std::vector<SeriesPoint>> ExpandSeriesValues(std::string_view values) {
  std::vector<SeriesPoint> out;
  std::istringstream in{std::string(values)};
  std::string tok;
  while (in >> tok) {
    auto points = ExpandSeriesToken(tok);
    if (!points) return tl::unexpected(points.error());
    out.insert(out.end(), points->begin(), points->end());
  }
  return out;
}

}  // namespace vigil::promqltest
