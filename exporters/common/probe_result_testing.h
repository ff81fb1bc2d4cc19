#pragma once

// Test helpers for probe kinds: run one probe, read a value from its result.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "exporters/common/prober.h"

namespace vigil::exporters::probe_testing {

// The family `name` of `result`, or nullptr.
inline const prometheus::MetricFamily* FindFamily(const ProbeResult& result,
                                                  std::string_view name) {
  for (const auto& family : result.families) {
    if (family.name == name) return &family;
  }
  return nullptr;
}

// The value of the first series of `name` carrying every label of `labels`.
inline std::optional<double> SampleValue(const ProbeResult& result, std::string_view name,
                                         const std::map<std::string, std::string>& labels = {}) {
  const prometheus::MetricFamily* family = FindFamily(result, name);
  if (family == nullptr) return std::nullopt;
  for (const auto& metric : family->metric) {
    size_t matched = 0;
    for (const auto& label : metric.label) {
      auto it = labels.find(label.name);
      if (it != labels.end() && it->second == label.value) ++matched;
    }
    if (matched != labels.size()) continue;
    return family->type == prometheus::MetricType::Counter ? metric.counter.value
                                                           : metric.gauge.value;
  }
  return std::nullopt;
}

// Runs one probe on a fresh loop until the loop has nothing left to do (a
// call that outlived its probe included); `elapsed` is how long Probe()
// itself took.
inline ProbeResult RunProbe(TargetProber& prober, std::chrono::milliseconds timeout,
                            std::chrono::steady_clock::duration* elapsed = nullptr) {
  boost::asio::io_context io;
  ProbeResult result;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto start = std::chrono::steady_clock::now();
        result = co_await prober.Probe(timeout);
        if (elapsed != nullptr) *elapsed = std::chrono::steady_clock::now() - start;
      },
      boost::asio::detached);
  io.run();
  return result;
}

}  // namespace vigil::exporters::probe_testing
