#include "daemon/ruler/templates.h"

#include "daemon/template/template.h"

namespace vigil::ruler {

std::string ExpandRuleTemplate(std::string_view rule_name, std::string_view text,
                               const model::Labels& labels, double value,
                               const TemplateContext& context, const TemplateQueryFunc& query,
                               bool* failed) {
  tmpl::QueryFunc tmpl_query;
  if (query) {
    tmpl_query = [&query](const std::string& q) -> util::Result<std::vector<tmpl::QueryResult>> {
      auto vec = query(q);
      if (!vec) return tl::unexpected(vec.error());
      std::vector<tmpl::QueryResult> out;
      out.reserve(vec->size());
      for (auto& s : *vec) out.push_back(tmpl::QueryResult{std::move(s.labels), s.v});
      return out;
    };
  }
  tmpl::AlertTemplateData data{
      labels, value, context.external_labels, context.external_url,
      context.prometheus2 ? tmpl::Dialect::kPrometheus2 : tmpl::Dialect::kPrometheus3};
  return tmpl::ExpandAlertTemplate(rule_name, text, data, tmpl_query, failed);
}

util::Result<void> CheckRuleTemplate(std::string_view rule_name, std::string_view text,
                                     bool prometheus2) {
  return tmpl::ParseCheck(rule_name, text,
                          prometheus2 ? tmpl::Dialect::kPrometheus2 : tmpl::Dialect::kPrometheus3);
}

}  // namespace vigil::ruler
