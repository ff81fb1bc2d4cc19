#include "exporters/common/prober.h"

namespace vigil::exporters {

void ProbeKindRegistry::Register(std::unique_ptr<ProbeKind> kind) {
  std::string name = kind->name();
  kinds_[std::move(name)] = std::move(kind);
}

ProbeKind* ProbeKindRegistry::Find(std::string_view name) const {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : it->second.get();
}

config::ProberRegistry ProbeKindRegistry::ConfigRegistry() const {
  config::ProberRegistry registry;
  for (const auto& [name, kind] : kinds_) {
    ProbeKind* raw = kind.get();
    registry.Register(name, [raw](const YAML::Node& options, config::YamlErrorSink& errors) {
      return raw->ParseOptions(options, errors);
    });
  }
  return registry;
}

}  // namespace vigil::exporters
