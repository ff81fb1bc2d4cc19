// libFuzzer target: parsing any text must fail cleanly or succeed, never crash;
// what parses is executed too, with a query callback returning one sample.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/template/template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tmpl = vigil::tmpl::Template::Parse("fuzz", text);
  if (!tmpl) return 0;
  // Execution of arbitrary templates may loop ({{range 1000000000}}), so only
  // short inputs without range are executed.
  if (size > 256 || text.find("range") != std::string_view::npos) return 0;
  vigil::tmpl::AlertTemplateData d;
  d.labels = vigil::model::Labels{{"instance", "host:9100"}, {"job", "node"}};
  d.value = 1.5;
  vigil::tmpl::QueryFunc q =
      [](const std::string&) -> vigil::util::Result<std::vector<vigil::tmpl::QueryResult>> {
    return std::vector<vigil::tmpl::QueryResult>{{vigil::model::Labels{{"a", "b"}}, 2}};
  };
  (void)tmpl->Execute(d, q);
  return 0;
}
