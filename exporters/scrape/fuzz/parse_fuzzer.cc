// libFuzzer target: arbitrary bytes through both parsers and the Ingester.
// Checks, beyond "no crash": every sample has a non-empty metric name and
// label names, an error always carries a "line N: " prefix or is the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "daemon/model/storage.h"
#include "exporters/scrape/ingester.h"
#include "exporters/scrape/parser.h"

namespace {

using vigil::scrape::Format;

class CheckingSink : public vigil::scrape::SampleSink {
 public:
  vigil::util::Result<void> OnSample(const vigil::scrape::ParsedSample& sample) override {
    if (sample.metric_name.empty() || sample.series.size() < sample.metric_name.size()) abort();
    for (const auto& label : sample.labels) {
      if (label.name.empty()) abort();
      // Touch every byte so ASan sees a dangling view.
      for (char c : label.value) checksum_ += static_cast<unsigned char>(c);
    }
    return {};
  }
  unsigned checksum_ = 0;
};

class NullAppender : public vigil::model::Appender {
 public:
  vigil::util::Result<void> Append(const vigil::model::Labels& labels, int64_t, double) override {
    if (labels.MetricName().empty()) abort();
    return {};
  }
};

void CheckError(const vigil::util::Error& error) {
  if (error.message.rfind("line ", 0) != 0 && error.message != "sample limit exceeded") abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  for (Format format : {Format::kPrometheusText, Format::kOpenMetrics}) {
    CheckingSink sink;
    if (auto r = vigil::scrape::Parse(body, format, sink); !r) CheckError(r.error());
  }
  vigil::scrape::IngesterOptions options;
  options.target_labels = vigil::model::Labels{{"instance", "a:1"}, {"job", "j"}};
  options.sample_limit = 1000;
  vigil::scrape::Ingester ingester(options);
  NullAppender appender;
  const Format format = size % 2 == 0 ? Format::kPrometheusText : Format::kOpenMetrics;
  for (int64_t t : {1000, 2000}) {
    if (auto r = ingester.Ingest(body, format, t, appender); !r) CheckError(r.error());
  }
  ingester.MarkAllStale(3000, appender);
  return 0;
}
