#include "daemon/template/template.h"

#include <fmt/format.h>

#include "daemon/template/detail/exec.h"
#include "daemon/template/detail/funcs.h"
#include "daemon/template/detail/parse.h"
#include "daemon/template/detail/value.h"

namespace vigil::tmpl {
namespace {

std::shared_ptr<const detail::StringMap> ToMap(const model::Labels& labels) {
  detail::StringMap m;
  for (const auto& l : labels) m.emplace(l.name, l.value);
  return std::make_shared<const detail::StringMap>(std::move(m));
}

std::string AlertTemplateName(std::string_view rule_name) {
  return fmt::format("__alert_{}", rule_name);
}

std::string WithDefs(std::string_view text) {
  std::string full(kAlertTemplateDefs);
  full += text;
  return full;
}

}  // namespace

util::Result<Template> Template::Parse(std::string name, std::string_view text,
                                       Dialect dialect) {
  auto trees = detail::Parse(name, text, detail::HasFunc, dialect);
  if (!trees) return tl::unexpected(trees.error());
  return Template(std::move(name), std::move(*trees));
}

util::Result<std::string> Template::Execute(const AlertTemplateData& data,
                                            const QueryFunc& query) const {
  auto d = std::make_shared<detail::AlertDataValue>();
  d->labels = ToMap(data.labels);
  d->external_labels = ToMap(data.external_labels);
  d->external_url = data.external_url;
  d->value = data.value;
  d->value_is_float64 = data.dialect == Dialect::kPrometheus2;
  detail::Value dot;
  dot.kind = detail::Value::Kind::kAlertData;
  dot.data = std::move(d);
  detail::FuncContext ctx{&query, &data.external_url, data.dialect};
  return detail::Execute(*trees_, name_, dot, ctx);
}

std::string ExpandAlertTemplate(std::string_view rule_name, std::string_view text,
                                const AlertTemplateData& data, const QueryFunc& query,
                                bool* failed) {
  std::string name = AlertTemplateName(rule_name);
  if (failed) *failed = true;
  auto tmpl = Template::Parse(name, WithDefs(text), data.dialect);
  if (!tmpl) {
    return fmt::format("<error expanding template: error parsing template {}: {}>", name,
                       tmpl.error().message);
  }
  auto out = tmpl->Execute(data, query);
  if (!out) {
    return fmt::format("<error expanding template: error executing template {}: {}>", name,
                       out.error().message);
  }
  if (failed) *failed = false;
  return std::move(*out);
}

util::Result<void> ParseCheck(std::string_view rule_name, std::string_view text,
                              Dialect dialect) {
  auto tmpl = Template::Parse(AlertTemplateName(rule_name), WithDefs(text), dialect);
  if (!tmpl) return tl::unexpected(tmpl.error());
  return {};
}

}  // namespace vigil::tmpl
