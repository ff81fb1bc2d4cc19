// libFuzzer target: arbitrary bytes through both parsers and the Ingester.
// Checks, beyond "no crash": every sample has a non-empty metric name and
// label names, an error always carries a "line N: " prefix or is the limit,
// and a second scrape of the same body (series cached: labels not parsed
// again, appends by ref) appends the same series and values as the first.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

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

// Records "labels value-bits" per append, stale markers included; hands out
// no refs (the default AppendRef).
class RecordingAppender : public vigil::model::Appender {
 public:
  vigil::util::Result<void> Append(const vigil::model::Labels& labels, int64_t, double v) override {
    if (labels.MetricName().empty()) abort();
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    appends.push_back(labels.ToString() + " " + std::to_string(bits));
    return {};
  }
  std::vector<std::string> appends;
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
  const Format format = size % 2 == 0 ? Format::kPrometheusText : Format::kOpenMetrics;
  RecordingAppender first;
  RecordingAppender second;
  auto cold = ingester.Ingest(body, format, 1000, first);
  auto warm = ingester.Ingest(body, format, 2000, second);
  if (cold.has_value() != warm.has_value()) abort();
  if (cold) {
    // Same samples; only the first scrape added series.
    if (warm->series_added != 0 || warm->samples_scraped != cold->samples_scraped ||
        warm->samples_appended != cold->samples_appended || first.appends != second.appends) {
      abort();
    }
  } else {
    CheckError(cold.error());
    if (warm.error().message != cold.error().message) abort();
  }
  ingester.MarkAllStale(3000, second);
  return 0;
}
